// The message composer: Enter sends, Shift+Enter adds a line; keystrokes tell the room
// "typing" (the engine throttles it); a draft is kept per room; a counter appears near the
// 4000-character limit.

import { byId } from '../dom.js';
import { MAX_MESSAGE_CHARS } from '../chat.js';

const COUNT_FROM = MAX_MESSAGE_CHARS - 500;

export function mountComposer(ctx) {
  const form = byId('composer');
  const input = byId('composer-input');
  const count = byId('composer-count');
  const drafts = new Map();
  let shownRoom = null;
  // The room the input's text was typed for. Views catch up with a room change at the next
  // frame; a keystroke between the click and that frame belongs to the new room, so its
  // text must not be filed away as the old room's draft.
  let typedFor = null;
  // The keyboard hint does not fit (nor apply to a touch keyboard) on a phone.
  const narrow = window.matchMedia('(max-width: 720px)');
  const hint = input.placeholder;
  const placeholder = () => (input.placeholder = narrow.matches ? 'Write a message…' : hint);
  narrow.addEventListener('change', placeholder);
  placeholder();

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chat = ctx.chat;
    const roomId = chat?.activeRoomId;
    if (!roomId || !input.value.trim()) return;
    if (chat.sendMessage(roomId, input.value)) {
      input.value = '';
      drafts.delete(roomId);
      resize();
    }
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener('input', () => {
    const chat = ctx.chat;
    typedFor = chat?.activeRoomId ?? null;
    if (chat?.activeRoomId && input.value.trim()) chat.typed(chat.activeRoomId);
    resize();
  });

  function resize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 160)}px`;
    const chars = [...input.value].length;
    count.hidden = chars < COUNT_FROM;
    count.textContent = `${chars} / ${MAX_MESSAGE_CHARS}`;
  }

  function render() {
    const roomId = ctx.chat?.activeRoomId ?? null;
    if (roomId === shownRoom) return;
    if (typedFor !== roomId) {
      if (shownRoom) drafts.set(shownRoom, input.value);
      input.value = drafts.get(roomId) ?? '';
    }
    shownRoom = roomId;
    typedFor = null;
    resize();
  }

  return { render };
}
