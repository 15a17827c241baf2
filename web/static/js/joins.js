// Making rooms live on the socket without tripping the gateway's per-user frame limit
// (20 frames/s, burst 40; a client that keeps going is closed with 4029). Anyone can add a
// user to hundreds of rooms, and each one arrives as a `roomAdded` or a listed room, so
// rooms are not subscribed one frame each: they wait here and go out as `resume` frames
// of up to BATCH rooms from each room's `lastSeq` (the rooms in the list are rooms the
// user is a member of, so `resume` is enough and replays nothing already known). At most
// MAX_IN_FLIGHT frames are unanswered and they leave at least GAP_MS apart, which keeps
// this well under the limit and leaves room for sends, typing and read frames. A frame
// answered `rate_limited` puts its rooms back after `retryAfterMs` (at least MIN_RETRY_MS).
// A lost connection drops everything: the next hello queues every room again.
// No DOM. The answers (`resumed`, `error`) reach ChatClient's frame handler as before; it
// passes them on here so a batch knows when it is done.

export const BATCH = 100;
const MAX_IN_FLIGHT = 2;
const GAP_MS = 250;
const MIN_RETRY_MS = 500;
/** A batch not fully answered by then no longer holds a place in flight. */
const ANSWER_LIMIT_MS = 30_000;

export class JoinQueue {
  /**
   * @param {object} o
   * @param {import('../sdk/index.js').Connection} o.conn
   * @param {(roomIds: string[]) => object[]} o.positions the rooms' `{roomId, lastSeq}`,
   *   most wanted first; rooms no longer known are left out
   * @param {(roomIds: string[]) => void} o.onSettled these rooms have been answered or given up
   */
  constructor({ conn, positions, onSettled }) {
    this.conn = conn;
    this.positions = positions;
    this.onSettled = onSettled;
    /** roomIds waiting to go out */
    this.waiting = new Set();
    /** frame id → {rooms: Set of unanswered roomIds, errors, size, timer} */
    this.inFlight = new Map();
    this.lastSentAt = 0;
    this.timer = null;
    this.retryTimers = new Set();
  }

  /** Queues rooms to be made live. */
  add(roomIds) {
    for (const id of roomIds) this.waiting.add(id);
    this.#schedule(0);
  }

  /** A `resumed` frame: true when it answers one of this queue's frames. */
  resumed(frame) {
    const batch = this.inFlight.get(frame.id);
    if (!batch) return false;
    batch.rooms.delete(frame.roomId);
    this.onSettled([frame.roomId]);
    this.#maybeDone(frame.id, batch);
    return true;
  }

  /** An `error` frame: true when it answers one of this queue's frames (then it is handled). */
  failed(frame) {
    const batch = this.inFlight.get(frame.id);
    if (!batch) return false;
    if (frame.code === 'rate_limited') {
      // The whole frame was refused: none of its rooms was acted on.
      const rooms = [...batch.rooms];
      this.#finish(frame.id, batch, false);
      const retry = setTimeout(() => {
        this.retryTimers.delete(retry);
        this.add(rooms);
      }, Math.max(Number(frame.retryAfterMs) || 0, MIN_RETRY_MS));
      this.retryTimers.add(retry);
      return true;
    }
    // One room refused (not a member any more, say): the server names no room, but it
    // answers the rooms in order, so the count tells when the batch is done.
    batch.errors += 1;
    this.#maybeDone(frame.id, batch);
    return true;
  }

  /** The connection is gone: nothing sent is coming back, and the next hello starts over. */
  clear() {
    clearTimeout(this.timer);
    this.timer = null;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    const dropped = [...this.waiting];
    for (const batch of this.inFlight.values()) {
      clearTimeout(batch.timer);
      dropped.push(...batch.rooms);
    }
    this.inFlight.clear();
    this.waiting.clear();
    if (dropped.length) this.onSettled(dropped);
  }

  #maybeDone(id, batch) {
    if (batch.rooms.size === 0 || batch.size - batch.rooms.size + batch.errors >= batch.size) this.#finish(id, batch, true);
  }

  #finish(id, batch, settle) {
    clearTimeout(batch.timer);
    this.inFlight.delete(id);
    if (settle && batch.rooms.size) this.onSettled([...batch.rooms]);
    this.#schedule(0);
  }

  #schedule(delay) {
    if (this.timer || !this.waiting.size) return;
    const wait = Math.max(delay, this.lastSentAt + GAP_MS - performance.now(), 0);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.#pump();
    }, wait);
  }

  #pump() {
    if (this.conn.state !== 'open' || this.inFlight.size >= MAX_IN_FLIGHT || !this.waiting.size) return;
    const all = this.positions([...this.waiting]);
    const known = new Set(all.map((r) => r.roomId));
    // Rooms gone from the list meanwhile are not asked for.
    const gone = [...this.waiting].filter((id) => !known.has(id));
    const rooms = all.slice(0, BATCH);
    this.waiting = new Set(all.slice(BATCH).map((r) => r.roomId));
    if (gone.length) this.onSettled(gone);
    if (rooms.length) {
      const id = this.conn.id();
      if (!this.conn.send({ type: 'resume', id, rooms })) {
        for (const r of rooms) this.waiting.add(r.roomId);
        return; // not connected: the next hello queues them again
      }
      this.lastSentAt = performance.now();
      const batch = { rooms: new Set(rooms.map((r) => r.roomId)), errors: 0, size: rooms.length, timer: null };
      batch.timer = setTimeout(() => this.#finish(id, batch, true), ANSWER_LIMIT_MS);
      this.inFlight.set(id, batch);
    }
    this.#schedule(GAP_MS);
  }
}
