// How far this user has read each room, and how far the others have. The server keeps the
// read position when it can (GET /rooms entries carry `lastReadSeq` and `unreadCount`):
// then reading a room sends `read {roomId, seq}` (debounced, only while the page is visible
// and focused, so a tab left open on a room does not read for its owner), `readPosition`
// frames bring the user's reading on other devices, and `receipt` frames (and the member
// list's `lastReadSeq`) tell how far the others have read, for "Seen by". Against a server
// without it, read positions stay in this browser's localStorage and unread messages are
// counted from history, as before. No DOM beyond the page's visibility and focus.

import { loadReadPositions, saveReadPositions } from './session.js';

const SEND_AFTER_MS = 400;
const UNREAD_SCAN = 100;

export class ReadState {
  /** @param {{api, conn, userId: string, onChange: () => void, onQuiet: (e) => void}} deps */
  constructor(deps) {
    Object.assign(this, deps);
    /** Whether the server keeps read positions (seen in a GET /rooms or roomAdded entry). */
    this.serverSide = false;
    this.local = loadReadPositions(deps.userId);
    /** roomId → timer of a `read` waiting to go out */
    this.timers = new Map();
  }

  /** A GET /rooms (or roomAdded) entry for `room`: the server's read position and count. */
  fromListing(room, summary) {
    if (summary.unreadCount != null) {
      this.serverSide = true;
      room.setServerUnread(Number(summary.unreadCount), Number(summary.lastReadSeq ?? 0), Number(summary.lastSeq ?? 0));
    }
    room.readTo(this.local[room.id] ?? 0);
  }

  /** A new message from someone else; `reading`: the room is open in front of the user. */
  noteMessage(room, message, reading) {
    if (!reading) room.unreadSeqs.add(message.seq);
  }

  /** Whether the person is looking at this page now. */
  static pageInFront() {
    return document.visibilityState === 'visible' && document.hasFocus();
  }

  /** The open room is on screen: all of it counts as read, and the server is told. */
  seen(room) {
    if (!room || document.visibilityState !== 'visible') return;
    const seq = Math.max(room.lastSeq, room.activitySeq);
    room.readTo(seq);
    if ((this.local[room.id] ?? 0) < seq) {
      this.local[room.id] = seq;
      saveReadPositions(this.userId, this.local);
    }
    if (this.serverSide && ReadState.pageInFront() && seq > room.serverReadSeq) this.#schedule(room);
    this.onChange();
  }

  #schedule(room) {
    if (this.timers.has(room.id)) return;
    this.timers.set(room.id, setTimeout(() => {
      this.timers.delete(room.id);
      const seq = Math.max(room.lastSeq, room.activitySeq);
      if (seq <= room.serverReadSeq || !ReadState.pageInFront()) return;
      room.serverReadSeq = seq;
      this.#send(room.id, seq).catch((e) => {
        room.serverReadSeq = 0;
        this.onQuiet(e);
      });
    }, SEND_AFTER_MS));
  }

  async #send(roomId, seq) {
    if (this.conn.state === 'open') return this.conn.request({ type: 'read', roomId, seq });
    return this.api.markRead(roomId, seq);
  }

  /** `readPosition {roomId, lastReadSeq}`: this user read further on another device. */
  onReadPosition(room, lastReadSeq) {
    room.serverReadSeq = Math.max(room.serverReadSeq, Number(lastReadSeq) || 0);
    room.readTo(Number(lastReadSeq) || 0);
    this.onChange();
  }

  /** `receipt {roomId, userId, seq}`: another member has read up to `seq`. */
  onReceipt(room, userId, seq) {
    room.sawUpTo(userId, Number(seq) || 0);
    this.onChange();
  }

  /** Without server-side read state: counts unread messages from history (at most 100). */
  async countUnread(room, isActive) {
    if (this.serverSide) return;
    const since = this.local[room.id] ?? 0;
    if (room.activitySeq <= since || isActive()) return;
    try {
      const page = await this.api.getMessages(room.id, { afterSeq: since, limit: UNREAD_SCAN });
      if (isActive()) return;
      for (const m of page.messages) {
        if (m.senderId !== this.userId && !m.deleted && m.seq > room.readSeq) room.unreadSeqs.add(m.seq);
      }
      this.onChange();
    } catch (e) {
      this.onQuiet(e);
    }
  }

  stop() {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
