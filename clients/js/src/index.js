// The chat platform's JavaScript client. Works in browsers and in Node 20+ (pass a
// WebSocket implementation such as the `ws` package's where there is no global one).
// Types: ../types/index.d.ts; the wire types are generated from the server's JSON Schemas.

export { ChatClient } from './client.js';
export { Connection } from './connection.js';
export { RoomCursors } from './cursors.js';
export { Outbox, newClientMsgId } from './outbox.js';
export { backoffDelay } from './backoff.js';
export { ClientClosed, ConnectionLost, FrameError, NotConnected } from './errors.js';
