// The errors the SDK rejects promises with. Each has a stable `code`, like the server's
// error frames, so callers can branch on it without parsing messages.

/** The connection went away before the request was answered (it may or may not have run). */
export class ConnectionLost extends Error {
  constructor() {
    super('The connection to the server was lost.');
    this.name = 'ConnectionLost';
    this.code = 'connection_lost';
  }
}

/** The server refused the request: `code` and `message` are the server's `error` frame's. */
export class FrameError extends Error {
  constructor(frame) {
    super(frame.message);
    this.name = 'FrameError';
    this.code = frame.code;
    this.frame = frame;
  }
}

/** A request that needs a live connection was made while there is none. */
export class NotConnected extends Error {
  constructor() {
    super('Not connected to the server; try again when the connection is back.');
    this.name = 'NotConnected';
    this.code = 'not_connected';
  }
}

/** The client was closed (`close()`) while the request waited. */
export class ClientClosed extends Error {
  constructor() {
    super('The client was closed.');
    this.name = 'ClientClosed';
    this.code = 'client_closed';
  }
}
