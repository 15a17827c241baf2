// A person's avatar: a coloured circle with the initials of their name. The colour comes
// from the user id, so it stays the same through renames and on every device.

import { el } from '../dom.js';
import { initials, userColor } from '../format.js';

/** Fills (or creates) an avatar element for `userId` named `name`. */
export function avatar(userId, name, node = el('span', { class: 'avatar', 'aria-hidden': 'true' })) {
  node.textContent = initials(name);
  node.style.background = userColor(userId);
  return node;
}
