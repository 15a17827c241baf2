// What the browser remembers, all in localStorage:
//   - the signed-in session (token, user id, username), shared by every tab of this browser;
//   - per user, the room that was open last, how far each room has been read (unread
//     counts) and whether notifications are on.
//
// Why localStorage for the token: people expect a second tab, a reload and a restarted
// browser to stay signed in, and sessionStorage ends with the tab. The cost: the token stays
// on this computer until "Log out" (or until it expires), so on a shared computer signing
// out matters, and a script injected into the page could read it (it could read
// sessionStorage just as well; the page renders no HTML from users and its CSP forbids
// inline and foreign scripts). An HttpOnly cookie would hide it from scripts but needs CSRF
// protection the api does not have. "Log out" ends every token of the user on the server
// (POST /auth/logout) and the other tabs see the entry go (the `storage` event).

const SESSION_KEY = 'chat.session';

function parseSession(text) {
  try {
    const s = JSON.parse(text ?? 'null');
    if (s && typeof s.token === 'string' && typeof s.userId === 'string') return s;
  } catch {
    // A damaged entry is the same as none.
  }
  return null;
}

export function loadSession() {
  return parseSession(localStorage.getItem(SESSION_KEY));
}

export function saveSession(session) {
  try {
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  } catch {
    // Storage disabled: this tab stays signed in; others ask again.
  }
}

/**
 * Forgets the session whose token is `token` (all of them without one). A tab whose token
 * was refused must not sign out a newer session that another tab saved meanwhile.
 */
export function clearSession(token) {
  if (token && loadSession()?.token !== token) return;
  localStorage.removeItem(SESSION_KEY);
}

/** Calls `onChange(session or null)` when another tab signs in or out. */
export function watchSession(onChange) {
  window.addEventListener('storage', (event) => {
    if (event.key === SESSION_KEY || event.key === null) onChange(parseSession(event.newValue ?? localStorage.getItem(SESSION_KEY)));
  });
}

function loadJson(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null') ?? fallback;
  } catch {
    return fallback;
  }
}

function saveJson(key, value) {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the page just forgets it next time.
  }
}

const readKey = (userId) => `chat.read.${userId}`;

/** { roomId: seq } — the last seq of each room this user has seen. */
export function loadReadPositions(userId) {
  return loadJson(readKey(userId), {});
}

export function saveReadPositions(userId, positions) {
  saveJson(readKey(userId), positions);
}

// The open room: this tab's own across reloads (sessionStorage), else the one last opened in
// any tab (a new tab opens where the person was).
const roomKey = (userId) => `chat.room.${userId}`;

export function loadOpenRoom(userId) {
  try {
    return sessionStorage.getItem(roomKey(userId)) ?? localStorage.getItem(roomKey(userId));
  } catch {
    return null;
  }
}

export function saveOpenRoom(userId, roomId) {
  try {
    for (const store of [sessionStorage, localStorage]) {
      if (roomId) store.setItem(roomKey(userId), roomId);
      else store.removeItem(roomKey(userId));
    }
  } catch {
    // Storage disabled: a reload shows the room list.
  }
}

const notifyKey = (userId) => `chat.notify.${userId}`;

/** Whether this user turned notifications on in this browser (off unless they did). */
export function loadNotify(userId) {
  return loadJson(notifyKey(userId), false) === true;
}

export function saveNotify(userId, on) {
  saveJson(notifyKey(userId), on ? true : null);
}
