// Who is who: userId → {displayName, username}, so that a person shows by name wherever
// they appear. Names come for free where the server sends them (`senderName` in history,
// `profile` frames, search results); for the rest (live messages, presence, typing, members)
// the ids asked for are collected and fetched with GET /users?ids= in batches of at most
// 100, once per id, never one request per message. A 429 waits for Retry-After. No DOM.

const BATCH = 100;
/** Ids asked for within this window go out in one request. */
const GATHER_MS = 30;
const RETRY_MS = 2_000;

export class Names {
  constructor(api, onChange) {
    this.api = api;
    this.onChange = onChange;
    /** userId → {displayName, username?} */
    this.known = new Map();
    /** ids to fetch, and ids fetched or being fetched (not asked again) */
    this.queue = new Set();
    this.asked = new Set();
    this.timer = null;
    this.stopped = false;
  }

  /** A name from the server (senderName, a profile frame, a directory answer). */
  learn(userId, displayName, username) {
    if (!userId || !displayName) return;
    const before = this.known.get(userId);
    if (before?.displayName === displayName && (!username || before.username === username)) return;
    this.known.set(userId, { displayName, username: username ?? before?.username });
    this.asked.add(userId);
    this.onChange();
  }

  /** Directory entries ({userId, username, displayName}). */
  learnAll(people) {
    for (const p of people) this.learn(p.userId, p.displayName || p.username, p.username);
  }

  /** Makes sure these people's names get fetched (unless known or on their way). */
  want(userIds) {
    for (const id of userIds) {
      if (id && !this.asked.has(id)) this.queue.add(id);
    }
    if (this.queue.size && !this.timer) this.timer = setTimeout(() => this.#flush(), GATHER_MS);
  }

  /** After a reconnect renames may have been missed: every known name is fetched again. */
  refreshAll() {
    const ids = [...this.known.keys()];
    for (const id of ids) this.asked.delete(id);
    this.want(ids);
  }

  get(userId) {
    return this.known.get(userId) ?? null;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async #flush() {
    this.timer = null;
    if (this.stopped) return;
    const ids = [...this.queue].slice(0, BATCH);
    for (const id of ids) {
      this.queue.delete(id);
      this.asked.add(id);
    }
    try {
      this.learnAll(await this.api.getUsers(ids));
    } catch (e) {
      // Rate limited or briefly unreachable: ask again later; a 4xx other than 429 is final.
      if (e.status === 429 || e.status === 0 || e.status >= 500) {
        for (const id of ids) {
          this.asked.delete(id);
          this.queue.add(id);
        }
        this.timer = setTimeout(() => this.#flush(), Math.max(e.retryAfterMs || 0, RETRY_MS));
        return;
      }
    }
    if (this.queue.size && !this.timer) this.timer = setTimeout(() => this.#flush(), GATHER_MS);
  }
}
