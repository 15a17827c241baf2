// Messages on their way out: each is queued in its room with a clientMsgId, goes out over
// the socket now or as soon as it is back, and stays shown ("Sending…", "Sent", or "Not
// sent" with Retry and Discard) until the message itself is in the room. The same
// clientMsgId on a retry after a reconnect makes the server answer the original, so a
// message is stored once however often it is sent. No DOM.

import { ConnectionLost } from '../sdk/index.js';

export const MAX_MESSAGE_CHARS = 4000;

export class Outgoing {
  /** @param {{conn, rooms: Map, onChange: () => void, onError: (message: string) => void}} deps */
  constructor(deps) {
    Object.assign(this, deps);
  }

  /** Queues `text` in the room; false (and an error shown) when it cannot be sent. */
  add(room, text) {
    const message = text.trim();
    if (!room || !message) return false;
    if ([...message].length > MAX_MESSAGE_CHARS) {
      this.onError(`A message can be at most ${MAX_MESSAGE_CHARS} characters.`);
      return false;
    }
    const clientMsgId = `web-${randomHex(16)}`;
    room.pending.set(clientMsgId, { clientMsgId, text: message, state: 'queued', error: null });
    this.flush();
    this.onChange();
    return true;
  }

  retry(room, clientMsgId) {
    const pending = room?.pending.get(clientMsgId);
    if (!pending) return;
    Object.assign(pending, { state: 'queued', error: null });
    this.flush();
    this.onChange();
  }

  discard(room, clientMsgId) {
    room?.pending.delete(clientMsgId);
    this.onChange();
  }

  /** Sends every queued message (when connected). */
  flush() {
    if (this.conn.state !== 'open') return;
    for (const room of this.rooms.values()) {
      for (const pending of room.pending.values()) {
        if (pending.state !== 'queued') continue;
        pending.state = 'sending';
        const frame = { type: 'send', roomId: room.id, message: pending.text, clientMsgId: pending.clientMsgId };
        this.conn
          .request(frame)
          .then((ack) => {
            pending.messageId = ack.messageId;
            if (pending.state === 'sending') pending.state = 'sent';
            Outgoing.settle(room);
          })
          .catch((e) => {
            if (e instanceof ConnectionLost) pending.state = 'queued';
            else {
              Object.assign(pending, { state: 'failed', error: e.message });
              this.onError(e.message);
            }
          })
          .finally(() => this.onChange());
      }
    }
  }

  /** Drops pending entries whose message is now shown (e.g. from history). */
  static settle(room) {
    for (const [id, pending] of room.pending) {
      if (pending.messageId && room.messages.has(pending.messageId)) room.pending.delete(id);
    }
  }
}

function randomHex(bytes) {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
