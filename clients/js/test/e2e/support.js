// What the SDK's end-to-end tests share: the real product (nats-server, Postgres and
// chat-server, started by the web tests' stack helper), users registered over HTTP, and a
// WebSocket implementation (the `ws` package, as a Node 20 user would pass it) whose
// sockets a test can cut, as a network failure would.
import WebSocket from 'ws';

export { startStack, registerUser, waitFor } from '../../../../web/tests/support/stack.js';

/** `ws`'s WebSocket, keeping every socket so a test can cut them (close code 1006). */
export class CuttableSocket extends WebSocket {
  static open = new Set();
  /** When set, called with each frame sent; returning true cuts the socket right after. */
  static cutAfter = null;
  /** Every frame sent, over all sockets. */
  static sent = [];

  constructor(...args) {
    super(...args);
    CuttableSocket.open.add(this);
    this.addEventListener('close', () => CuttableSocket.open.delete(this));
  }

  send(text) {
    super.send(text);
    const frame = JSON.parse(text);
    CuttableSocket.sent.push(frame);
    if (CuttableSocket.cutAfter?.(frame)) {
      CuttableSocket.cutAfter = null;
      this.terminate();
    }
  }

  /** Cuts every open socket, as a lost network would (no close handshake). */
  static cutAll() {
    for (const socket of CuttableSocket.open) socket.terminate();
  }
}

/** Collects a client's events of `type` (their details). */
export function collect(client, type) {
  const seen = [];
  client.addEventListener(type, (e) => seen.push(e.detail));
  return seen;
}

/** The `/ws` address of a stack. */
export function wsUrl(stack) {
  return `${stack.url.replace(/^http/, 'ws')}/ws`;
}
