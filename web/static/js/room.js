// One room as the client holds it: its messages (keyed by id, shown in seq order), the
// stream cursor `lastSeq` that `resume` starts from, messages on their way out, and unread
// seqs. These rules make live events, replays after a reconnect and history pages merge
// into one list where every message appears exactly once:
//   - an event at or below the cursor was already seen: ignored;
//   - an event whose prevSeq is past the cursor means something was missed: reported as a
//     gap (the caller resumes) and not applied, so the cursor never skips an event;
//   - a history page adds only messages not yet held (live state is never older);
//   - an edit or delete for a message not yet loaded is kept and applied when it loads;
//   - a reaction event changes the held message's `reactions` ([{emoji, count, me}] as
//     history gives them): `actor` gives or takes back `emoji`. One for a message not yet
//     loaded is dropped: the history page that loads it is read after it and has it.
// It also holds the room's read state: how far this user has read (`readSeq`), the unread
// count the server gave with the room list, and how far each other member has read.
// No DOM and no I/O, so it can be tested on its own (web/tests/room.test.js).

export const PAGE_SIZE = 50;

export class Room {
  constructor(summary) {
    this.id = summary.roomId;
    /** The stream position this client has seen in this room (its resume cursor). */
    this.lastSeq = Number(summary.lastSeq ?? 0);
    /** True once a connection has joined the room: later connections resume it. */
    this.subscribed = false;
    /** When a resume for this room was asked for (0: none outstanding). */
    this.resumingSince = 0;
    this.messages = new Map();
    this.orphans = new Map();
    /** clientMsgId → {clientMsgId, text, state: 'queued'|'sending'|'sent'|'failed', error} */
    this.pending = new Map();
    /** seqs of messages from others that arrived live (unread unless at or below readSeq) */
    this.unreadSeqs = new Set();
    /** How far this user has read (any device, as far as this client knows). */
    this.readSeq = 0;
    /** The furthest read position the server is known to hold. */
    this.serverReadSeq = 0;
    /** The server's unread count at the time of the room list, for seqs up to baseSeq. */
    this.baseUnread = 0;
    this.baseSeq = 0;
    /** userId → the seq that member has read up to (receipts). */
    this.readers = new Map();
    this.members = new Set();
    this.historyLoaded = false;
    this.hasOlder = false;
    this.loading = false;
    this.sorted = null;
    this.update(summary);
  }

  /** Name, kind and the rest from a GET /rooms entry; the cursor stays the client's own. */
  update(summary) {
    this.name = summary.name ?? this.name ?? '';
    this.kind = summary.kind ?? this.kind ?? 'group';
    this.peerId = summary.peerId ?? this.peerId ?? null;
    this.visibility = summary.visibility ?? this.visibility ?? 'public';
    this.memberCount = summary.memberCount ?? this.memberCount ?? 0;
    this.activitySeq = Math.max(Number(summary.lastSeq ?? 0), this.activitySeq ?? 0);
    if (summary.createdBy) this.members.add(summary.createdBy);
  }

  get unread() {
    let count = this.readSeq >= this.baseSeq ? 0 : this.baseUnread;
    for (const seq of this.unreadSeqs) if (seq > this.readSeq && seq > this.baseSeq) count += 1;
    return count;
  }

  /** The server's `unreadCount` and `lastReadSeq` for this room, as of its `lastSeq`. */
  setServerUnread(unreadCount, lastReadSeq, lastSeq) {
    this.baseUnread = unreadCount;
    this.baseSeq = Math.max(lastSeq, lastReadSeq);
    this.serverReadSeq = Math.max(this.serverReadSeq, lastReadSeq);
    this.readSeq = Math.max(this.readSeq, lastReadSeq);
  }

  /** This user has read up to `seq` (never moves back). */
  readTo(seq) {
    this.readSeq = Math.max(this.readSeq, seq);
    for (const s of this.unreadSeqs) if (s <= this.readSeq) this.unreadSeqs.delete(s);
  }

  /** Another member has read up to `seq` (never moves back). */
  sawUpTo(userId, seq) {
    if (seq > (this.readers.get(userId) ?? 0)) this.readers.set(userId, seq);
  }

  /** Members other than `exclude` who have read the message at `seq`. */
  seenBy(seq, exclude) {
    return [...this.readers].filter(([user, upTo]) => upTo >= seq && !exclude.includes(user)).map(([user]) => user);
  }

  /**
   * Applies an `event` frame. Returns {result: 'applied' | 'duplicate' | 'gap', type,
   * message?}; `message` is set for a newly posted message.
   */
  applyEvent(frame, myId) {
    const type = frame.event?.type;
    if (frame.seq <= this.lastSeq) return { result: 'duplicate', type };
    if (this.lastSeq > 0 && frame.prevSeq > this.lastSeq) return { result: 'gap', type };
    this.lastSeq = frame.seq;
    this.activitySeq = Math.max(this.activitySeq, frame.seq);
    const { actor, data = {}, occurredAt } = frame.event;
    switch (type) {
      case 'message.posted': {
        this.members.add(actor);
        if (actor === myId && data.clientMsgId) this.pending.delete(data.clientMsgId);
        if (this.messages.has(data.messageId)) return { result: 'duplicate', type };
        const message = this.#insert({
          messageId: data.messageId,
          seq: frame.seq,
          senderId: actor,
          text: data.message,
          timestamp: occurredAt,
          editedAt: null,
          deleted: false,
          reactions: [],
        });
        return { result: 'applied', type, message };
      }
      case 'message.edited':
        this.#change(data.messageId, { text: data.message, editedAt: occurredAt });
        break;
      case 'message.deleted':
        this.#change(data.messageId, { deleted: true });
        break;
      case 'reaction.added':
      case 'reaction.removed':
        this.#react(data.messageId, data.emoji, type === 'reaction.added', actor === myId);
        break;
      case 'member.joined':
        this.members.add(data.userId);
        this.memberCount += 1;
        break;
      case 'member.left':
        this.members.delete(data.userId);
        this.memberCount = Math.max(0, this.memberCount - 1);
        break;
      case 'room.created':
        this.members.add(actor);
        for (const m of data.members ?? []) this.members.add(m);
        if (data.name) this.name = data.name;
        break;
      default:
        break;
    }
    return { result: 'applied', type };
  }

  /** Merges a GET /getMessages page (oldest first): the latest page or a beforeSeq page. */
  mergeHistory(messages, limit = PAGE_SIZE) {
    for (const m of messages) {
      this.members.add(m.senderId);
      if (this.messages.has(m.messageId)) continue;
      this.#insert({
        messageId: m.messageId,
        seq: Number(m.seq),
        senderId: m.senderId,
        text: m.message,
        timestamp: m.timestamp,
        editedAt: m.editedAt ?? null,
        deleted: Boolean(m.deleted),
        reactions: (m.reactions ?? []).map((r) => ({ ...r })),
      });
    }
    // A full page may have more before it; a short one reached the room's start.
    this.hasOlder = messages.length >= limit;
    this.historyLoaded = true;
  }

  /** Forgets all messages, after a resume that could not recover; history reloads them. */
  reset(lastSeq) {
    this.messages.clear();
    this.orphans.clear();
    this.sorted = null;
    this.historyLoaded = false;
    this.hasOlder = false;
    this.lastSeq = Math.max(this.lastSeq, Number(lastSeq) || 0);
  }

  /** The messages in seq order. */
  list() {
    this.sorted ??= [...this.messages.values()].sort((a, b) => a.seq - b.seq);
    return this.sorted;
  }

  oldestSeq() {
    return this.list()[0]?.seq ?? null;
  }

  #insert(message) {
    const orphan = this.orphans.get(message.messageId);
    if (orphan) {
      Object.assign(message, orphan, { deleted: message.deleted || Boolean(orphan.deleted) });
      this.orphans.delete(message.messageId);
    }
    this.messages.set(message.messageId, message);
    this.sorted = null;
    return message;
  }

  /** `emoji` given (`add`) or taken back on a held message, by me (`mine`) or another. */
  #react(messageId, emoji, add, mine) {
    const target = this.messages.get(messageId);
    if (!target || target.deleted) return;
    const list = target.reactions ?? [];
    let entry = list.find((r) => r.emoji === emoji);
    // My own reaction is known exactly: a repeat changes nothing.
    if (mine && Boolean(entry?.me) === add) return;
    if (add) {
      if (!entry) {
        entry = { emoji, count: 0, me: false };
        list.push(entry);
      }
      entry.count += 1;
      if (mine) entry.me = true;
    } else if (entry) {
      entry.count -= 1;
      if (mine) entry.me = false;
    }
    target.reactions = list.filter((r) => r.count > 0);
    this.sorted = null;
  }

  #change(messageId, change) {
    const target = this.messages.get(messageId);
    if (target) {
      // A deleted message stays deleted whatever edit is replayed after it.
      Object.assign(target, change, { deleted: target.deleted || Boolean(change.deleted) });
      this.sorted = null;
    } else {
      const prior = this.orphans.get(messageId) ?? {};
      this.orphans.set(messageId, { ...prior, ...change, deleted: prior.deleted || Boolean(change.deleted) });
    }
  }
}
