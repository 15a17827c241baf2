// The "Notify me of new messages" switch in the account panel, and the notices themselves:
// for a message from someone else in a room that is not open, or in any room while the page
// is hidden. What a notice is (sound, desktop notification, permission) is notifications.js.

import { byId } from '../dom.js';
import { roomTitle, userLabel } from '../format.js';
import { Notifier } from '../notifications.js';

const NAME_WAIT_MS = 400;

export function mountNotify(ctx) {
  const toggle = byId('notify-toggle');
  const note = byId('notify-note');
  let notifier = null;
  let shownFor = null;

  toggle.addEventListener('change', async () => {
    if (!notifier) return;
    if (toggle.checked) await notifier.enable();
    else notifier.disable();
    render();
  });

  /** Hooks a newly signed-in user's engine. */
  function attach(chat) {
    notifier = new Notifier(chat.me.userId);
    chat.addEventListener('message', (e) => {
      const { room, message } = e.detail;
      if (room.id === chat.activeRoomId && !document.hidden) return;
      const show = () => {
        const title = `${userLabel(message.senderId, chat.me, chat.names)} in ${roomTitle(room, chat.me, chat.names)}`;
        notifier.notify(title, message.text, { tag: `chat-${room.id}`, onOpen: () => ctx.openRoom(room.id) });
      };
      // A first message from someone new: their name is on its way (names.js); a notice
      // titled "User 8a22d7" would say nothing, so it waits a moment for it.
      if (chat.names.get(message.senderId)) show();
      else setTimeout(show, NAME_WAIT_MS);
    });
  }

  function render() {
    const chat = ctx.chat;
    if (!chat) return;
    if (shownFor !== chat) {
      shownFor = chat;
      attach(chat);
    }
    toggle.checked = notifier.enabled;
    const permission = Notifier.permission;
    let text = '';
    if (notifier.enabled && permission === 'denied') text = 'Desktop notices are blocked in this browser’s site settings: sound only.';
    else if (notifier.enabled && permission === 'unsupported') text = 'This browser cannot show desktop notices: sound only.';
    else if (notifier.enabled) text = 'A sound and a desktop notice for messages in other rooms.';
    note.textContent = text;
    note.hidden = !text;
  }

  return { render };
}
