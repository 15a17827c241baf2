// Messages on their way: each has a `clientMsgId` chosen once, so sending it again after a
// reconnect (when nobody knows whether the first attempt was stored) makes the server
// answer with the original instead of storing it twice. An entry leaves the outbox when
// its ack arrives or the server refuses it; a lost connection puts it back in the queue.

/** A fresh idempotency key (the server takes 1–64 printable ASCII bytes). */
export function newClientMsgId() {
  return `sdk-${globalThis.crypto.randomUUID()}`;
}

export class Outbox {
  /** clientMsgId → entry; insertion order is the order they are sent in */
  #entries = new Map();

  /**
   * Queues a message; the returned promise settles with its ack or its refusal.
   * The same clientMsgId twice is one entry (and one promise).
   */
  add(roomId, message, clientMsgId = newClientMsgId()) {
    const known = this.#entries.get(clientMsgId);
    if (known) return known;
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry = { roomId, message, clientMsgId, state: 'queued', promise, resolve, reject };
    this.#entries.set(clientMsgId, entry);
    return entry;
  }

  /** Entries waiting to go out, oldest first; each is marked as sending. */
  takeQueued() {
    const out = [];
    for (const entry of this.#entries.values()) {
      if (entry.state !== 'queued') continue;
      entry.state = 'sending';
      out.push(entry);
    }
    return out;
  }

  /** The connection went away before the answer: send it again later, same key. */
  requeue(entry) {
    if (this.#entries.get(entry.clientMsgId) === entry) entry.state = 'queued';
  }

  settle(entry, ack) {
    if (!this.#entries.delete(entry.clientMsgId)) return;
    entry.resolve(ack);
  }

  fail(entry, error) {
    if (!this.#entries.delete(entry.clientMsgId)) return;
    entry.reject(error);
  }

  /** Fails every entry (the client is closing); returns how many there were. */
  failAll(error) {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) entry.reject(error);
    return entries.length;
  }

  /** Entries not yet acknowledged: {roomId, message, clientMsgId, state}. */
  list() {
    return [...this.#entries.values()].map(({ roomId, message, clientMsgId, state }) => ({
      roomId,
      message,
      clientMsgId,
      state,
    }));
  }

  get size() {
    return this.#entries.size;
  }
}
