// Links in messages, leaving a room, and optional notifications, in Chromium against the
// real server. Lena uses the page; Max (api only) writes to her.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startStack } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';

// Runs in the page before its scripts: counts permission requests, records every desktop
// notification and every tone played. The browser's own Notification still does the work.
function recordNotices() {
  const seen = { requests: 0, shown: [], tones: 0, permissionAtLoad: Notification.permission };
  window.__seen = seen;
  const Real = window.Notification;
  const requestPermission = Real.requestPermission.bind(Real);
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      seen.shown.push({ title, body: options?.body, tag: options?.tag });
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (...args) => {
    seen.requests += 1;
    return requestPermission(...args);
  };
  window.Notification = Recorded;
  const createOscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function tone() {
    seen.tones += 1;
    return createOscillator.call(this);
  };
}

describe('links, leaving a room, notifications', { timeout: 180_000 }, () => {
  let stack;
  let browser;
  let context;
  let page;
  let max;
  let lena;
  const problems = [];
  const rooms = {};

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    max = await registerUser(stack.url, 'max', PASSWORD);
    context = await browser.newContext({ viewport: { width: 1180, height: 740 } });
    await context.addInitScript(recordNotices);
    page = await openTab();
    await page.getByLabel('Username').fill('lena');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#conn-badge', { hasText: 'Online' }).waitFor();
    lena = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.session')));
    for (const name of ['links', 'quiet', 'goodbye']) {
      const room = await max.api('POST', '/rooms', { name, visibility: 'public' });
      rooms[name] = room.roomId;
      await page.getByText('Join a public room').click();
      await page.getByLabel('Room id').fill(room.roomId);
      await page.getByRole('button', { name: 'Join room' }).click();
      await page.locator('#room-title', { hasText: name }).waitFor();
    }
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function openTab() {
    const tab = await context.newPage();
    tab.setDefaultTimeout(15_000);
    tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // A route an older server lacks answers 404 (the page then hides that feature).
    tab.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && problems.push(`console: ${m.text()}`));
    await tab.goto(stack.url);
    return tab;
  }
  const maxSays = (room, message) => max.api('POST', '/sendMessage', {
    roomId: room, senderId: max.userId, message, timestamp: new Date().toISOString(),
  });
  const openRoom = async (name) => {
    await page.locator('.room-button', { hasText: name }).click();
    await page.locator('#room-title', { hasText: name }).waitFor();
  };
  const seen = (tab = page) => tab.evaluate(() => ({ ...window.__seen, shown: [...window.__seen.shown] }));

  test('http(s) addresses are links that open in a new tab; nothing else is', async () => {
    await openRoom('links');
    const text = 'Read https://example.com/guide?a=1&b=2, then (see http://example.org/x). '
      + 'Not these: javascript:alert(1) JAVASCRIPT://x data:text/html,<b>x</b> <a href="https://evil.example">no</a> '
      + `and this one opens: ${stack.url}/healthz`;
    await maxSays(rooms.links, text);
    const message = page.locator('#message-list li.message', { hasText: 'Read https' });
    await message.waitFor();
    assert.equal(await message.locator('.text').textContent(), text, 'the text itself is unchanged');
    const anchors = await message.locator('.text a').evaluateAll((as) => as.map((a) => ({
      href: a.getAttribute('href'), text: a.textContent, target: a.target, rel: a.rel, children: a.children.length,
    })));
    const expected = ['https://example.com/guide?a=1&b=2', 'http://example.org/x', 'https://evil.example/', `${stack.url}/healthz`];
    assert.deepEqual(anchors.map((a) => a.href), expected);
    for (const a of anchors) {
      assert.equal(a.target, '_blank');
      assert.equal(a.rel, 'noopener noreferrer');
      assert.equal(a.children, 0);
    }
    assert.equal(await page.locator('#message-list b, #message-list a:not([href^="http"])').count(), 0);

    // Clicked: a new tab, which gets no handle on this page and no referrer.
    const [opened] = await Promise.all([context.waitForEvent('page'), message.getByRole('link', { name: `${stack.url}/healthz` }).click()]);
    await opened.waitForLoadState();
    assert.deepEqual(await opened.evaluate(() => [window.opener, document.referrer]), [null, '']);
    await opened.close();
  });

  test('nothing is asked on load; notices are off until turned on, then remembered', async () => {
    const atLoad = await seen();
    assert.equal(atLoad.requests, 0, 'no permission request on load');
    assert.equal(atLoad.permissionAtLoad, 'default');
    const toggle = page.getByLabel('Notify me of new messages');
    assert.equal(await toggle.isChecked(), false, 'off by default');

    // Off: a message in another room makes no sound and no notice.
    await openRoom('links');
    await maxSays(rooms.quiet, 'while notices are off');
    await page.locator('.room-button', { hasText: 'quiet' }).locator('.unread', { hasText: '1' }).waitFor();
    assert.deepEqual([(await seen()).shown.length, (await seen()).tones], [0, 0]);

    // Turned on with a click: the permission is asked then (headless Chromium answers it
    // itself), and the choice is stored.
    await toggle.check();
    await page.locator('#notify-note').waitFor();
    assert.equal((await seen()).requests, 1, 'asked once, on the click');
    assert.equal(await page.evaluate((id) => localStorage.getItem(`chat.notify.${id}`), lena.userId), 'true');
    await screenshot(page, 'notifications-on');

    // With permission granted: a message in another room is a notice (and a tone) ...
    await context.grantPermissions(['notifications'], { origin: stack.url });
    await maxSays(rooms.quiet, 'are you there?');
    await page.waitForFunction(() => window.__seen.shown.length === 1);
    const { shown, tones } = await seen();
    assert.equal(shown[0].title, 'max in quiet');
    assert.equal(shown[0].body, 'are you there?');
    assert.equal(shown[0].tag, `chat-${rooms.quiet}`);
    assert.ok(tones > 0, 'a tone played');
    // ... but one in the room being read, in a visible page, is not.
    await maxSays(rooms.links, 'you are reading this one');
    await page.locator('.text', { hasText: 'you are reading this one' }).waitFor();
    await maxSays(rooms.quiet, 'marker');
    await page.waitForFunction(() => window.__seen.shown.length === 2);
    assert.deepEqual((await seen()).shown.map((n) => n.body), ['are you there?', 'marker']);

    // Remembered across a reload, and still nothing asked on load.
    await page.reload();
    await page.locator('#conn-badge', { hasText: 'Online' }).waitFor();
    assert.equal(await toggle.isChecked(), true);
    assert.equal((await seen()).requests, 0);

    // Turned off: quiet again, and remembered.
    await toggle.uncheck();
    await maxSays(rooms.quiet, 'after turning off');
    await page.locator('.room-button', { hasText: 'quiet' }).locator('.unread').waitFor();
    await maxSays(rooms.links, 'marker 2');
    await page.locator('.text', { hasText: 'marker 2' }).waitFor();
    assert.deepEqual((await seen()).shown, []);
    assert.equal(await page.evaluate((id) => localStorage.getItem(`chat.notify.${id}`), lena.userId), null);
  });

  test('a draft stays with its room; text typed the moment another room is chosen goes to that room', async () => {
    const composer = page.getByLabel('Message', { exact: true });
    await openRoom('links');
    await composer.fill('half a thought for links');
    await openRoom('quiet');
    assert.equal(await composer.inputValue(), '', 'quiet has no draft');
    await openRoom('links');
    assert.equal(await composer.inputValue(), 'half a thought for links', 'the draft came back');
    await composer.fill('');
    // A click and a keystroke in the same moment, before the page has drawn the new room
    // (views catch up at the next frame): the text belongs to the room chosen.
    await page.evaluate(() => {
      [...document.querySelectorAll('.room-button')].find((b) => b.textContent.includes('quiet')).click();
      const input = document.getElementById('composer-input');
      input.value = 'typed at once';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.locator('#room-title', { hasText: 'quiet' }).waitFor();
    assert.equal(await composer.inputValue(), 'typed at once');
    await composer.press('Enter');
    await page.locator('#message-list li.message:not(.pending) .text', { hasText: 'typed at once' }).waitFor();
    const history = await max.api('GET', `/getMessages?roomId=${rooms.quiet}&limit=5`);
    assert.ok(history.messages.some((m) => m.message === 'typed at once'), 'stored in quiet');
  });

  test('a room can be left after a confirmation, in every tab; a direct room cannot', async () => {
    const other = await openTab();
    await other.locator('.room-button', { hasText: 'goodbye' }).waitFor();

    // A direct conversation has no Leave button.
    await page.getByText('Find people').click();
    await page.getByLabel('Find someone by name').fill('max');
    await page.getByRole('button', { name: 'Message max' }).click();
    await page.locator('#room-title', { hasText: 'max' }).waitFor();
    assert.equal(await page.locator('#leave-room').isVisible(), false);

    // Cancel keeps the room.
    await openRoom('goodbye');
    await page.getByRole('button', { name: 'Leave goodbye' }).click();
    const dialog = page.getByRole('dialog', { name: 'Leave “goodbye”?' });
    await dialog.waitFor();
    await screenshot(page, 'leave-room');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#room-title').textContent(), 'goodbye');

    // Confirmed: gone from the list here, in the other tab, and on the server.
    await page.getByRole('button', { name: 'Leave goodbye' }).click();
    await dialog.getByRole('button', { name: 'Leave room' }).click();
    await page.locator('.room-button', { hasText: 'goodbye' }).waitFor({ state: 'detached' });
    await page.locator('#room-title', { hasText: 'Select a room' }).waitFor();
    await other.locator('.room-button', { hasText: 'goodbye' }).waitFor({ state: 'detached' });
    const listed = await page.evaluate(async (token) => (await (await fetch('/rooms', { headers: { authorization: `Bearer ${token}` } })).json()).rooms.map((r) => r.roomId), lena.token);
    assert.equal(listed.includes(rooms.goodbye), false);
    assert.equal(listed.includes(rooms.quiet), true);
    // Her leaving is an event of the room (Max sees the member count drop).
    const summary = (await max.api('GET', '/rooms')).rooms.find((r) => r.roomId === rooms.goodbye);
    assert.equal(summary.memberCount, 1);

    // A reload does not bring it back or reopen it.
    await page.reload();
    await page.locator('.room-button', { hasText: 'quiet' }).waitFor();
    assert.equal(await page.locator('.room-button', { hasText: 'goodbye' }).count(), 0);
    await other.close();
  });

  test('no script errors or CSP refusals', () => {
    assert.deepEqual(problems, []);
  });
});
