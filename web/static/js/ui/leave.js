// Leaving a room: a "Leave" button in the header of a group room, and a dialog to confirm.
// Direct conversations cannot be left (the server refuses), so they have no button.

import { byId } from '../dom.js';
import { roomTitle } from '../format.js';

export function mountLeave(ctx) {
  const button = byId('leave-room');
  const dialog = byId('leave-dialog');
  let roomId = null;

  button.addEventListener('click', () => {
    const room = ctx.chat?.activeRoom();
    if (!room || room.kind === 'direct') return;
    roomId = room.id;
    const name = roomTitle(room, ctx.chat.me, ctx.chat.names);
    byId('leave-title').textContent = `Leave “${name}”?`;
    byId('leave-text').textContent = room.visibility === 'private'
      ? 'You will no longer see its messages. It is private: to come back, someone in it must add you again.'
      : 'You will no longer see its messages. It is public: you can join it again with its id.';
    dialog.returnValue = '';
    dialog.showModal();
  });

  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'leave' || !roomId) return;
    const leaving = roomId;
    roomId = null;
    button.disabled = true;
    try {
      await ctx.chat.leaveRoom(leaving);
    } catch (e) {
      ctx.showError(e.message);
    } finally {
      button.disabled = false;
    }
  });

  function render() {
    const room = ctx.chat?.activeRoom();
    button.hidden = !room || room.kind === 'direct';
    if (room) button.setAttribute('aria-label', `Leave ${roomTitle(room, ctx.chat.me, ctx.chat.names)}`);
  }

  return { render };
}
