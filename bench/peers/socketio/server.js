// Socket.IO 4.8 peer for ops/bench: rooms, no persistence, WebSocket transport only,
// compression off (as this product). `join` joins a room and acks; `send` broadcasts the
// text to the room (sender included, as this product does) and acks.
// Usage: node server.js PORT
'use strict';
const { createServer } = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || process.env.PORT || 0);
const httpServer = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('socket.io peer\n');
});
const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 64 * 1024,
});
io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    socket.join(String(room));
    if (typeof ack === 'function') ack(true);
  });
  socket.on('send', (msg, ack) => {
    if (msg && typeof msg.room === 'string') io.to(msg.room).emit('msg', String(msg.text));
    if (typeof ack === 'function') ack(1);
  });
});
httpServer.listen(port, '127.0.0.1', () => {
  console.log(`socket.io ${require('socket.io/package.json').version} listening on 127.0.0.1:${httpServer.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
