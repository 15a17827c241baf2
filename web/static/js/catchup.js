// Catching up after a reconnect: the resume sent at hello names several rooms, and the
// connection counts as back ("Online") only once every one of them has answered (`resumed`,
// or an error for it), or after a time limit, so that one slow room does not hold the
// page at "Reconnecting…" for ever. No DOM, no socket.

/** A resume not answered by then no longer holds the state at "Reconnecting…". */
const CATCH_UP_LIMIT_MS = 30_000;

export class CatchUp {
  constructor(onChange) {
    this.onChange = onChange;
    /** id of the resume sent at hello → how many rooms have not answered yet */
    this.waiting = new Map();
    this.timer = null;
  }

  get active() {
    return this.waiting.size > 0;
  }

  /** The resume with frame id `id` asked for `rooms` rooms. */
  start(id, rooms) {
    this.clear();
    this.waiting.set(id, rooms);
    this.timer = setTimeout(() => {
      this.waiting.clear();
      this.onChange();
    }, CATCH_UP_LIMIT_MS);
  }

  /** One room of the resume `id` has answered. */
  answered(id) {
    const left = this.waiting.get(id);
    if (left == null) return;
    if (left > 1) this.waiting.set(id, left - 1);
    else this.clear();
    this.onChange();
  }

  clear() {
    this.waiting.clear();
    clearTimeout(this.timer);
  }
}
