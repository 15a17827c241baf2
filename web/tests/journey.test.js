// A new person's first minutes, at desktop and at phone width: sign up, a second tab (still
// signed in), a reload (the same room open), a room with someone else in it, a direct
// message, and signing out (the other tab leaves too, and the token is dead). Saves the
// screenshots the README shows (docs/screenshots/, refreshed with UPDATE_DOC_SCREENSHOTS=1).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, registerUser, startStack } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';

const WIDTHS = [
  { label: 'desktop', options: { viewport: { width: 1280, height: 800 } } },
  { label: 'phone', options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
];

describe('a new user’s first minutes', { timeout: 300_000 }, () => {
  let stack;
  let browser;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  for (const { label, options } of WIDTHS) {
    const phone = label === 'phone';

    test(`at ${label} width: sign up, second tab, reload, room, direct message, sign out`, async () => {
      const problems = [];
      const context = await browser.newContext(options);
      async function open() {
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
        await page.goto(stack.url);
        return page;
      }
      const sidebarShown = (page) => page.locator('#sidebar').isVisible();
      /** Signed in as `name` (on a phone the name is in the closed drawer: attached, not visible). */
      const signedIn = async (page) => {
        await page.locator('#chat-view').waitFor();
        await page.locator('#me-name', { hasText: name }).waitFor({ state: 'attached' });
      };
      /** On a phone the room list is behind the menu button. */
      async function showRooms(page) {
        if (!phone) return;
        await page.getByRole('button', { name: /^Rooms and account/ }).click();
        await page.locator('#sidebar .room-list').waitFor();
      }
      const send = async (page, text) => {
        await page.getByLabel('Message', { exact: true }).fill(text);
        await page.getByLabel('Message', { exact: true }).press('Enter');
        await page.locator('#message-list li.message:not(.pending) .text', { hasText: text }).waitFor();
      };

      // Sign up.
      const name = `nina-${label}`;
      const page = await open();
      await page.getByRole('button', { name: 'Create account' }).waitFor();
      await screenshot(page, `${label}-sign-in`, { doc: phone });
      await page.getByLabel('Username').fill(name);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.locator('#me-name', { hasText: name }).waitFor();
      await page.locator('#conn-badge', { hasText: 'Online' }).waitFor();
      const session = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.session')));
      // No room yet: on a phone the drawer with the forms is open, on a desktop it is always there.
      assert.equal(await sidebarShown(page), true);

      // A room, with someone in it.
      await page.getByText('New room').click();
      await page.getByLabel('Room name').fill('lobby');
      await page.getByRole('button', { name: 'Create room' }).click();
      await page.locator('#room-title', { hasText: 'lobby' }).waitFor();
      if (phone) await page.locator('#sidebar').waitFor({ state: 'hidden' });
      const roomId = (await page.locator('#room-meta code').textContent()).trim();
      const sam = await registerUser(stack.url, `sam-${label}`, PASSWORD);
      await sam.api('POST', `/rooms/${roomId}/join`);
      const samSays = (room, message) => sam.api('POST', '/sendMessage', {
        roomId: room, senderId: sam.userId, message, timestamp: new Date().toISOString(),
      });
      const lines = [
        'Welcome to the lobby!', 'Introductions go here.', 'The guide is at https://example.com/guide',
        'Ask anything.', 'Lunch at noon?', 'I am in.', 'Me too.', 'See you there.',
      ];
      for (const line of lines) await samSays(roomId, line);
      await page.locator('.text', { hasText: 'See you there.' }).waitFor();
      await send(page, 'Hi all, first day here!');
      await send(page, 'Lunch sounds good.');

      // The conversation gets the screen: at least eight messages fit (four was the bug).
      const fit = await page.evaluate(() => {
        const pane = document.getElementById('messages').getBoundingClientRect();
        return [...document.querySelectorAll('#message-list li.message')].filter((li) => {
          const r = li.getBoundingClientRect();
          return r.top >= pane.top && r.bottom <= pane.bottom;
        }).length;
      });
      assert.ok(fit >= 8, `${fit} messages fit on screen`);
      const paneHeight = await page.locator('#messages').evaluate((n) => n.getBoundingClientRect().height);
      console.log(`${label}: ${fit} messages fully visible, message pane ${Math.round(paneHeight)} px of ${options.viewport.height}`);

      // A second tab of the same browser: still signed in, in the same room.
      const tab2 = await open();
      await signedIn(tab2);
      await tab2.locator('#room-title', { hasText: 'lobby' }).waitFor();
      await tab2.locator('.text', { hasText: 'Lunch sounds good.' }).waitFor();

      // A reload keeps the session and the open room.
      await page.reload();
      await page.locator('#room-title', { hasText: 'lobby' }).waitFor();
      await page.locator('.text', { hasText: 'Lunch sounds good.' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Create account' }).isVisible(), false);
      if (phone) assert.equal(await sidebarShown(page), false, 'the drawer stays closed with a room open');
      await screenshot(page, `${label}-chat`, { doc: true });

      // A direct message.
      await showRooms(page);
      await page.getByText('Find people').click();
      await page.getByLabel('Find someone by name').fill('sam');
      await page.getByRole('button', { name: `Message sam-${label}` }).click();
      const samLabel = `sam-${label}`;
      await page.locator('#room-title', { hasText: samLabel }).waitFor();
      if (phone) await page.locator('#sidebar').waitFor({ state: 'hidden' });
      await send(page, 'Hi Sam, a quick question about the guide.');
      const dm = await sam.api('GET', '/rooms');
      const dmId = dm.rooms.find((r) => r.kind === 'direct').roomId;
      await samSays(dmId, 'Sure, ask away.');
      await page.locator('.text', { hasText: 'Sure, ask away.' }).waitFor();
      // Direct conversations cannot be left.
      assert.equal(await page.locator('#leave-room').isVisible(), false);
      // The second tab moves to the conversation too (it is listed there live): a tab in
      // front showing the lobby would read it for the user, on every tab and device.
      await showRooms(tab2);
      await tab2.locator('.room-button', { hasText: samLabel }).click();
      await tab2.locator('#room-title', { hasText: samLabel }).waitFor();
      // Meanwhile in the lobby: an unread count (on a phone, on the menu button too).
      await samSays(roomId, 'Anyone seen the new guide?');
      if (phone) await page.locator('#drawer-unread', { hasText: '1' }).waitFor();
      await showRooms(page);
      await page.locator('.room-button', { hasText: 'lobby' }).locator('.unread', { hasText: '1' }).waitFor();
      await screenshot(page, `${label}-rooms`, { doc: phone });
      await page.locator('.room-button', { hasText: 'lobby' }).click();
      await page.locator('#room-title', { hasText: 'lobby' }).waitFor();
      if (phone) await page.locator('#sidebar').waitFor({ state: 'hidden' });

      // Sign out: this tab and the other one go to the sign-in screen; the token is dead.
      await showRooms(page);
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('button', { name: 'Create account' }).waitFor();
      await tab2.getByRole('button', { name: 'Create account' }).waitFor({ timeout: 5_000 });
      assert.equal(await tab2.locator('#chat-view').isVisible(), false);
      assert.equal(await page.evaluate(() => localStorage.getItem('chat.session')), null);
      await assert.rejects(apiClient(stack.url, session.token)('GET', '/rooms'), /401/);
      // A reload or a new tab asks to sign in again.
      await tab2.reload();
      await tab2.getByRole('button', { name: 'Create account' }).waitFor();

      // Signing in again in one tab signs in the other.
      await page.getByLabel('Username').fill(name);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await signedIn(page);
      await signedIn(tab2);
      assert.deepEqual(problems, []);
      await context.close();
    });
  }
});
