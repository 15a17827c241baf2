// Catching up after a reconnect: the rooms this client followed before resume (in paced
// batches, see joins.js), and the connection counts as back ("Online") only once every one
// of them has been answered (`resumed`, or an error for its batch), or after a time limit,
// so that one slow room does not hold the page at "Reconnecting…" for ever. No DOM, no socket.

/** Rooms not answered by then no longer hold the state at "Reconnecting…". */
const CATCH_UP_LIMIT_MS = 30_000;

export class CatchUp {
  constructor(onChange) {
    this.onChange = onChange;
    /** roomIds resumed at hello that have not been answered yet */
    this.waiting = new Set();
    this.timer = null;
  }

  get active() {
    return this.waiting.size > 0;
  }

  /** These rooms are resuming after a hello. */
  start(roomIds) {
    this.clear();
    for (const id of roomIds) this.waiting.add(id);
    if (!this.waiting.size) return;
    this.timer = setTimeout(() => {
      this.waiting.clear();
      this.onChange();
    }, CATCH_UP_LIMIT_MS);
  }

  /** These rooms have been answered (or given up). */
  settled(roomIds) {
    if (!this.waiting.size) return;
    for (const id of roomIds) this.waiting.delete(id);
    if (!this.waiting.size) this.clear();
    this.onChange();
  }

  clear() {
    this.waiting.clear();
    clearTimeout(this.timer);
  }
}
