// The public-room browser inside "Join a public room": rooms found by name
// (GET /rooms/public?query=), with their member count and last activity, and "Join" (or
// "Open" for a room already joined). Asked first when the section opens; a server without
// the directory answers 404 and only the join-by-id form stays.

import { byId, el } from '../dom.js';
import { ago } from '../format.js';

const TYPING_PAUSE_MS = 250;

export function mountRoomBrowser(ctx) {
  const browser = byId('room-browser');
  const input = byId('rooms-query');
  const status = byId('rooms-status');
  const results = byId('rooms-results');
  const section = browser.closest('details');
  let timer = null;
  let asked = 0;

  section.addEventListener('toggle', () => {
    if (section.open && ctx.chat?.features.publicRooms !== false) search();
  });
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, TYPING_PAUSE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      search();
    }
  });

  async function search() {
    const chat = ctx.chat;
    if (!chat) return;
    const query = input.value.trim();
    const mine = ++asked;
    try {
      const rooms = await chat.api.findPublicRooms(query, 20);
      if (mine !== asked) return;
      chat.features.publicRooms = true;
      browser.hidden = false;
      status.textContent = rooms.length ? '' : (query ? `No public room called “${query}…”.` : 'No public rooms yet.');
      results.replaceChildren(...rooms.map((r) => row(chat, r)));
    } catch (e) {
      if (mine !== asked) return;
      if (e.routeMissing) {
        chat.features.publicRooms = false;
        browser.hidden = true;
        return;
      }
      browser.hidden = false;
      results.replaceChildren();
      // An empty query may be refused: then the list waits for a name.
      status.textContent = query ? e.message : 'Type part of a room’s name.';
    }
  }

  function row(chat, r) {
    const joined = chat.rooms.has(r.roomId);
    const name = r.name || r.roomId;
    const button = el('button', { type: 'button', class: 'small-button', text: joined ? 'Open' : 'Join', 'aria-label': `${joined ? 'Open' : 'Join'} ${name}` });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        if (joined) chat.selectRoom(r.roomId);
        else await chat.joinRoom(r.roomId);
        section.open = false;
        byId('composer-input').focus();
      } catch (e) {
        status.textContent = e.message;
        button.disabled = false;
      }
    });
    const members = `${r.memberCount} member${r.memberCount === 1 ? '' : 's'}`;
    const active = r.lastActivityAt ? ` · active ${ago(r.lastActivityAt)}` : '';
    return el('li', { class: 'result', dataset: { roomId: r.roomId } },
      el('span', { class: 'room-icon', 'aria-hidden': 'true', text: '#' }),
      el('span', { class: 'result-text' },
        el('span', { class: 'result-name', text: name }),
        el('span', { class: 'result-sub', text: `${members}${active}` })),
      button);
  }

  return { render() {} };
}
