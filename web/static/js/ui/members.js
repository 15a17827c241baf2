// The member list of the open room ("Members" in its header): each member's avatar, name,
// @username, presence and how far they have read; a name opens their card. In a group room
// "Add people" searches the directory and adds the chosen person (POST
// /rooms/{roomId}/members), private rooms included. Both need the server's member routes;
// without them the list shows the members this page knows of, and adding is hidden.

import { byId, el } from '../dom.js';
import { personName, presenceText, userLabel } from '../format.js';
import { avatar } from './avatar.js';
import { mountPeopleSearch } from './people-search.js';

export function mountMembers(ctx) {
  const dialog = byId('members-dialog');
  const button = byId('members-open');
  const list = byId('members-list');
  const status = byId('members-status');
  let roomId = null;
  /** The last answer of GET /rooms/{id}/members for the open dialog, or null. */
  let members = null;
  let shownKey = null;

  const add = mountPeopleSearch({
    input: 'add-query',
    status: 'add-status',
    results: 'add-results',
    chat: () => ctx.chat,
    actionText: 'Add',
    disabledWhy: (person) => (ctx.chat?.rooms.get(roomId)?.members.has(person.userId) ? 'Member' : null),
    act: async (person, pressed) => {
      const chat = ctx.chat;
      await chat.api.addMembers(roomId, [person.userId]);
      pressed.textContent = 'Added';
      byId('add-status').textContent = `${person.displayName || person.username} was added.`;
      chat.rooms.get(roomId)?.members.add(person.userId);
      await load();
    },
  });

  button.addEventListener('click', () => {
    const room = ctx.chat?.activeRoom();
    if (!room) return;
    roomId = room.id;
    members = null;
    add.reset();
    render();
    dialog.showModal();
    load();
  });
  byId('members-close').addEventListener('click', () => dialog.close());

  async function load() {
    const chat = ctx.chat;
    const room = chat?.rooms.get(roomId);
    if (!room) return;
    status.textContent = 'Loading…';
    try {
      members = await chat.loadMembers(room);
      status.textContent = members ? '' : 'Only the members seen in this conversation are shown.';
    } catch (e) {
      status.textContent = e.message;
    }
    render();
  }

  function readText(room, member) {
    if (member.lastReadSeq == null) return '';
    const seq = Number(member.lastReadSeq);
    // Measured against the last message (joins and renames are nothing to read); with no
    // message yet there is nothing to say.
    const last = room.historyLoaded ? room.list().filter((m) => !m.deleted).at(-1)?.seq : Math.max(room.lastSeq, room.activitySeq);
    if (!last) return '';
    if (seq >= last) return 'up to date';
    return seq > 0 ? 'has unread messages' : 'has not read yet';
  }

  function row(chat, room, member) {
    const name = personName(member.userId, chat.names);
    const presence = chat.presence.get(member.userId);
    // How far one has read oneself goes without saying.
    const read = member.userId === chat.me.userId ? '' : readText(room, member);
    const who = el('button', { type: 'button', class: 'result-name link-like', text: userLabel(member.userId, chat.me, chat.names) });
    who.addEventListener('click', () => ctx.showPerson?.(member.userId));
    const username = chat.names.get(member.userId)?.username;
    return el('li', { class: 'result', dataset: { userId: member.userId } },
      avatar(member.userId, name),
      el('span', { class: 'result-text' }, who,
        el('span', { class: 'result-sub' },
          el('span', { class: 'dot', dataset: { status: presence?.status ?? 'offline' } }),
          ` ${[username ? `@${username}` : null, presenceText(presence), read].filter(Boolean).join(' · ')}`)));
  }

  function render() {
    const chat = ctx.chat;
    const active = chat?.activeRoom();
    // A direct conversation has two members and takes no one else.
    button.hidden = !active || active.kind === 'direct';
    if (!dialog.open || !chat) return;
    const room = chat.rooms.get(roomId);
    if (!room) {
      dialog.close();
      return;
    }
    byId('members-title').textContent = `Members of ${room.kind === 'direct' ? 'this conversation' : room.name || room.id}`;
    const entries = members ?? [...new Set([chat.me.userId, ...room.members])].map((userId) => ({ userId }));
    // Rebuilt only when something shown changed, so focus stays where it is.
    const key = JSON.stringify(entries.map((m) => [m.userId, m.lastReadSeq, personName(m.userId, chat.names),
      chat.presence.get(m.userId)?.status, room.lastSeq]));
    if (key !== shownKey) {
      shownKey = key;
      list.replaceChildren(...entries.map((m) => row(chat, room, m)));
    }
    byId('add-people').hidden = room.kind === 'direct' || chat.features.members !== true;
  }

  return { render };
}
