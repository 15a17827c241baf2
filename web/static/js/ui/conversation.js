// The conversation pane: the room header (title, id to share, presence of the people in
// it), the message list with scroll-back, own messages' Edit and Delete, messages still on
// their way out, reactions under each message (reactions.js), and the typing line. People show by name with an avatar; a name or avatar
// opens the person's card ("Message", see person-card.js). Web addresses in messages are links (links.js).
// Message nodes are kept per id and updated in place, so the aria-live log announces only
// what is new.

import { byId, el } from '../dom.js';
import {
  clockTime, dmPeer, fullTime, personName, presenceText, roomTitle, userLabel,
} from '../format.js';
import { linkNodes } from '../links.js';
import { avatar } from './avatar.js';
import { reactionBar, reactionsKey } from './reactions.js';
import { copy } from './sidebar.js';

const SCROLL_SLACK_PX = 60;

export function mountConversation(ctx) {
  const pane = byId('messages');
  const list = byId('message-list');
  const older = byId('load-older');
  /** key ('m:<messageId>' or 'p:<clientMsgId>') → {node, version} */
  let nodes = new Map();
  let shownRoom = null;
  let shownFor = null;
  /** messageId being edited → its form, kept across renders */
  const editing = new Map();
  let headerKey = null;

  older.addEventListener('click', () => loadOlder());
  pane.addEventListener('scroll', () => {
    const room = ctx.chat?.activeRoom();
    if (pane.scrollTop < SCROLL_SLACK_PX && room?.hasOlder && !room.loading) loadOlder();
  });

  async function loadOlder() {
    const room = ctx.chat?.activeRoom();
    if (!room) return;
    const fromBottom = pane.scrollHeight - pane.scrollTop;
    await ctx.chat.loadOlder(room);
    render();
    // Keep the message the reader was looking at where it was.
    pane.scrollTop = pane.scrollHeight - fromBottom;
  }

  function render() {
    const chat = ctx.chat;
    if (!chat) return;
    if (shownFor !== chat) {
      shownFor = chat;
      shownRoom = undefined;
    }
    const room = chat.activeRoom();
    const switched = room?.id !== shownRoom;
    if (switched) {
      shownRoom = room?.id;
      nodes = new Map();
      editing.clear();
      list.replaceChildren();
    }
    renderHeader(chat, room);
    byId('composer').hidden = !room;
    if (!room) {
      older.hidden = true;
      byId('messages-empty').hidden = true;
      byId('typing').textContent = '';
      return;
    }
    const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < SCROLL_SLACK_PX;
    const added = renderMessages(chat, room, switched);
    older.hidden = !room.hasOlder;
    older.disabled = room.loading;
    byId('messages-empty').hidden = !room.historyLoaded || room.messages.size > 0 || room.pending.size > 0;
    renderTyping(chat, room);
    if (switched || (added.some((m) => m.mine) || atBottom)) pane.scrollTop = pane.scrollHeight;
  }

  /** Rebuilds the header only when what it shows changed (keeps focus on its button). */
  function renderHeader(chat, room) {
    const peerOf = room?.kind === 'direct' ? dmPeer(room, chat.me.userId) : null;
    const key = JSON.stringify([chat.me.userId, chat.rooms.size > 0, room?.id, room?.name, room?.memberCount,
      room?.onlineCount, room ? [...room.members].map((u) => [u, presenceText(chat.presence.get(u)), personName(u, chat.names)]) : null,
      peerOf ? [presenceText(chat.presence.get(peerOf)), chat.names.get(peerOf)] : null]);
    if (key === headerKey) return;
    headerKey = key;
    const title = byId('room-title');
    const meta = byId('room-meta');
    const people = byId('room-people');
    if (!room) {
      title.textContent = chat.rooms.size ? 'Select a room' : 'Welcome';
      meta.replaceChildren(chat.rooms.size ? '' : 'Look someone up by name to start a conversation, or create a room.');
      people.replaceChildren();
      return;
    }
    title.textContent = roomTitle(room, chat.me, chat.names);
    const peer = room.kind === 'direct' ? dmPeer(room, chat.me.userId) : null;
    if (peer) {
      const presence = chat.presence.get(peer);
      const username = chat.names.get(peer)?.username;
      meta.replaceChildren(
        el('span', { class: 'dot', dataset: { status: presence?.status ?? 'offline' } }),
        el('span', { class: 'presence-text', text: presenceText(presence) }),
        username ? el('span', { class: 'username', text: `· @${username}` }) : el('span', { text: '· direct message' }),
      );
      people.replaceChildren();
      return;
    }
    const copyButton = el('button', { type: 'button', class: 'link-button', text: 'Copy id' });
    copyButton.addEventListener('click', () => copy(room.id, copyButton));
    const kind = room.visibility === 'private' ? 'Private room' : 'Public room';
    const online = room.onlineCount != null ? ` · ${room.onlineCount} online` : '';
    meta.replaceChildren(
      el('span', { text: `${kind} · ${room.memberCount} member${room.memberCount === 1 ? '' : 's'}${online}` }),
      el('span', { class: 'id-part' }, '· id ', el('code', { text: room.id })),
      copyButton,
    );
    const others = [...room.members].filter((u) => u !== chat.me.userId).slice(0, 8);
    people.replaceChildren(...others.map((u) => {
      const presence = chat.presence.get(u);
      const open = el('button', { type: 'button', class: 'person', title: presenceText(presence), dataset: { userId: u }, onclick: () => ctx.showPerson?.(u) },
        el('span', { class: 'dot', dataset: { status: presence?.status ?? 'offline' } }),
        el('span', { text: userLabel(u, chat.me, chat.names) }),
        el('span', { class: 'visually-hidden', text: `, ${presenceText(presence)}` }));
      return el('li', {}, open);
    }));
  }

  /** Brings the list in line with the room; returns what was added. */
  function renderMessages(chat, room, bulk) {
    const wanted = [
      ...room.list().map((m) => ({ key: `m:${m.messageId}`, message: m, mine: m.senderId === chat.me.userId })),
      ...[...room.pending.values()].map((p) => ({ key: `p:${p.clientMsgId}`, pending: p, mine: true })),
    ];
    if (bulk) list.setAttribute('aria-busy', 'true');
    const added = [];
    const keep = new Set(wanted.map((w) => w.key));
    for (const [key, { node }] of nodes) {
      if (!keep.has(key)) {
        node.remove();
        nodes.delete(key);
      }
    }
    let cursor = list.firstElementChild;
    for (const w of wanted) {
      const version = versionOf(chat, w);
      let entry = nodes.get(w.key);
      if (!entry) {
        entry = { node: el('li'), version: null };
        nodes.set(w.key, entry);
        added.push(w);
      }
      if (entry.version !== version && !editing.has(w.message?.messageId)) {
        fill(chat, room, entry.node, w);
        entry.version = version;
      }
      if (entry.node !== cursor) list.insertBefore(entry.node, cursor);
      else cursor = cursor.nextElementSibling;
    }
    if (bulk) list.setAttribute('aria-busy', 'false');
    return added;
  }

  function versionOf(chat, w) {
    const status = chat.presence.get(w.message?.senderId)?.status ?? '';
    if (w.pending) return `${w.pending.state}|${w.pending.error}|${chat.connectionState}|${chat.me.displayName}`;
    const m = w.message;
    return `${m.text}|${m.editedAt}|${m.deleted}|${status}|${userLabel(m.senderId, chat.me, chat.names)}|${reactionsKey(m)}`;
  }

  /** (Re)builds one message's node. */
  function fill(chat, room, node, w) {
    const m = w.message ?? { senderId: chat.me.userId, text: w.pending.text, timestamp: null };
    const sender = m.senderId;
    const presence = chat.presence.get(sender);
    node.className = ['message', w.mine && 'mine', m.deleted && 'deleted', w.pending && 'pending',
      w.pending?.state === 'failed' && 'failed'].filter(Boolean).join(' ');
    node.dataset.seq = m.seq ?? '';
    node.dataset.messageId = m.messageId ?? '';
    const name = userLabel(sender, chat.me, chat.names);
    const face = avatar(sender, w.mine ? chat.me.displayName : name);
    // The avatar is a mouse shortcut; the name is the button for everyone.
    if (!w.mine) {
      face.append(el('span', { class: 'dot', dataset: { status: presence?.status ?? 'offline' } }));
      face.classList.add('clickable');
      face.addEventListener('click', () => ctx.showPerson?.(sender));
    }
    const meta = el('div', { class: 'meta' },
      w.mine
        ? el('span', { class: 'sender', text: name })
        : el('button', { type: 'button', class: 'sender', text: name, 'aria-label': `${name}: open profile`, onclick: () => ctx.showPerson?.(sender) }),
      m.timestamp ? el('time', { datetime: m.timestamp, title: fullTime(m.timestamp), text: clockTime(m.timestamp) }) : null,
      m.editedAt && !m.deleted ? el('span', { class: 'edited', title: fullTime(m.editedAt), text: '(edited)' }) : null,
      w.pending ? el('span', { class: 'state', text: pendingText(chat, w.pending) }) : null);
    // Web addresses become links, built as nodes (links.js); the rest stays plain text.
    const text = el('p', { class: 'text' }, ...(m.deleted ? ['This message was deleted.'] : linkNodes(m.text)));
    // Focusable, so that a tap on a phone (no hover) shows the reaction button too.
    const bubble = el('div', { class: 'bubble', tabindex: '-1' }, meta, text);
    if (w.pending?.state === 'failed') bubble.append(failedActions(chat, room, w.pending));
    if (w.message && !m.deleted) bubble.append(reactionBar(chat, room, m, ctx.showError));
    node.replaceChildren(face, bubble);
    if (w.mine && w.message && !m.deleted) node.append(ownActions(chat, room, node, m));
  }

  function pendingText(chat, p) {
    if (p.state === 'failed') return `Not sent: ${p.error}`;
    if (chat.connectionState !== 'open' && p.state === 'queued') return 'Waiting for connection…';
    return p.state === 'sent' ? 'Sent' : 'Sending…';
  }

  function failedActions(chat, room, p) {
    return el('div', { class: 'msg-actions' },
      el('button', { type: 'button', text: 'Retry', onclick: () => chat.retrySend(room.id, p.clientMsgId) }),
      el('button', { type: 'button', text: 'Discard', onclick: () => chat.discardSend(room.id, p.clientMsgId) }));
  }

  function ownActions(chat, room, node, m) {
    const edit = el('button', { type: 'button', text: 'Edit', 'aria-label': 'Edit this message' });
    const del = el('button', { type: 'button', text: 'Delete', 'aria-label': 'Delete this message' });
    edit.addEventListener('click', () => startEdit(chat, room, node, m));
    let armed = null;
    del.addEventListener('click', async () => {
      if (!armed) {
        // A second click within a few seconds confirms; no modal dialog needed.
        del.textContent = 'Confirm delete';
        del.setAttribute('aria-label', 'Press again to delete this message');
        armed = setTimeout(() => {
          armed = null;
          del.textContent = 'Delete';
          del.setAttribute('aria-label', 'Delete this message');
        }, 4000);
        return;
      }
      clearTimeout(armed);
      del.disabled = true;
      try {
        await chat.deleteMessage(room.id, m.messageId);
      } catch (e) {
        ctx.showError(e.message);
        del.disabled = false;
      }
    });
    return el('div', { class: 'msg-actions' }, edit, del);
  }

  function startEdit(chat, room, node, m) {
    const input = el('textarea', { rows: '2', maxlength: '4000', 'aria-label': 'Edit message' });
    input.value = m.text;
    const save = el('button', { type: 'submit', class: 'primary', text: 'Save' });
    const cancel = el('button', { type: 'button', text: 'Cancel' });
    const form = el('form', { class: 'edit-form' }, input, el('div', { class: 'row' }, save, cancel));
    const stop = () => {
      editing.delete(m.messageId);
      const entry = nodes.get(`m:${m.messageId}`);
      if (entry) entry.version = null;
      render();
      node.querySelector('.msg-actions button')?.focus();
    };
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        if (input.value.trim() !== m.text) await chat.editMessage(room.id, m.messageId, input.value);
        stop();
      } catch (e) {
        ctx.showError(e.message);
        save.disabled = false;
      }
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      } else if (event.key === 'Escape') {
        stop();
      }
    });
    cancel.addEventListener('click', stop);
    editing.set(m.messageId, form);
    node.querySelector('.text').replaceWith(form);
    node.querySelector('.msg-actions')?.remove();
    input.focus();
  }

  function renderTyping(chat, room) {
    const who = chat.typingIn(room.id).map((u) => userLabel(u, chat.me, chat.names));
    const line = byId('typing');
    let text = '';
    if (who.length === 1) text = `${who[0]} is typing…`;
    else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
    else if (who.length > 2) text = 'Several people are typing…';
    if (line.textContent !== text) line.textContent = text;
  }

  return { render };
}
