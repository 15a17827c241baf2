// The sign-in screen: one form with two actions, "Sign in" and "Create account". Shows the
// api's own error message (wrong password, name taken, password too short…) under it.

import { byId } from '../dom.js';

export function mountLogin({ api, onSignedIn }) {
  const view = byId('login-view');
  const form = byId('login-form');
  const error = byId('login-error');
  const username = byId('login-username');
  const password = byId('login-password');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const register = event.submitter?.value === 'register';
    error.textContent = '';
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => (b.disabled = true));
    try {
      const name = username.value.trim();
      const answer = register ? await api.register(name, password.value) : await api.login(name, password.value);
      password.value = '';
      onSignedIn({ token: answer.token, userId: answer.userId, username: name });
    } catch (e) {
      error.textContent = e.message;
      (e.code === 'invalid_password' ? password : username).focus();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });

  return {
    show(message = '') {
      view.hidden = false;
      error.textContent = message;
      username.focus();
    },
    hide() {
      view.hidden = true;
      error.textContent = '';
    },
  };
}
