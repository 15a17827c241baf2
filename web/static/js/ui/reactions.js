// Reactions under a message: one chip per emoji with its count (pressed when I gave it;
// a click gives or takes back mine), and a small picker of common emoji to add one. The
// counts are the room model's (room.js), kept from history and the room's events; a click
// only sends the `react` frame, and the event that comes back changes the count.

import { el } from '../dom.js';

/** The emoji the picker offers. */
export const PICKER = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];

/** A string that changes whenever what the bar shows changes (for re-rendering). */
export function reactionsKey(m) {
  return (m.reactions ?? []).map((r) => `${r.emoji}:${r.count}:${r.me ? 1 : 0}`).join(',');
}

/** The bar of one (not deleted, not pending) message. */
export function reactionBar(chat, room, m, showError) {
  const toggle = async (emoji, add) => {
    try {
      await chat.react(room.id, m.messageId, emoji, add);
    } catch (e) {
      showError(e.message);
    }
  };
  const chips = (m.reactions ?? []).map((r) => el('button', {
    type: 'button',
    class: r.me ? 'reaction mine' : 'reaction',
    'aria-pressed': r.me ? 'true' : 'false',
    'aria-label': `${r.emoji} ${r.count}${r.me ? ', including you' : ''}: ${r.me ? 'remove your reaction' : 'react'}`,
    dataset: { emoji: r.emoji },
    onclick: () => toggle(r.emoji, !r.me),
  }, el('span', { class: 'emoji', text: r.emoji }), el('span', { class: 'count', text: String(r.count) })));
  const picker = el('div', { class: 'reaction-picker', role: 'group', 'aria-label': 'Pick a reaction', hidden: true },
    ...PICKER.map((emoji) => el('button', {
      type: 'button',
      text: emoji,
      'aria-label': `React with ${emoji}`,
      onclick: () => {
        picker.hidden = true;
        const mine = (m.reactions ?? []).find((r) => r.emoji === emoji)?.me;
        if (!mine) toggle(emoji, true);
      },
    })));
  const open = el('button', {
    type: 'button',
    class: 'add-reaction',
    text: '☺+',
    'aria-label': 'Add a reaction',
    'aria-expanded': 'false',
    onclick: () => {
      picker.hidden = !picker.hidden;
      open.setAttribute('aria-expanded', String(!picker.hidden));
    },
  });
  // Without reactions the bar takes no room in the conversation: only its button shows,
  // over the bubble's corner, on hover or focus (app.css).
  return el('div', { class: chips.length ? 'reactions' : 'reactions empty' }, ...chips, open, picker);
}
