// The sidebar: the room list (unread counts, presence dots of direct-message peers), the
// people search ("Message" opens the direct conversation), the forms to create a room and
// join a public room by id, the signed-in user's name and id, log out, and the connection
// badge. The public-room browser is room-browser.js; renaming oneself is profile.js.

import { byId, el } from '../dom.js';
import { dmPeer, presenceText, roomTitle } from '../format.js';
import { mountPeopleSearch } from './people-search.js';

export function mountSidebar(ctx) {
  const list = byId('room-list');
  /** roomId → {item, button, name, badge, dot} */
  let rows = new Map();
  let shownFor = null;

  bindForm('create-room-form', async (form) => {
    const name = form.elements.name.value.trim();
    if (!name) throw new Error('Give the room a name.');
    await ctx.chat.createRoom(name, form.elements.visibility.value);
  });
  bindForm('join-room-form', async (form) => {
    const roomId = form.elements.roomId.value.trim();
    if (!roomId) throw new Error('Paste the id of the room to join.');
    await ctx.chat.joinRoom(roomId);
  });
  const people = mountPeopleSearch({
    input: 'people-query',
    status: 'people-status',
    results: 'people-results',
    chat: () => ctx.chat,
    actionText: 'Message',
    disabledWhy: (person) => (person.userId === ctx.chat?.me.userId ? 'You' : null),
    act: async (person) => {
      await ctx.chat.openDirect(person.userId);
      people.reset();
      byId('find-people').open = false;
      byId('composer-input').focus();
    },
  });

  byId('copy-me-id').addEventListener('click', () => copy(ctx.chat?.me.userId, byId('copy-me-id')));
  byId('logout').addEventListener('click', () => ctx.signOut());

  /** Submits with the buttons disabled; on success resets and closes the form's <details>. */
  function bindForm(id, action) {
    const form = byId(id);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        await action(form);
        form.reset();
        form.closest('details').open = false;
        byId('composer-input').focus();
      } catch (e) {
        ctx.showError(e.message);
      } finally {
        button.disabled = false;
      }
    });
  }

  function row(room) {
    const name = el('span', { class: 'room-name' });
    const icon = el('span', { class: 'room-icon', 'aria-hidden': 'true' });
    const dot = el('span', { class: 'dot' });
    const badge = el('span', { class: 'unread' });
    const button = el('button', { type: 'button', class: 'room-button', dataset: { roomId: room.id } }, icon, dot, name, badge);
    button.addEventListener('click', () => {
      ctx.chat.selectRoom(room.id);
      byId('composer-input').focus();
    });
    return { item: el('li', {}, button), button, name, icon, dot, badge };
  }

  function render() {
    const chat = ctx.chat;
    if (!chat) return;
    if (shownFor !== chat) {
      shownFor = chat;
      rows = new Map();
      list.replaceChildren();
      byId('me-id').textContent = chat.me.userId;
    }
    const badge = byId('conn-badge');
    badge.dataset.state = chat.connectionState;
    badge.textContent = { open: 'Online', reconnecting: 'Reconnecting…', connecting: 'Connecting…', closed: 'Offline' }[chat.connectionState];

    const rooms = chat.sortedRooms();
    byId('room-empty').hidden = rooms.length > 0;
    for (const room of rooms) {
      let r = rows.get(room.id);
      if (!r) rows.set(room.id, (r = row(room)));
      const title = roomTitle(room, chat.me, chat.names);
      r.name.textContent = title;
      r.button.title = title;
      const peer = room.kind === 'direct' ? dmPeer(room, chat.me.userId) : null;
      const presence = peer ? chat.presence.get(peer) : null;
      r.dot.hidden = !peer;
      r.dot.dataset.status = presence?.status ?? 'offline';
      r.icon.hidden = Boolean(peer);
      const locked = room.visibility === 'private';
      r.icon.textContent = locked ? '' : '#';
      r.icon.classList.toggle('private', locked);
      r.icon.title = locked ? 'Private room' : '';
      r.badge.hidden = room.unread === 0;
      r.badge.textContent = room.unread >= 100 ? '99+' : String(room.unread);
      const label = [title, peer ? presenceText(presence) : null, room.unread ? `${room.unread} unread` : null];
      r.button.setAttribute('aria-label', label.filter(Boolean).join(', '));
      if (room.id === chat.activeRoomId) r.button.setAttribute('aria-current', 'true');
      else r.button.removeAttribute('aria-current');
    }
    // Reorder only when the order changed, so a focused button is not moved needlessly.
    const order = rooms.map((room) => rows.get(room.id).item);
    if (order.some((item, i) => list.children[i] !== item) || list.children.length !== order.length) {
      list.replaceChildren(...order);
    }
  }

  return { render };
}

/** Copies text, with a short "Copied" on the button; falls back to a prompt to copy by hand. */
export async function copy(text, button) {
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
    const before = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => (button.textContent = before), 1500);
  } catch {
    window.prompt('Copy this id:', text);
  }
}
