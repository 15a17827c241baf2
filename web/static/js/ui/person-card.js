// A person's card, opened from any name or avatar in the conversation or a member list:
// avatar, name, @username, presence, and "Message" to open (or create) the direct
// conversation with them and switch to it.

import { byId } from '../dom.js';
import { personName, presenceText } from '../format.js';
import { avatar } from './avatar.js';

export function mountPersonCard(ctx) {
  const dialog = byId('person-dialog');
  const message = byId('person-message');
  let userId = null;

  byId('person-close').addEventListener('click', () => dialog.close());
  message.addEventListener('click', async () => {
    const chat = ctx.chat;
    if (!chat || !userId) return;
    message.disabled = true;
    try {
      await chat.openDirect(userId);
      dialog.close();
      byId('composer-input').focus();
    } catch (e) {
      ctx.showError(e.message);
    } finally {
      message.disabled = false;
    }
  });

  function fill() {
    const chat = ctx.chat;
    if (!chat || !userId) return;
    const known = chat.names.get(userId);
    const name = personName(userId, chat.names);
    byId('person-name').textContent = name;
    byId('person-username').textContent = known?.username ? `@${known.username}` : '';
    byId('person-presence').textContent = presenceText(chat.presence.get(userId));
    avatar(userId, name, byId('person-avatar'));
    const self = userId === chat.me.userId;
    message.hidden = self;
    message.setAttribute('aria-label', `Message ${name}`);
  }

  /** Opens the card of `who`; its username is fetched if not known yet. */
  ctx.showPerson = (who) => {
    const chat = ctx.chat;
    if (!chat) return;
    userId = who;
    chat.watchUser(who);
    if (!chat.names.get(who)?.username) {
      chat.api.getUser(who).then((p) => chat.names.learnAll([p])).then(fill, () => {});
    }
    fill();
    if (!dialog.open) dialog.showModal();
  };

  return { render: () => dialog.open && fill() };
}
