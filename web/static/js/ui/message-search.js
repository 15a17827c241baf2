// "Search messages": words looked up in the messages of the user's rooms (GET /search).
// Each hit shows its room, sender, time and a snippet whose matched words are <mark>
// elements built from the server's character ranges: the snippet is text, so a message
// holding HTML or marker look-alikes is shown as typed. Choosing a hit opens its room and,
// once that part of history is on screen, scrolls to the message and outlines it.

import { byId, el } from '../dom.js';
import { clockTime, fullTime, roomTitle } from '../format.js';

const PAGE = 20;
const FIND_MESSAGE_MS = 3000;

/** The snippet as text nodes and <mark>s; `highlights` are [start, end) in characters. */
export function snippetNodes(snippet, highlights) {
  const chars = Array.from(snippet);
  const nodes = [];
  let at = 0;
  for (const [start, end] of highlights) {
    if (start < at || end > chars.length || start >= end) continue;
    if (start > at) nodes.push(chars.slice(at, start).join(''));
    nodes.push(el('mark', { text: chars.slice(start, end).join('') }));
    at = end;
  }
  if (at < chars.length) nodes.push(chars.slice(at).join(''));
  return nodes;
}

export function mountMessageSearch(ctx) {
  const form = byId('search-form');
  const input = byId('search-query');
  const status = byId('search-status');
  const results = byId('search-results');
  const more = byId('search-more');
  let asked = 0;
  let next = null;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    search(false);
  });
  more.addEventListener('click', () => search(true));

  async function search(again) {
    const chat = ctx.chat;
    const q = input.value.trim();
    if (!chat || !q) return;
    const mine = ++asked;
    status.textContent = 'Searching…';
    try {
      const page = await chat.api.searchMessages(q, { limit: PAGE, beforeSeq: again ? next : undefined });
      if (mine !== asked) return;
      next = page.nextBeforeSeq ?? null;
      more.hidden = next == null;
      const rows = page.results.map((hit) => row(chat, hit));
      if (again) results.append(...rows);
      else results.replaceChildren(...rows);
      status.textContent = results.children.length ? '' : `No message has “${q}”.`;
    } catch (e) {
      if (mine !== asked) return;
      more.hidden = true;
      if (!again) results.replaceChildren();
      status.textContent = e.routeMissing ? 'This server cannot search messages.' : e.message;
    }
  }

  function row(chat, hit) {
    const room = chat.rooms.get(hit.roomId);
    const where = room ? roomTitle(room, chat.me, chat.names) : hit.roomId;
    const open = el('button', { type: 'button', class: 'hit-open', title: fullTime(hit.timestamp),
      'aria-label': `Open the message of ${hit.senderName} in ${where}`, onclick: () => show(chat, hit) },
      el('span', { class: 'result-sub', text: `${where} · ${hit.senderName} · ${clockTime(hit.timestamp)}` }),
      el('span', { class: 'hit-snippet' }, snippetNodes(hit.snippet, hit.highlights ?? [])));
    return el('li', { class: 'result hit', dataset: { roomId: hit.roomId, seq: String(hit.seq) } }, open);
  }

  /** Opens the room, then waits (bounded) for the message to be on screen. */
  function show(chat, hit) {
    ctx.openRoom(hit.roomId);
    form.closest('details').open = false;
    const deadline = Date.now() + FIND_MESSAGE_MS;
    const look = () => {
      const node = document.querySelector(`#message-list [data-message-id="${CSS.escape(hit.messageId)}"]`);
      if (node) {
        for (const old of document.querySelectorAll('#message-list [data-found]')) delete old.dataset.found;
        node.dataset.found = '';
        node.scrollIntoView({ block: 'center' });
      } else if (Date.now() < deadline) {
        setTimeout(look, 100);
      }
    };
    look();
  }

  return { render() {} };
}
