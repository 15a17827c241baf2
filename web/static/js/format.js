// Turning ids and timestamps into words: user labels, room titles, times, "last seen",
// and the peer of a direct room. Pure functions; no DOM, no state.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUserId(text) {
  return UUID.test(text);
}

/**
 * Until a person's name has arrived they show by a short id. The last six hex digits are
 * random in a UUIDv7 (the first ones are a timestamp and look alike).
 */
export function shortId(userId) {
  return String(userId).replace(/-/g, '').slice(-6);
}

/** A person's display name from `names` (a Names cache), or a short id until it is known. */
export function personName(userId, names) {
  return names?.get(userId)?.displayName ?? `User ${shortId(userId)}`;
}

/** As personName, with "(you)" after the signed-in user's own name. */
export function userLabel(userId, me, names) {
  if (me && userId === me.userId) return `${me.displayName || me.username} (you)`;
  return personName(userId, names);
}

/** Up to two letters for an avatar: the first letters of the first two words of a name. */
export function initials(name) {
  // "sam-desktop" and "mary_jane" read as two words too.
  const words = String(name ?? '').replace(/^User /, '').trim().split(/[\s._-]+/).filter(Boolean);
  if (words.length === 0) return '?';
  const letters = words.length > 1 ? [[...words[0]][0], [...words[1]][0]] : [...words[0]].slice(0, 2);
  return letters.join('').toUpperCase();
}

/** A stable colour per user, for avatars. */
export function userColor(userId) {
  let hash = 0;
  for (const ch of String(userId)) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 55% 45%)`;
}

/**
 * The other person in a direct room: `peerId` from `GET /rooms` (direct-room ids are
 * opaque), or, for rooms made before ids became opaque, read from `dm_<a>_<b>`.
 */
export function dmPeer(room, myId) {
  if (room?.peerId) return room.peerId;
  const m = /^dm_([0-9a-f]{32})_([0-9a-f]{32})$/.exec(room?.id ?? '');
  if (!m) return null;
  const mine = String(myId).replace(/-/g, '').toLowerCase();
  const peer = m[1] === mine ? m[2] : m[1];
  return [peer.slice(0, 8), peer.slice(8, 12), peer.slice(12, 16), peer.slice(16, 20), peer.slice(20)].join('-');
}

export function roomTitle(room, me, names) {
  if (room.kind === 'direct') {
    const peer = dmPeer(room, me.userId);
    return peer ? userLabel(peer, me, names) : 'Direct conversation';
  }
  return room.name || room.id;
}

export function clockTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function fullTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
}

export function ago(iso, now = Date.now()) {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return '';
  const secs = Math.max(0, Math.round((now - then) / 1000));
  if (secs < 45) return 'just now';
  const mins = Math.round(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  const hours = Math.round(mins / 60);
  if (hours < 24) return `${hours} h ago`;
  return new Date(then).toLocaleDateString();
}

/** "online", "away", "last seen 3 min ago" or "offline". */
export function presenceText(presence, now = Date.now()) {
  if (!presence) return 'offline';
  if (presence.status === 'online' || presence.status === 'away') return presence.status;
  return presence.lastSeen ? `last seen ${ago(presence.lastSeen, now)}` : 'offline';
}
