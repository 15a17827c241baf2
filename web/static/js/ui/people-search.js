// A people search box: as the person types, the directory (GET /users?query=) is asked for
// names or usernames starting with the text, a quarter of a second after the last key (it
// is rate limited per user); a pasted user id is looked up directly. Each result shows the
// avatar, the name and @username, and one action button ("Message", "Add"). Used in the
// sidebar (find someone to message) and in a room's member list (add people).

import { byId, el } from '../dom.js';
import { isUserId } from '../format.js';
import { avatar } from './avatar.js';

const TYPING_PAUSE_MS = 250;

/**
 * @param {object} o
 * @param {string} o.input, o.status, o.results  element ids
 * @param {() => object} o.chat  the signed-in engine
 * @param {string} o.actionText  the button's text
 * @param {(person) => string|null} [o.disabledWhy]  a reason the action does not apply
 * @param {(person, button) => Promise<void>} o.act
 */
export function mountPeopleSearch(o) {
  const input = byId(o.input);
  const status = byId(o.status);
  const results = byId(o.results);
  let timer = null;
  let asked = 0;

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, TYPING_PAUSE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      clearTimeout(timer);
      search();
    }
  });

  async function search() {
    const chat = o.chat();
    const query = input.value.trim();
    const mine = ++asked;
    if (!chat || !query) {
      status.textContent = '';
      results.replaceChildren();
      return;
    }
    status.textContent = 'Searching…';
    try {
      const people = isUserId(query) ? [await chat.api.getUser(query)] : await chat.api.findUsers(query, 20);
      if (mine !== asked) return;
      chat.names.learnAll(people);
      status.textContent = people.length ? '' : `No one found for “${query}”.`;
      results.replaceChildren(...people.map((p) => row(chat, p)));
    } catch (e) {
      if (mine !== asked) return;
      results.replaceChildren();
      if (e.status === 404) status.textContent = 'No one has that user id.';
      else if (e.status === 429) status.textContent = 'Searching too fast: wait a moment and try again.';
      else status.textContent = e.message;
    }
  }

  function row(chat, person) {
    const name = person.displayName || person.username;
    const reason = o.disabledWhy?.(person) ?? null;
    const button = el('button', {
      type: 'button', class: 'small-button', text: reason ?? o.actionText, disabled: Boolean(reason),
      'aria-label': reason ? `${name}: ${reason}` : `${o.actionText} ${name}`,
    });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await o.act(person, button);
      } catch (e) {
        status.textContent = e.message;
        button.disabled = false;
      }
    });
    return el('li', { class: 'result', dataset: { userId: person.userId } },
      avatar(person.userId, name),
      el('span', { class: 'result-text' },
        el('span', { class: 'result-name', text: name }),
        el('span', { class: 'result-sub', text: `@${person.username}` })),
      button);
  }

  /** Empties the box and the results (after the action, or when the panel closes). */
  function reset() {
    clearTimeout(timer);
    asked += 1;
    input.value = '';
    status.textContent = '';
    results.replaceChildren();
  }

  return { reset, search };
}
