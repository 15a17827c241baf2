// The chat engine: keeps one signed-in user's rooms in step with the server. Rooms and
// history come over HTTP; live events, sends, edits, deletes, typing and presence over the
// WebSocket. After a reconnect every room resumes from its cursor, and a gap seen live is
// repaired with a resume, so no message is lost or shown twice (the merge rules are in
// room.js; presence and typing in people.js). The connection counts as back ("open") only
// once hello has come and every room's resume is answered, so "Online" means up to date.
// Owns no DOM. Events: 'change' (anything shown may have changed), 'message' (a new message
// from someone else), 'error' (detail.message to show), 'signedout'.

import { Connection, ConnectionLost } from '../sdk/index.js';
import { Room, PAGE_SIZE } from './room.js';
import { dmPeer } from './format.js';
import { People } from './people.js';
import { loadOpenRoom, loadReadPositions, saveOpenRoom, saveReadPositions } from './session.js';

const ROOM_POLL_MS = 10_000;
const TYPING_EVERY_MS = 2_000;
const RESUME_RETRY_MS = 10_000;
const UNREAD_SCAN = 100;
const WATCH_BATCH = 1000;
/** A resume not answered by then no longer holds the state at "Reconnecting…". */
const CATCH_UP_LIMIT_MS = 30_000;
export const MAX_MESSAGE_CHARS = 4000;

export class ChatClient extends EventTarget {
  constructor(session, api) {
    super();
    this.me = { userId: session.userId, username: session.username };
    this.api = api;
    this.token = session.token;
    /** roomId → Room */
    this.rooms = new Map();
    this.people = new People(() => this.#changed());
    this.activeRoomId = null;
    this.read = loadReadPositions(session.userId);
    this.lastTypingSent = new Map();
    this.conn = new Connection({ token: this.token });
    /** The room to open once it is known (the one open before a reload). */
    this.wantedRoomId = loadOpenRoom(session.userId);
    /** roomId → when this client last left it (a room list read before that is stale). */
    this.leftAt = new Map();
    /** id of the resume sent at hello → how many rooms have not answered yet */
    this.catchingUp = new Map();
    this.catchUpTimer = null;
  }

  async start() {
    try {
      await this.refreshRooms();
    } catch (e) {
      if (e.status === 401) throw e;
      this.#error(e.message); // The socket's hello will list the rooms again.
    }
    this.conn.addEventListener('state', () => this.#changed());
    this.conn.addEventListener('hello', (e) => this.#onHello(e.detail));
    this.conn.addEventListener('frame', (e) => this.#onFrame(e.detail));
    this.conn.addEventListener('lost', (e) => this.#onLost(e.detail));
    this.conn.addEventListener('unauthenticated', () => this.#signedOut());
    this.conn.start();
    this.pollTimer = setInterval(() => this.refreshRooms().catch((e) => this.#quiet(e)), ROOM_POLL_MS);
  }

  stop() {
    clearInterval(this.pollTimer);
    clearTimeout(this.catchUpTimer);
    this.conn.stop();
    this.people.stop();
  }

  /** userId → {status, lastSeen} */
  get presence() {
    return this.people.presence;
  }

  /** The socket's state, except that a socket still resuming rooms is 'reconnecting'. */
  get connectionState() {
    if (this.conn.state === 'open' && this.catchingUp.size > 0) return 'reconnecting';
    return this.conn.state;
  }

  /** Connected again and waiting for the rooms' resumes. */
  get isCatchingUp() {
    return this.conn.state === 'open' && this.catchingUp.size > 0;
  }

  /** The browser reports no network. */
  get offline() {
    return this.conn.offline;
  }

  get retryAt() {
    return this.conn.retryAt;
  }

  retryNow() {
    this.conn.retryNow();
  }

  /** Most recently active first. */
  sortedRooms() {
    return [...this.rooms.values()].sort((a, b) => b.activitySeq - a.activitySeq);
  }

  activeRoom() {
    return this.rooms.get(this.activeRoomId) ?? null;
  }

  typingIn(roomId) {
    return this.people.typingIn(roomId);
  }

  /** Reads GET /rooms; new rooms are joined live, their DM peers watched, unread counted. */
  async refreshRooms() {
    const askedAt = performance.now();
    const summaries = await this.api.listRooms();
    const added = [];
    const listed = new Set();
    for (const summary of summaries) {
      listed.add(summary.roomId);
      // Left after this list was read: the list is stale for it.
      if ((this.leftAt.get(summary.roomId) ?? -1) >= askedAt) continue;
      const known = this.rooms.get(summary.roomId);
      if (known) known.update(summary);
      else {
        const room = new Room(summary);
        room.addedAt = performance.now();
        this.rooms.set(room.id, room);
        added.push(room);
      }
    }
    // Rooms left elsewhere (another browser, or while this one was offline).
    for (const room of [...this.rooms.values()]) {
      if (!listed.has(room.id) && room.addedAt < askedAt) this.#forgetRoom(room.id);
    }
    // The room open before a reload, once known; gone from the list, it is forgotten.
    const wanted = this.wantedRoomId;
    if (wanted && !this.activeRoomId) {
      if (this.rooms.has(wanted)) this.selectRoom(wanted);
      else this.wantedRoomId = null;
    }
    for (const room of added) {
      if (this.conn.state === 'open') this.#subscribe(room);
      this.#countUnread(room);
    }
    this.#watchPeople(added);
    this.#changed();
    return added;
  }

  selectRoom(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.activeRoomId = roomId;
    this.wantedRoomId = null;
    saveOpenRoom(this.me.userId, roomId);
    this.#markRead(room);
    if (!room.historyLoaded) this.loadHistory(room);
    this.#changed();
  }

  /** The latest page of a room's history. */
  async loadHistory(room) {
    if (room.loading) return;
    room.loading = true;
    this.#changed();
    try {
      const page = await this.api.getMessages(room.id, { limit: PAGE_SIZE });
      room.mergeHistory(page.messages);
      this.#settlePending(room);
      this.#watchPeople([room]);
    } catch (e) {
      this.#failed(e);
    } finally {
      room.loading = false;
      this.#changed();
    }
  }

  /** The page before the oldest message held (scroll-back). */
  async loadOlder(room) {
    const beforeSeq = room.oldestSeq();
    if (beforeSeq == null) return this.loadHistory(room);
    if (room.loading) return;
    room.loading = true;
    try {
      const page = await this.api.getMessages(room.id, { beforeSeq, limit: PAGE_SIZE });
      room.mergeHistory(page.messages);
      this.#watchPeople([room]);
    } catch (e) {
      this.#failed(e);
    } finally {
      room.loading = false;
      this.#changed();
    }
  }

  async createRoom(name, visibility) {
    const created = await this.api.createRoom(name, visibility);
    await this.refreshRooms();
    this.selectRoom(created.roomId);
    return created;
  }

  async joinRoom(roomId) {
    await this.api.joinRoom(roomId);
    await this.refreshRooms();
    this.selectRoom(roomId);
  }

  /** Leaves a group room (direct rooms cannot be left); it goes from the list at once. */
  async leaveRoom(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || room.kind === 'direct') return;
    await this.api.leaveRoom(roomId);
    this.#forgetRoom(roomId);
  }

  async openDirect(userId) {
    const opened = await this.api.openDirect(userId);
    await this.refreshRooms();
    this.selectRoom(opened.roomId);
    return opened;
  }

  /** Queues a message; it goes out now or as soon as the connection is back. */
  sendMessage(roomId, text) {
    const room = this.rooms.get(roomId);
    const message = text.trim();
    if (!room || !message) return false;
    if ([...message].length > MAX_MESSAGE_CHARS) {
      this.#error(`A message can be at most ${MAX_MESSAGE_CHARS} characters.`);
      return false;
    }
    // The same clientMsgId on a retry after a reconnect makes the server answer the original.
    const clientMsgId = `web-${randomHex(16)}`;
    room.pending.set(clientMsgId, { clientMsgId, text: message, state: 'queued', error: null });
    this.lastTypingSent.delete(roomId);
    this.#flushPending();
    this.#changed();
    return true;
  }

  retrySend(roomId, clientMsgId) {
    const pending = this.rooms.get(roomId)?.pending.get(clientMsgId);
    if (!pending) return;
    Object.assign(pending, { state: 'queued', error: null });
    this.#flushPending();
    this.#changed();
  }

  discardSend(roomId, clientMsgId) {
    this.rooms.get(roomId)?.pending.delete(clientMsgId);
    this.#changed();
  }

  async editMessage(roomId, messageId, text) {
    const message = text.trim();
    if (!message) throw new Error('A message cannot be empty. Delete it instead.');
    return this.#command({ type: 'edit', roomId, messageId, message });
  }

  async deleteMessage(roomId, messageId) {
    return this.#command({ type: 'delete', roomId, messageId });
  }

  /** Called on every keystroke in the composer; tells the room at most every 2 s. */
  typed(roomId) {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(roomId) ?? 0) < TYPING_EVERY_MS) return;
    if (this.conn.send({ type: 'typing', roomId })) this.lastTypingSent.set(roomId, now);
  }

  #onHello(hello) {
    // Rooms this client followed before resume from their cursors; the rest join.
    const resume = [];
    for (const room of this.rooms.values()) {
      if (room.subscribed) {
        room.resumingSince = Date.now();
        resume.push({ roomId: room.id, lastSeq: room.lastSeq });
      } else {
        this.#subscribe(room);
      }
    }
    this.catchingUp.clear();
    clearTimeout(this.catchUpTimer);
    if (resume.length) {
      const id = this.conn.id();
      if (this.conn.send({ type: 'resume', id, rooms: resume })) {
        this.catchingUp.set(id, resume.length);
        this.catchUpTimer = setTimeout(() => {
          this.catchingUp.clear();
          this.#changed();
        }, CATCH_UP_LIMIT_MS);
      }
    }
    if (hello.rooms.some((id) => !this.rooms.has(id))) this.refreshRooms().catch((e) => this.#quiet(e));
    this.people.forgetWatches();
    this.#watchPeople(this.rooms.values());
    this.#flushPending();
    this.#changed();
  }

  #subscribe(room) {
    room.subscribed = true;
    // With lastSeq the join replays what happened since GET /rooms read the room.
    if (room.lastSeq) room.resumingSince = Date.now();
    this.conn
      .request({ type: 'join', roomId: room.id, lastSeq: room.lastSeq || undefined })
      .then((joined) => {
        if (!room.lastSeq) room.lastSeq = joined.lastSeq;
        room.resumingSince = 0;
      })
      .catch((e) => {
        if (e instanceof ConnectionLost) return; // the next hello resumes it
        room.subscribed = false;
        this.#error(e.message);
      });
  }

  #onFrame(frame) {
    switch (frame.type) {
      case 'event':
        return this.#onEvent(frame);
      case 'resumed':
        this.#caughtUp(frame.id);
        return this.#onResumed(frame);
      case 'presence':
        return this.people.setPresence(frame);
      case 'roomPresence': {
        const room = this.rooms.get(frame.roomId);
        if (room) Object.assign(room, { memberCount: frame.members, onlineCount: frame.online });
        return this.#changed();
      }
      case 'typing':
        if (frame.userId !== this.me.userId) this.people.startTyping(frame);
        return undefined;
      case 'error':
        this.#caughtUp(frame.id);
        // A resume for a room left elsewhere is not the user's concern.
        if (frame.code !== 'not_a_member') this.#error(frame.message);
        return undefined;
      default:
        return undefined; // acks of watch/resume, pongs
    }
  }

  #onEvent(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room) return;
    const outcome = room.applyEvent(frame, this.me.userId);
    if (outcome.result === 'gap') {
      this.#resume(room);
      return;
    }
    if (outcome.result !== 'applied') return;
    if (outcome.type === 'member.left' && frame.event.data?.userId === this.me.userId) {
      this.#forgetRoom(room.id); // left in another tab or device
      return;
    }
    if (outcome.type === 'member.joined' || outcome.type === 'message.posted') this.#watchPeople([room]);
    const active = room.id === this.activeRoomId;
    const message = outcome.message;
    if (message) {
      this.people.stopTyping(room.id, message.senderId);
      if (message.senderId !== this.me.userId) {
        if (!active) room.unreadSeqs.add(message.seq);
        this.dispatchEvent(new CustomEvent('message', { detail: { room, message } }));
      }
    }
    if (active) this.#markRead(room);
    this.#changed();
  }

  /** Asks the server to replay a room from its cursor (after a gap). */
  #resume(room) {
    if (room.resumingSince && Date.now() - room.resumingSince < RESUME_RETRY_MS) return;
    room.resumingSince = Date.now();
    this.conn.send({ type: 'resume', id: this.conn.id(), rooms: [{ roomId: room.id, lastSeq: room.lastSeq }] });
  }

  #onResumed(frame) {
    const room = this.rooms.get(frame.roomId);
    if (!room) return;
    room.resumingSince = 0;
    if (!frame.recovered) {
      // Too much was missed to replay: history from the api has all of it.
      room.reset(frame.lastSeq);
      if (room.id === this.activeRoomId) this.loadHistory(room);
      else this.#countUnread(room);
    }
    this.#changed();
  }

  #onLost({ greeted, attempt }) {
    this.catchingUp.clear();
    clearTimeout(this.catchUpTimer);
    // Failing before hello again and again may be an expired token (401 at the upgrade,
    // which a browser cannot see): the api says so plainly.
    if (!greeted && attempt % 3 === 0) this.refreshRooms().catch((e) => this.#quiet(e));
  }

  /**
   * Asks for the presence of everyone this client shows: direct-message peers and the
   * known members of its rooms. (The server sends a room's members on join, but not
   * people who join it later.)
   */
  #watchPeople(rooms) {
    if (this.conn.state !== 'open') return;
    const candidates = [];
    for (const room of rooms) {
      const peer = room.kind === 'direct' ? dmPeer(room, this.me.userId) : null;
      if (peer) candidates.push(peer);
      candidates.push(...room.members);
    }
    const users = this.people.toWatch(candidates.filter((u) => u !== this.me.userId));
    for (let i = 0; i < users.length; i += WATCH_BATCH) {
      this.conn.request({ type: 'watch', userIds: users.slice(i, i + WATCH_BATCH) }).catch(() => {});
    }
  }

  #flushPending() {
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
            this.#settlePending(room);
          })
          .catch((e) => {
            if (e instanceof ConnectionLost) pending.state = 'queued';
            else {
              Object.assign(pending, { state: 'failed', error: e.message });
              this.#error(e.message);
            }
          })
          .finally(() => this.#changed());
      }
    }
  }

  /** Drops pending entries whose message is now shown (e.g. from history). */
  #settlePending(room) {
    for (const [id, pending] of room.pending) {
      if (pending.messageId && room.messages.has(pending.messageId)) room.pending.delete(id);
    }
  }

  async #countUnread(room) {
    const since = this.read[room.id] ?? 0;
    if (room.activitySeq <= since || room.id === this.activeRoomId) return;
    try {
      const page = await this.api.getMessages(room.id, { afterSeq: since, limit: UNREAD_SCAN });
      if (room.id === this.activeRoomId) return;
      const readTo = this.read[room.id] ?? 0;
      for (const m of page.messages) {
        if (m.senderId !== this.me.userId && !m.deleted && m.seq > readTo) room.unreadSeqs.add(m.seq);
      }
      this.#changed();
    } catch (e) {
      this.#quiet(e);
    }
  }

  #markRead(room) {
    room.unreadSeqs.clear();
    const seq = Math.max(room.lastSeq, room.activitySeq);
    if ((this.read[room.id] ?? 0) < seq) {
      this.read[room.id] = seq;
      saveReadPositions(this.me.userId, this.read);
    }
  }

  async #command(frame) {
    if (this.conn.state !== 'open') {
      throw new Error('Not connected to the server. Try again when the connection is back.');
    }
    return this.conn.request(frame);
  }

  /** One room of the reconnect's resume has answered (`resumed`, or an error for it). */
  #caughtUp(id) {
    const left = this.catchingUp.get(id);
    if (left == null) return;
    if (left > 1) this.catchingUp.set(id, left - 1);
    else {
      this.catchingUp.delete(id);
      clearTimeout(this.catchUpTimer);
    }
    this.#changed();
  }

  /** Drops a room this user is no longer in. */
  #forgetRoom(roomId) {
    if (!this.rooms.delete(roomId)) return;
    this.leftAt.set(roomId, performance.now());
    if (this.activeRoomId === roomId) {
      this.activeRoomId = null;
      saveOpenRoom(this.me.userId, null);
    }
    this.#changed();
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }

  #error(message) {
    this.dispatchEvent(new CustomEvent('error', { detail: { message } }));
  }

  #signedOut() {
    this.dispatchEvent(new CustomEvent('signedout', { detail: { message: 'Your session has ended. Please sign in again.' } }));
  }

  /** Background work reports only a sign-out; other failures retry on their own. */
  #quiet(e) {
    if (e?.status === 401) this.#signedOut();
  }

  #failed(e) {
    if (e?.status === 401) this.#signedOut();
    else this.#error(e.message);
  }
}

function randomHex(bytes) {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
