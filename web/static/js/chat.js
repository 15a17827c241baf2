// The chat engine: keeps one signed-in user's rooms in step with the server. Rooms and
// history come over HTTP; live events, sends, edits, deletes, typing and presence over the
// WebSocket. After a reconnect every room resumes from its cursor, and a gap seen live is
// repaired with a resume, so no message is lost or shown twice (the merge rules are in
// room.js; presence and typing in people.js; names in names.js; read state in reading.js).
// The room list is read once per (re)connect and kept current by the inbox frames
// `roomAdded` and `roomRemoved`, not by polling. The connection counts as back ("open") only
// once hello has come and every room's resume is answered, so "Online" means up to date.
// Rooms become live through a paced queue of batched `resume` frames (joins.js), so being
// added to hundreds of rooms cannot trip the gateway's frame limit.
// Owns no DOM. Events: 'change' (anything shown may have changed), 'message' (a new message
// from someone else), 'error' (detail.message to show), 'signedout'.

import { Connection } from '../sdk/index.js';
import { MAX_MESSAGE_CHARS, Outgoing } from './outgoing.js';
import { Room, PAGE_SIZE } from './room.js';
import { People } from './people.js';
import { Names } from './names.js';
import { ReadState } from './reading.js';
import { loadMembers } from './members.js';
import { CatchUp } from './catchup.js';
import { JoinQueue } from './joins.js';
import { detectFeatures } from './features.js';
import { loadOpenRoom, saveOpenRoom } from './session.js';

const TYPING_EVERY_MS = 2_000;
const RESUME_RETRY_MS = 10_000;
export { MAX_MESSAGE_CHARS };

export class ChatClient extends EventTarget {
  constructor(session, api) {
    super();
    this.me = { userId: session.userId, username: session.username, displayName: session.username };
    this.api = api;
    this.token = session.token;
    /** roomId → Room */
    this.rooms = new Map();
    this.people = new People(() => this.#changed());
    this.names = new Names(api, () => this.#changed());
    this.activeRoomId = null;
    this.lastTypingSent = new Map();
    this.conn = new Connection({ token: this.token });
    this.reading = new ReadState({
      api, conn: this.conn, userId: session.userId, onChange: () => this.#changed(), onQuiet: (e) => this.#quiet(e),
    });
    this.outgoing = new Outgoing({
      conn: this.conn, rooms: this.rooms, onChange: () => this.#changed(), onError: (m) => this.#error(m),
    });
    /** Server features this page can use: true, false (route missing) or null (not known yet). */
    this.features = { members: null, publicRooms: null };
    this.greetings = 0;
    // Coming back to the page reads the open room.
    this.onFront = () => this.reading.seen(this.activeRoom());
    /** The room to open once it is known (the one open before a reload). */
    this.wantedRoomId = loadOpenRoom(session.userId);
    /** roomId → when this client last left it (a room list read before that is stale). */
    this.leftAt = new Map();
    this.catchUp = new CatchUp(() => this.#changed());
    this.joins = new JoinQueue({
      conn: this.conn,
      positions: (ids) => this.#positions(ids),
      onSettled: (ids) => this.catchUp.settled(ids),
    });
  }

  /** The rooms' resume positions, the open room first, then direct rooms, then the busiest. */
  #positions(roomIds) {
    const rank = (room) => (room.id === this.activeRoomId ? 2 : room.kind === 'direct' ? 1 : 0);
    return roomIds
      .map((id) => this.rooms.get(id))
      .filter(Boolean)
      .sort((a, b) => rank(b) - rank(a) || b.activitySeq - a.activitySeq)
      .map((room) => ({ roomId: room.id, lastSeq: room.lastSeq }));
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
    document.addEventListener('visibilitychange', this.onFront);
    window.addEventListener('focus', this.onFront);
    this.loadMe();
    this.features = await detectFeatures(this.api);
    const room = this.activeRoom();
    if (room && this.features.members) this.loadMembers(room).catch((e) => this.#quiet(e));
    this.#changed();
  }

  stop() {
    this.joins.clear();
    this.catchUp.clear();
    document.removeEventListener('visibilitychange', this.onFront);
    window.removeEventListener('focus', this.onFront);
    this.conn.stop();
    this.people.stop();
    this.names.stop();
    this.reading.stop();
  }

  /** The signed-in user's own profile (display name). */
  async loadMe() {
    try {
      this.#setMe(await this.api.getMe());
    } catch (e) {
      this.#quiet(e);
    }
  }

  /** Renames the signed-in user; rejects with the server's message for a bad name. */
  async rename(displayName) {
    this.#setMe(await this.api.updateMe(displayName));
  }

  #setMe(profile) {
    this.me.displayName = profile.displayName || profile.username;
    this.names.learn(profile.userId, this.me.displayName, profile.username);
    this.#changed();
  }

  /** userId → {status, lastSeen} */
  get presence() {
    return this.people.presence;
  }

  /** The socket's state, except that a socket still resuming rooms is 'reconnecting'. */
  get connectionState() {
    if (this.conn.state === 'open' && this.catchUp.active) return 'reconnecting';
    return this.conn.state;
  }

  /** Connected again and waiting for the rooms' resumes. */
  get isCatchingUp() {
    return this.conn.state === 'open' && this.catchUp.active;
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
      if (known) {
        this.#learnPeer(summary);
        known.update(summary);
        this.reading.fromListing(known, summary);
      } else added.push(this.#addRoom(summary));
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
    this.#follow(added);
    this.#changed();
    return added;
  }

  #addRoom(summary) {
    this.#learnPeer(summary);
    const room = new Room(summary);
    room.addedAt = performance.now();
    this.rooms.set(room.id, room);
    this.reading.fromListing(room, summary);
    return room;
  }

  /** A direct room's entry names its other person (`peerName`): no lookup needed for them. */
  #learnPeer(summary) {
    if (summary.kind === 'direct' && summary.peerId && summary.peerName) this.names.learn(summary.peerId, summary.peerName);
  }

  /** Joins newly listed rooms live, watches their people, counts their unread. */
  #follow(rooms) {
    if (this.conn.state === 'open') this.#subscribe(rooms);
    for (const room of rooms) {
      this.reading.countUnread(room, () => room.id === this.activeRoomId);
    }
    this.#watchPeople(rooms);
  }

  /** `roomAdded {room}`: this user became a member (a DM opened, added, joined elsewhere). */
  #onRoomAdded(summary) {
    if (!summary?.roomId) return;
    this.leftAt.delete(summary.roomId);
    const known = this.rooms.get(summary.roomId);
    if (known) {
      this.#learnPeer(summary);
      known.update(summary);
      this.reading.fromListing(known, summary);
    } else {
      this.#follow([this.#addRoom(summary)]);
      if (this.wantedRoomId === summary.roomId && !this.activeRoomId) this.selectRoom(summary.roomId);
    }
    this.#changed();
  }

  selectRoom(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.activeRoomId = roomId;
    this.wantedRoomId = null;
    saveOpenRoom(this.me.userId, roomId);
    this.reading.seen(room);
    if (!room.historyLoaded) this.loadHistory(room);
    // The members' read positions give "Seen by" before any receipt comes.
    if (this.features.members && !room.membersLoaded) this.loadMembers(room).catch((e) => this.#quiet(e));
    this.#changed();
  }

  /**
   * The room's members with names, presence and read positions (GET /rooms/{id}/members),
   * or null where the server has no such route; feeds names and "Seen by".
   */
  async loadMembers(room) {
    const members = await loadMembers(this, room);
    this.#changed();
    return members;
  }

  /** The latest page of a room's history. */
  async loadHistory(room) {
    if (room.loading) return;
    room.loading = true;
    this.#changed();
    try {
      const page = await this.api.getMessages(room.id, { limit: PAGE_SIZE });
      this.#learnSenders(page.messages);
      room.mergeHistory(page.messages);
      Outgoing.settle(room);
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
      this.#learnSenders(page.messages);
      room.mergeHistory(page.messages);
      this.#watchPeople([room]);
    } catch (e) {
      this.#failed(e);
    } finally {
      room.loading = false;
      this.#changed();
    }
  }

  /** History carries each sender's current name: no lookup needed for them. */
  #learnSenders(messages) {
    for (const m of messages) this.names.learn(m.senderId, m.senderName);
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
    this.lastTypingSent.delete(roomId);
    return this.outgoing.add(this.rooms.get(roomId), text);
  }

  retrySend(roomId, clientMsgId) {
    this.outgoing.retry(this.rooms.get(roomId), clientMsgId);
  }

  discardSend(roomId, clientMsgId) {
    this.outgoing.discard(this.rooms.get(roomId), clientMsgId);
  }

  async editMessage(roomId, messageId, text) {
    const message = text.trim();
    if (!message) throw new Error('A message cannot be empty. Delete it instead.');
    return this.#command({ type: 'edit', roomId, messageId, message });
  }

  async deleteMessage(roomId, messageId) {
    return this.#command({ type: 'delete', roomId, messageId });
  }

  /** Gives (`add`) or takes back my reaction `emoji`; the room's event updates the count. */
  async react(roomId, messageId, emoji, add) {
    return this.#command({ type: 'react', roomId, messageId, emoji, add });
  }

  /** Called on every keystroke in the composer; tells the room at most every 2 s. */
  typed(roomId) {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(roomId) ?? 0) < TYPING_EVERY_MS) return;
    if (this.conn.send({ type: 'typing', roomId })) this.lastTypingSent.set(roomId, now);
  }

  #onHello(hello) {
    // Rooms this client followed before resume from their cursors, and "Online" waits for
    // them; the rest are made live too, from the listing's lastSeq.
    this.joins.clear();
    this.catchUp.start([...this.rooms.values()].filter((r) => r.subscribed).map((r) => r.id));
    this.#subscribe(this.rooms.values());
    // Whatever changed while there was no connection (rooms added, removed, read elsewhere)
    // is in the room list; from now on the inbox frames keep it current.
    this.refreshRooms().catch((e) => this.#quiet(e));
    this.greetings += 1;
    if (this.greetings > 1) this.names.refreshAll();
    this.people.forgetWatches();
    this.#watchPeople(this.rooms.values());
    this.outgoing.flush();
    this.#changed();
  }

  /** Makes rooms live on the socket: queued, paced and batched (see joins.js). */
  #subscribe(rooms) {
    const ids = [];
    for (const room of rooms) {
      room.subscribed = true;
      // Resuming: a gap seen meanwhile needs no resume of its own.
      room.resumingSince = Date.now();
      ids.push(room.id);
    }
    this.joins.add(ids);
  }

  #onFrame(frame) {
    switch (frame.type) {
      case 'event':
        return this.#onEvent(frame);
      case 'resumed':
        this.joins.resumed(frame);
        return this.#onResumed(frame);
      case 'presence':
        this.names.want([frame.userId]);
        return this.people.setPresence(frame);
      case 'roomAdded':
        return this.#onRoomAdded(frame.room);
      case 'roomRemoved':
        return this.#forgetRoom(frame.roomId);
      case 'profile':
        if (frame.userId === this.me.userId) this.me.displayName = frame.displayName;
        return this.names.learn(frame.userId, frame.displayName);
      case 'readPosition': {
        const room = this.rooms.get(frame.roomId);
        return room ? this.reading.onReadPosition(room, frame.lastReadSeq) : undefined;
      }
      case 'receipt': {
        const room = this.rooms.get(frame.roomId);
        return room && frame.userId !== this.me.userId ? this.reading.onReceipt(room, frame.userId, frame.seq) : undefined;
      }
      case 'roomPresence': {
        const room = this.rooms.get(frame.roomId);
        if (room) Object.assign(room, { memberCount: frame.members, onlineCount: frame.online });
        return this.#changed();
      }
      case 'typing':
        if (frame.userId === this.me.userId) return undefined;
        this.names.want([frame.userId]);
        return this.people.startTyping(frame);
      case 'error':
        // A refused resume is sent again by the queue, and a resume for a room left
        // elsewhere is not the user's concern.
        if (this.joins.failed(frame) && frame.code === 'rate_limited') return undefined;
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
    const reading = room.id === this.activeRoomId && document.visibilityState === 'visible';
    const message = outcome.message;
    if (message) {
      this.people.stopTyping(room.id, message.senderId);
      if (message.senderId !== this.me.userId) {
        this.reading.noteMessage(room, message, reading);
        this.dispatchEvent(new CustomEvent('message', { detail: { room, message } }));
      }
    }
    if (reading) this.reading.seen(room);
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
      else this.reading.countUnread(room, () => room.id === this.activeRoomId);
    }
    this.#changed();
  }

  #onLost({ greeted, attempt }) {
    this.joins.clear();
    this.catchUp.clear();
    // Failing before hello again and again may be an expired token (401 at the upgrade,
    // which a browser cannot see): the api says so plainly.
    if (!greeted && attempt % 3 === 0) this.refreshRooms().catch((e) => this.#quiet(e));
  }

  /** Presence of someone shown outside any room (a search result, a person's card). */
  watchUser(userId) {
    if (userId !== this.me.userId) this.people.watch([userId], this.conn);
  }

  /** Names and presence of everyone these rooms show (see People.watchRooms). */
  #watchPeople(rooms) {
    this.people.watchRooms(rooms, { myId: this.me.userId, conn: this.conn, names: this.names });
  }

  async #command(frame) {
    if (this.conn.state !== 'open') {
      throw new Error('Not connected to the server. Try again when the connection is back.');
    }
    return this.conn.request(frame);
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
