// Where the client is in each room it follows: the `seq` of the last event it passed on.
// Every live or replayed event is checked against it, so each event is passed on once and
// in order: one at or below the cursor is a repeat (a replay overlapping live delivery), one
// whose `prevSeq` is beyond the cursor means something was missed and the room must be
// resumed. Pure bookkeeping: no sockets, no timers.

export class RoomCursors {
  /** roomId → last seq passed on (null: not known yet, the room's first answer sets it) */
  #cursors = new Map();

  /** Starts following a room; a known position is kept unless `lastSeq` is given. */
  follow(roomId, lastSeq = null) {
    if (lastSeq != null || !this.#cursors.has(roomId)) this.#cursors.set(roomId, lastSeq);
  }

  unfollow(roomId) {
    this.#cursors.delete(roomId);
  }

  follows(roomId) {
    return this.#cursors.has(roomId);
  }

  /** The last seq passed on in a room, or null. */
  position(roomId) {
    return this.#cursors.get(roomId) ?? null;
  }

  /**
   * What to do with an event of `roomId` numbered `seq` whose predecessor is `prevSeq`:
   * 'apply' (the cursor moves to it), 'repeat', 'gap' (the cursor stays: resume from it)
   * or 'unfollowed'.
   */
  accept(roomId, seq, prevSeq) {
    if (!this.#cursors.has(roomId)) return 'unfollowed';
    const cursor = this.#cursors.get(roomId);
    if (cursor != null) {
      if (seq <= cursor) return 'repeat';
      if (prevSeq > cursor) return 'gap';
    }
    this.#cursors.set(roomId, seq);
    return 'apply';
  }

  /** The server says the room is at `lastSeq` (joined, resumed): an unknown cursor starts there. */
  reached(roomId, lastSeq) {
    if (!this.#cursors.has(roomId)) return;
    const cursor = this.#cursors.get(roomId);
    if (cursor == null) this.#cursors.set(roomId, lastSeq);
  }

  /** Too much was missed to replay (`recovered: false`): go on from the room's latest seq. */
  reset(roomId, lastSeq) {
    if (this.#cursors.has(roomId)) this.#cursors.set(roomId, lastSeq);
  }

  /** Followed rooms with a known position (to `resume`) and without one (to `join`). */
  split() {
    const resume = [];
    const join = [];
    for (const [roomId, lastSeq] of this.#cursors) {
      if (lastSeq == null) join.push(roomId);
      else resume.push({ roomId, lastSeq });
    }
    return { resume, join };
  }

  rooms() {
    return [...this.#cursors.keys()];
  }
}
