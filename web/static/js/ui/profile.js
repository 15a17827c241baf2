// The signed-in user's own name in the account panel, and renaming oneself: "Edit name"
// opens a small form; the server's answer to a bad name (empty, too long, control
// characters) is shown under the field, which keeps what was typed.

import { byId } from '../dom.js';
import { avatar } from './avatar.js';

export function mountProfile(ctx) {
  const form = byId('rename-form');
  const input = byId('rename-input');
  const error = byId('rename-error');
  const open = byId('rename-open');

  function show(editing) {
    form.hidden = !editing;
    open.hidden = editing;
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (editing) {
      input.value = ctx.chat?.me.displayName ?? '';
      input.focus();
      input.select();
    } else open.focus();
  }

  open.addEventListener('click', () => show(true));
  byId('rename-cancel').addEventListener('click', () => show(false));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') show(false);
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chat = ctx.chat;
    if (!chat) return;
    const save = form.querySelector('button[type=submit]');
    save.disabled = true;
    error.textContent = '';
    try {
      await chat.rename(input.value);
      show(false);
    } catch (e) {
      error.textContent = e.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } finally {
      save.disabled = false;
    }
  });

  function render() {
    const me = ctx.chat?.me;
    if (!me) return;
    const name = me.displayName || me.username;
    if (byId('me-name').textContent !== name) byId('me-name').textContent = name;
    byId('me-username').textContent = `@${me.username}`;
    avatar(me.userId, name, byId('me-avatar'));
    open.setAttribute('aria-label', `Change your name (now ${name})`);
  }

  return { render };
}
