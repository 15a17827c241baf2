// What the browser remembers: the signed-in session (token, user id, username) in
// sessionStorage, so it ends with the tab; and, per user, how far each room has been read
// (localStorage), for unread counts.

const SESSION_KEY = 'chat.session';

export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (s && typeof s.token === 'string' && typeof s.userId === 'string') return s;
  } catch {
    // A damaged entry is the same as none.
  }
  return null;
}

export function saveSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

const readKey = (userId) => `chat.read.${userId}`;

/** { roomId: seq } — the last seq of each room this user has seen. */
export function loadReadPositions(userId) {
  try {
    return JSON.parse(localStorage.getItem(readKey(userId)) ?? '{}') ?? {};
  } catch {
    return {};
  }
}

export function saveReadPositions(userId, positions) {
  try {
    localStorage.setItem(readKey(userId), JSON.stringify(positions));
  } catch {
    // Storage full or disabled: unread counts just start over next time.
  }
}
