// Bun peer for ops/bench: Bun's built-in WebSocket pub/sub (uWebSockets underneath),
// compression off. `{"t":"join","room"}` subscribes and answers `{"t":"joined"}`;
// `{"t":"send","room","text"}` publishes the text to every subscriber of the room,
// the sender included (server.publish, as this product delivers to the sender too).
// Usage: bun server.js PORT
const port = Number(process.argv[2] || process.env.PORT || 0);
const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('bun peer\n');
  },
  websocket: {
    perMessageDeflate: false,
    // Idle connections must survive a hold longer than the default 120 s.
    idleTimeout: 960,
    message(ws, data) {
      let m;
      try {
        m = JSON.parse(data);
      } catch {
        return;
      }
      if (m.t === 'join' && typeof m.room === 'string') {
        ws.subscribe(m.room);
        ws.send('{"t":"joined"}');
      } else if (m.t === 'send' && typeof m.room === 'string') {
        server.publish(m.room, String(m.text));
      }
    },
  },
});
console.log(`bun ${Bun.version} listening on 127.0.0.1:${server.port}`);
process.on('SIGTERM', () => process.exit(0));
