// Socket.IO 4.8 peer for ops/bench: rooms, no persistence, WebSocket transport only,
// compression off (as this product). It answers the events of this product's /socket.io/
// endpoint with the same payloads, so that chat-load drives both with one client code
// path and the two compare exactly (see docs/BENCHMARKS.md):
//   on connection        emit 'hello' {protocol, userId, connectionId, heartbeatMs, idleTimeoutMs, rooms}
//   'join' {roomId}      ack {type:'joined', roomId, lastSeq}
//   'send' {roomId, message, clientMsgId?}
//                        emit 'event' {roomId, seq, prevSeq, event} to the room (sender included,
//                        as this product does), event being the stored envelope of
//                        'message.posted'; ack {type:'ack', seq, messageId, timestamp}
//   anything else        ack {type:'error', code, message} (or emit 'error' without an ack)
// seq counts across rooms, as this product's does; prevSeq is the room's previous seq.
// Usage: node server.js PORT
'use strict';
const { createServer } = require('node:http');
const { randomUUID } = require('node:crypto');
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

let seq = 0;
const lastSeq = new Map(); // roomId -> seq of its last event
let connections = 0;

function answer(socket, ack, frame) {
  if (typeof ack === 'function') ack(frame);
  else if (frame.type === 'error') socket.emit('error', { code: frame.code, message: frame.message });
}

function invalid(message) {
  return { type: 'error', code: 'invalid_frame', message };
}

io.on('connection', (socket) => {
  // No accounts here: every connection is its own user.
  const userId = randomUUID();
  connections += 1;
  socket.emit('hello', {
    protocol: 1,
    userId,
    connectionId: `${userId}-${connections}`,
    heartbeatMs: 25000,
    idleTimeoutMs: 45000,
    rooms: [],
  });
  socket.on('join', (req, ack) => {
    if (!req || typeof req.roomId !== 'string') return answer(socket, ack, invalid('join needs a roomId'));
    socket.join(req.roomId);
    answer(socket, ack, { type: 'joined', roomId: req.roomId, lastSeq: lastSeq.get(req.roomId) || 0 });
  });
  socket.on('send', (req, ack) => {
    if (!req || typeof req.roomId !== 'string' || typeof req.message !== 'string') {
      return answer(socket, ack, invalid('send needs a roomId and a message'));
    }
    const { roomId, message } = req;
    seq += 1;
    const prevSeq = lastSeq.get(roomId) || 0;
    lastSeq.set(roomId, seq);
    const messageId = randomUUID();
    const occurredAt = new Date().toISOString();
    const data = { messageId, message, clientTimestamp: null };
    if (typeof req.clientMsgId === 'string') data.clientMsgId = req.clientMsgId;
    io.to(roomId).emit('event', {
      roomId,
      seq,
      prevSeq,
      event: { eventId: randomUUID(), type: 'message.posted', data, v: 1, occurredAt, actor: userId, roomId },
    });
    answer(socket, ack, { type: 'ack', seq, messageId, timestamp: occurredAt });
  });
  socket.onAny((name, ...args) => {
    if (name === 'join' || name === 'send') return;
    const ack = args[args.length - 1];
    answer(socket, ack, { type: 'error', code: 'unknown_type', message: `unknown event ${name}` });
  });
});
httpServer.listen(port, '127.0.0.1', () => {
  console.log(`socket.io ${require('socket.io/package.json').version} listening on 127.0.0.1:${httpServer.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
