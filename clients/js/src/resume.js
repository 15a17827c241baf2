// Bookkeeping for `resume` requests. One `resume` frame names many rooms and is answered
// once per room: `resumed {roomId}` for each room replayed, `error {id}` (without a room)
// for each refused. A batch is done when every room has answered; the rooms without a
// `resumed` are the refused ones, to be retried one per frame, where an error maps to its
// room. Pure bookkeeping: no sockets, no timers.

export class ResumeTracker {
  /** frame id → {rooms: Set, resumed: Set, codes: string[]} */
  #batches = new Map();

  start(id, roomIds) {
    this.#batches.set(id, { rooms: new Set(roomIds), resumed: new Set(), codes: [] });
  }

  has(id) {
    return this.#batches.has(id);
  }

  /** A `resumed` answer; returns the finished batch's outcome, or null while rooms are left. */
  resumed(id, roomId) {
    const batch = this.#batches.get(id);
    if (!batch) return null;
    batch.resumed.add(roomId);
    return this.#finishIfDone(id, batch);
  }

  /** An `error` answer to a resume; returns the outcome as `resumed` does. */
  refused(id, code) {
    const batch = this.#batches.get(id);
    if (!batch) return null;
    batch.codes.push(code);
    return this.#finishIfDone(id, batch);
  }

  /** Rooms still waiting for an answer, over every batch. */
  get waiting() {
    let rooms = 0;
    for (const batch of this.#batches.values()) rooms += batch.rooms.size - batch.resumed.size - batch.codes.length;
    return rooms;
  }

  /** Forgets every batch (the connection they were sent on is gone). */
  clear() {
    this.#batches.clear();
  }

  #finishIfDone(id, batch) {
    if (batch.resumed.size + batch.codes.length < batch.rooms.size) return null;
    this.#batches.delete(id);
    const refused = [...batch.rooms].filter((roomId) => !batch.resumed.has(roomId));
    return { refused, codes: batch.codes };
  }
}
