// "Seen by …" under the last message of the open room: the other members whose read
// position (from `receipt` frames and the member list's `lastReadSeq`) has reached it. The
// sender of the message is left out: they wrote it. A direct room names its reader too, so
// that "Seen by Bob" says who, as in a group.

import { byId } from '../dom.js';
import { personName } from '../format.js';

const NAMES_SHOWN = 3;

export function mountSeen(ctx) {
  const line = byId('seen-by');

  function render() {
    const chat = ctx.chat;
    const room = chat?.activeRoom();
    const last = room?.list().filter((m) => !m.deleted).at(-1);
    let text = '';
    if (last) {
      const who = room.seenBy(last.seq, [chat.me.userId, last.senderId]);
      if (who.length) {
        const names = who.slice(0, NAMES_SHOWN).map((u) => personName(u, chat.names));
        const more = who.length - names.length;
        text = `Seen by ${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
      }
    }
    if (line.textContent !== text) line.textContent = text;
    line.hidden = !text;
    line.classList.toggle('mine', Boolean(last && last.senderId === chat?.me.userId));
  }

  return { render };
}
