// Start-up and wiring: shows the sign-in screen or the chat, connects the engine (chat.js)
// to the views (ui/*), and owns the error alert, the connection banner and the title.
// Every tab of the browser shares one session (session.js): signing in or out in one tab
// does the same in the others.

import { createApi } from './api.js';
import { ChatClient } from './chat.js';
import { byId, el } from './dom.js';
import { clearSession, loadSession, saveSession, watchSession } from './session.js';
import { mountLogin } from './ui/login.js';
import { mountSidebar } from './ui/sidebar.js';
import { mountConversation } from './ui/conversation.js';
import { mountComposer } from './ui/composer.js';
import { mountDrawer } from './ui/drawer.js';
import { mountLeave } from './ui/leave.js';
import { mountNotify } from './ui/notify.js';
import { mountProfile } from './ui/profile.js';
import { mountRoomBrowser } from './ui/room-browser.js';
import { mountMessageSearch } from './ui/message-search.js';
import { mountPersonCard } from './ui/person-card.js';
import { mountMembers } from './ui/members.js';
import { mountSeen } from './ui/seen.js';

let session = loadSession();
const api = createApi(() => session?.token);
let chat = null;
let renderQueued = false;
let wasReconnecting = false;
let alertTimer = null;

function showError(message) {
  byId('alert-text').textContent = message;
  byId('alert').hidden = false;
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => (byId('alert').hidden = true), 10_000);
}
byId('alert-close').addEventListener('click', () => (byId('alert').hidden = true));

const login = mountLogin({ api, onSignedIn: (s) => showChat(s) });
// The views are mounted once; `ctx.chat` is the signed-in user's engine (null when signed out).
const ctx = {
  chat: null,
  showError,
  signOut,
  openRoom: (roomId) => chat?.selectRoom(roomId),
};
const views = [
  mountSidebar(ctx), mountProfile(ctx), mountRoomBrowser(ctx), mountMessageSearch(ctx), mountConversation(ctx), mountSeen(ctx),
  mountComposer(ctx), mountDrawer(ctx), mountLeave(ctx), mountNotify(ctx), mountPersonCard(ctx), mountMembers(ctx),
];

/** "Log out": ends the session on the server (every token of the user), then here. */
async function signOut() {
  const token = session?.token;
  const button = byId('logout');
  button.disabled = true;
  // Closed first, so that the server ending this socket is not taken for an expiry.
  chat?.stop();
  try {
    await api.logout();
  } catch (e) {
    // Already ended (401) is fine; otherwise say so, but leave this browser all the same.
    if (e.status !== 401) showError(`Signed out here, but the server could not be told: ${e.message}`);
  } finally {
    button.disabled = false;
  }
  // Only if no other tab has signed in since; the others leave on the storage event.
  if (session?.token === token) showLogin('', token);
}

/** Back to the sign-in screen; forgets `token` (the current one by default) in every tab. */
function showLogin(message, token = session?.token) {
  chat?.stop();
  chat = null;
  ctx.chat = null;
  session = null;
  clearSession(token);
  byId('chat-view').hidden = true;
  document.title = 'Chat';
  login.show(message);
}

async function showChat(signedIn) {
  chat?.stop();
  session = signedIn;
  saveSession(signedIn);
  login.hide();
  byId('chat-view').hidden = false;
  chat = new ChatClient(signedIn, api);
  ctx.chat = chat;
  chat.addEventListener('change', scheduleRender);
  chat.addEventListener('error', (e) => showError(e.detail.message));
  chat.addEventListener('signedout', (e) => showLogin(e.detail.message));
  render();
  const started = chat;
  try {
    await chat.start();
  } catch (e) {
    if (chat !== started) return;
    showLogin(e.status === 401 ? 'Your session has ended. Please sign in again.' : e.message);
  }
}

// Another tab signed out (or in as someone else): follow it.
watchSession((shared) => {
  if (shared?.token === session?.token) return;
  if (shared) showChat(shared);
  else if (session) showLogin('You signed out in another tab.', null);
});

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render() {
  if (!chat) return;
  for (const view of views) view.render();
  renderBanner();
  const unread = [...chat.rooms.values()].reduce((n, r) => n + r.unread, 0);
  document.title = unread ? `(${unread}) Chat` : 'Chat';
}

/** "Reconnecting…" while the socket is down, "Connected again" briefly after. */
const banner = byId('banner');
const bannerText = el('span', { class: 'banner-text' });
const bannerCountdown = el('span', { class: 'muted small', 'aria-hidden': 'true' });
const retryButton = el('button', { type: 'button', class: 'link-button', text: 'Retry now' });
retryButton.addEventListener('click', () => chat?.retryNow());
banner.append(bannerText, bannerCountdown, retryButton);
let countdownTimer = null;
let hideTimer = null;

function renderBanner() {
  const state = chat.connectionState;
  clearTimeout(countdownTimer);
  const reconnecting = state === 'reconnecting';
  const catchingUp = chat.isCatchingUp;
  retryButton.hidden = !reconnecting || catchingUp;
  bannerCountdown.hidden = !reconnecting;
  if (reconnecting || state === 'connecting') {
    clearTimeout(hideTimer);
    hideTimer = null;
    wasReconnecting ||= reconnecting;
    banner.dataset.kind = 'warn';
    bannerText.textContent = reconnecting ? 'Reconnecting…' : 'Connecting…';
    const secs = chat.retryAt ? Math.ceil((chat.retryAt - Date.now()) / 1000) : 0;
    if (catchingUp) bannerCountdown.textContent = 'catching up';
    else if (chat.offline) bannerCountdown.textContent = 'no network';
    else bannerCountdown.textContent = secs > 0 ? `next try in ${secs} s` : 'trying now';
    banner.hidden = false;
    if (reconnecting) countdownTimer = setTimeout(scheduleRender, 1000);
  } else if (state === 'open' && wasReconnecting) {
    wasReconnecting = false;
    banner.dataset.kind = 'ok';
    bannerText.textContent = 'Connected again.';
    banner.hidden = false;
    hideTimer = setTimeout(() => {
      hideTimer = null;
      banner.hidden = true;
    }, 2500);
  } else if (!hideTimer) {
    banner.hidden = true;
  }
}

if (session) showChat(session);
else login.show();
// "last seen 3 min ago" ages without any event.
setInterval(scheduleRender, 30_000);
