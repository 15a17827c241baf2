// The sidebar as a drawer on narrow screens (phones): closed, the conversation has the whole
// screen and a menu button (with the unread count) opens the room list and account panel
// over it; choosing a room, the backdrop, × or Escape closes it. With no room open it opens
// by itself, since there is nothing else to do. On wide screens the sidebar is always shown
// and none of this has any effect (app.css decides by width).

import { byId } from '../dom.js';

const NARROW = window.matchMedia('(max-width: 720px)');

export function mountDrawer(ctx) {
  const chatView = byId('chat-view');
  const sidebar = byId('sidebar');
  const openButton = byId('drawer-open');
  const backdrop = byId('drawer-backdrop');
  const unread = byId('drawer-unread');
  let openedFor = undefined;

  function setOpen(open, { focus = true } = {}) {
    const wasOpen = chatView.dataset.drawer === 'open';
    chatView.dataset.drawer = open ? 'open' : 'closed';
    openButton.setAttribute('aria-expanded', String(open));
    backdrop.hidden = !open;
    // Closed on a phone, the drawer is off screen: keep it out of the tab order too.
    sidebar.inert = !open && NARROW.matches;
    if (!focus || open === wasOpen || !NARROW.matches) return;
    if (open) sidebar.querySelector('[aria-current="true"], .room-button, summary')?.focus();
    else openButton.focus();
  }

  openButton.addEventListener('click', () => setOpen(true));
  byId('drawer-close').addEventListener('click', () => setOpen(false));
  backdrop.addEventListener('click', () => setOpen(false));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && chatView.dataset.drawer === 'open' && NARROW.matches) setOpen(false);
  });
  NARROW.addEventListener('change', () => setOpen(chatView.dataset.drawer === 'open', { focus: false }));
  // A room chosen in the drawer (or created, joined, messaged from it) closes it.
  sidebar.addEventListener('click', (event) => {
    if (event.target.closest('.room-button')) setOpen(false, { focus: false });
  });
  setOpen(false, { focus: false });

  function render() {
    const chat = ctx.chat;
    if (!chat) return;
    const total = [...chat.rooms.values()].reduce((n, r) => n + r.unread, 0);
    unread.hidden = total === 0;
    unread.textContent = total >= 100 ? '99+' : String(total);
    openButton.setAttribute('aria-label', total ? `Rooms and account, ${total} unread` : 'Rooms and account');
    // Opens by itself when no room is open, once per time that happens.
    const room = chat.activeRoomId;
    if (room !== openedFor) {
      if (room) setOpen(false, { focus: false });
      else if (!chat.wantedRoomId) setOpen(true, { focus: false });
      openedFor = room ?? (chat.wantedRoomId ? undefined : null);
    }
  }

  return { render, close: () => setOpen(false, { focus: false }) };
}
