// Who is around: each user's presence (online, away, last seen) from `presence` frames;
// who is typing in which room from `typing` frames (shown for `expiresInMs`, ended early by
// their next message); and which users this connection already watches. No DOM.

import { dmPeer } from './format.js';

const WATCH_BATCH = 1000;

export class People {
  constructor(onChange) {
    this.onChange = onChange;
    /** userId → {status, lastSeen} */
    this.presence = new Map();
    /** roomId → Map(userId → timer) */
    this.typing = new Map();
    this.watched = new Set();
  }

  setPresence({ userId, status, lastSeen }) {
    this.presence.set(userId, { status, lastSeen });
    this.onChange();
  }

  startTyping({ roomId, userId, expiresInMs = 5000 }) {
    const timers = this.typing.get(roomId) ?? new Map();
    this.typing.set(roomId, timers);
    clearTimeout(timers.get(userId));
    timers.set(userId, setTimeout(() => this.stopTyping(roomId, userId), expiresInMs));
    this.onChange();
  }

  stopTyping(roomId, userId) {
    const timers = this.typing.get(roomId);
    if (!timers?.has(userId)) return;
    clearTimeout(timers.get(userId));
    timers.delete(userId);
    this.onChange();
  }

  typingIn(roomId) {
    return [...(this.typing.get(roomId)?.keys() ?? [])];
  }

  /**
   * Asks for the names and presence of everyone these rooms show: direct-message peers and
   * the known members. (The server sends a room's members on join, but not people who join
   * it later.)
   */
  watchRooms(rooms, { myId, conn, names }) {
    const candidates = [];
    for (const room of rooms) {
      const peer = room.kind === 'direct' ? dmPeer(room, myId) : null;
      if (peer) candidates.push(peer);
      candidates.push(...room.members);
    }
    const others = candidates.filter((u) => u !== myId);
    names.want(others);
    this.watch(others, conn);
  }

  /** Asks for these users' presence, now and live (each once per connection). */
  watch(userIds, conn) {
    if (conn.state !== 'open') return;
    const users = this.toWatch(userIds);
    for (let i = 0; i < users.length; i += WATCH_BATCH) {
      conn.request({ type: 'watch', userIds: users.slice(i, i + WATCH_BATCH) }).catch(() => {});
    }
  }

  /** Those of `users` not watched yet, now marked as watched. */
  toWatch(users) {
    const fresh = [...new Set(users)].filter((u) => !this.watched.has(u));
    for (const user of fresh) this.watched.add(user);
    return fresh;
  }

  /** A new connection watches nobody yet. */
  forgetWatches() {
    this.watched.clear();
  }

  stop() {
    for (const timers of this.typing.values()) for (const t of timers.values()) clearTimeout(t);
    this.typing.clear();
  }
}
