// The live inbox and read state in Chromium against the real server, measured: a new direct
// conversation, being added to a private room and a rename reach the other person's open
// page within a second with no request from that page in between (everything comes over its
// WebSocket); reading on one of Bob's two devices clears the badge on the other, Alice sees
// "Seen by Bob", and an unread count survives a reload because it comes from the server.
// Delays are measured from the click (a capture listener in the clicking page) to the moment
// the other page shows the change (polled every 10 ms in that page), and printed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startStack } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const LIVE_MS = 1_000;

describe('live inbox and read state', { timeout: 240_000 }, () => {
  let stack;
  let browser;
  const pages = [];
  let alice;
  let bob1;
  let bob2;
  let bobApi;
  let plansId;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    const bob = await registerUser(stack.url, 'bob', PASSWORD);
    bobApi = bob;
    await bob.api('PATCH', '/users/me', { displayName: 'Bob Marley' });
    await registerUser(stack.url, 'alice', PASSWORD);
    // Public rooms for the room browser, made by someone else.
    const carol = await registerUser(stack.url, 'carol', PASSWORD);
    for (const name of ['lobby', 'book club', 'a room with a rather long name for a small screen']) {
      await carol.api('POST', '/rooms', { name, visibility: 'public' });
    }
    alice = await signIn('alice', DESKTOP);
    bob1 = await signIn('bob', DESKTOP);
    bob2 = await signIn('bob', PHONE);
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A device: its own context (own storage), signed in through the page. */
  async function signIn(username, viewport) {
    const phone = viewport === PHONE;
    const context = await browser.newContext({ viewport, hasTouch: phone, isMobile: phone });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const device = { username, page, phone, problems: [], requests: [] };
    page.on('pageerror', (e) => device.problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) device.problems.push(`console: ${m.text()}`);
    });
    // Every HTTP request the page makes (the WebSocket's frames are not requests).
    page.on('request', (r) => device.requests.push({ at: Date.now(), method: r.method(), url: r.url() }));
    await page.goto(stack.url);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#conn-badge', { hasText: 'Online' }).waitFor({ state: 'attached' });
    pages.push(device);
    return device;
  }

  /** On a phone the sidebar is a drawer: open it first. */
  async function sidebar(device) {
    const closed = await device.page.locator('#chat-view[data-drawer="closed"]').count();
    if (closed && await device.page.locator('#drawer-open').isVisible()) {
      await device.page.locator('#drawer-open').click();
      await device.page.locator('#sidebar').waitFor({ state: 'visible' });
    }
  }

  async function closeDrawer(device) {
    if (await device.page.locator('#chat-view[data-drawer="open"]').count() && await device.page.locator('#drawer-close').isVisible()) {
      await device.page.locator('#drawer-close').click();
    }
    // Slid away (hidden once its transition is over), so that a screenshot shows the room.
    if (await device.page.locator('#drawer-open').isVisible()) await device.page.locator('#sidebar').waitFor({ state: 'hidden' });
  }

  /** Notes in `device`'s page the time of its next click (capture phase: before any handler). */
  async function armClock(device) {
    await device.page.evaluate(() => {
      window.clickedAt = null;
      document.addEventListener('click', () => (window.clickedAt = Date.now()), { capture: true, once: true });
    });
  }

  /**
   * The time (in the page, polled every 10 ms) at which `check` first holds in `device`.
   * `check(arg)` runs in the page and returns Date.now() once it holds (the page's CSP
   * allows no eval, so it cannot be wrapped there).
   */
  async function whenTrue(device, check, arg) {
    const handle = await device.page.waitForFunction(check, arg, { polling: 10, timeout: 5_000 });
    return handle.jsonValue();
  }

  const roomShown = (name) => [...document.querySelectorAll('.room-button')].some((b) => b.textContent.includes(name)) && Date.now();

  /**
   * Clicks `target` in `actor`'s page and measures until `check` holds in `watcher`'s page;
   * asserts it took less than a second and that the watcher made no HTTP request meanwhile.
   */
  async function measure(what, actor, target, watcher, check, arg) {
    await armClock(actor);
    const from = watcher.requests.length;
    await target.click();
    const shownAt = await whenTrue(watcher, check, arg);
    const clickedAt = await actor.page.evaluate(() => window.clickedAt);
    const delay = shownAt - clickedAt;
    console.log(`# ${what}: ${delay} ms`);
    const between = watcher.requests.slice(from).filter((r) => r.at >= clickedAt && r.at <= shownAt);
    assert.deepEqual(between, [], `${what}: no request from the other page`);
    assert.ok(delay < LIVE_MS, `${what} took ${delay} ms`);
    return delay;
  }

  test('alice finds bob by part of his name; his open page shows the conversation live', async () => {
    const { page } = alice;
    await page.getByText('Find people').click();
    await page.getByLabel('Find someone by name').fill('bob ma');
    const result = page.locator('#people-results .result', { hasText: 'Bob Marley' });
    await result.waitFor();
    await screenshot(page, 'live-people-search-desktop');
    await measure('new DM on bob’s open page', alice, result.getByRole('button', { name: 'Message Bob Marley' }),
      bob1, roomShown, 'alice');
    await page.locator('#room-title', { hasText: 'Bob Marley' }).waitFor();
    // Titled by the room entry's peerName: bob's page never looked alice up.
    assert.equal(bob1.requests.filter((r) => new URL(r.url).pathname === '/users').length, 0);
    await bob2.page.locator('.room-button', { hasText: 'alice' }).waitFor({ state: 'attached', timeout: LIVE_MS });
  });

  test('alice adds bob to a private room; his open page shows it live', async () => {
    const { page } = alice;
    await page.getByText('New room').click();
    await page.getByLabel('Room name').fill('plans');
    await page.getByLabel('Visibility').selectOption('private');
    await page.getByRole('button', { name: 'Create room' }).click();
    await page.locator('#room-title', { hasText: 'plans' }).waitFor();
    plansId = await page.evaluate(() => sessionStorage.getItem(Object.keys(sessionStorage).find((k) => k.startsWith('chat.room.'))));
    await page.getByRole('button', { name: 'Members' }).click();
    const dialog = page.getByRole('dialog', { name: 'Members of plans' });
    await dialog.getByLabel('Person to add').fill('bob');
    const add = dialog.getByRole('button', { name: 'Add Bob Marley' });
    await add.waitFor();
    await measure('added to a private room, on bob’s open page', alice, add, bob1, roomShown, 'plans');
    await dialog.locator('#members-list .result', { hasText: 'Bob Marley' }).waitFor();
    await screenshot(page, 'live-members-desktop');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('a rename by alice shows live on bob’s page', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: /Change your name/ }).click();
    await page.getByLabel('Display name').fill('Alice Liddell');
    await measure('rename on bob’s open page', alice, page.getByRole('button', { name: 'Save' }), bob1, roomShown, 'Alice Liddell');
    await bob2.page.locator('.room-button', { hasText: 'Alice Liddell' }).waitFor({ state: 'attached', timeout: LIVE_MS });
  });

  test('read on one of bob’s devices clears the badge on the other live; alice sees “Seen by”', async () => {
    const { page } = alice;
    await page.locator('.room-button', { hasText: 'Bob Marley' }).click();
    await page.locator('#room-title', { hasText: 'Bob Marley' }).waitFor();
    for (const text of ['are you there?', 'the plans are in', 'see you at six']) {
      await page.getByLabel('Message', { exact: true }).fill(text);
      await page.getByLabel('Message', { exact: true }).press('Enter');
      await page.locator('#message-list li.message:not(.pending) .text', { hasText: text }).waitFor();
    }
    for (const bob of [bob1, bob2]) {
      await bob.page.locator('.room-button', { hasText: 'Alice Liddell' }).locator('.unread', { hasText: '3' }).waitFor({ state: 'attached' });
    }
    assert.equal(await page.locator('#seen-by').isHidden(), true, 'not seen yet');

    await sidebar(bob2);
    await screenshot(bob2.page, 'live-unread-phone');
    const dmButton = bob1.page.locator('.room-button', { hasText: 'Alice Liddell' });
    const badgeGone = (name) => ![...document.querySelectorAll('.room-button')]
      .some((b) => b.textContent.includes(name) && b.querySelector('.unread:not([hidden])')) && Date.now();
    await measure('read on device 1 clears device 2’s badge', bob1, dmButton, bob2, badgeGone, 'Alice Liddell');
    await bob1.page.locator('#message-list li.message', { hasText: 'see you at six' }).waitFor();

    const seen = page.locator('#seen-by', { hasText: 'Seen by Bob Marley' });
    await seen.waitFor({ timeout: 3_000 });
    await screenshot(page, 'live-seen-by-desktop');
    await page.setViewportSize(PHONE);
    await closeDrawer(alice);
    await screenshot(page, 'live-seen-by-phone');
    await page.setViewportSize(DESKTOP);
  });

  test('an unread count survives a reload: it comes from the server', async () => {
    const { page } = alice;
    await page.locator('.room-button', { hasText: 'plans' }).click();
    for (const text of ['first plan', 'second plan']) {
      await page.getByLabel('Message', { exact: true }).fill(text);
      await page.getByLabel('Message', { exact: true }).press('Enter');
      await page.locator('#message-list li.message:not(.pending) .text', { hasText: text }).waitFor();
    }
    const badge = bob2.page.locator('.room-button', { hasText: 'plans' }).locator('.unread', { hasText: '2' });
    await badge.waitFor({ state: 'attached' });
    // This browser's own record of what was read is gone too: only the server can know.
    await bob2.page.evaluate(() => {
      for (const key of Object.keys(localStorage)) if (key.startsWith('chat.read.')) localStorage.removeItem(key);
    });
    await bob2.page.reload();
    await sidebar(bob2);
    await badge.waitFor();
    const rooms = (await bobApi.api('GET', '/rooms')).rooms;
    assert.equal(rooms.find((r) => r.roomId === plansId)?.unreadCount, 2);
    // And the DM read on device 1 stays read after the reload.
    assert.equal(await bob2.page.locator('.room-button', { hasText: 'Alice Liddell' }).locator('.unread').isHidden(), true);
  });

  test('screenshots: people search, the public room browser and the member list on a phone', async () => {
    const { page } = bob2;
    await sidebar(bob2);
    await page.getByText('Find people').click();
    await page.getByLabel('Find someone by name').fill('ali');
    await page.locator('#people-results .result', { hasText: 'Alice Liddell' }).waitFor();
    await screenshot(page, 'live-people-search-phone');
    await page.getByText('Join a public room').click();
    await page.locator('#rooms-results .result', { hasText: 'lobby' }).waitFor();
    await page.locator('#rooms-results').scrollIntoViewIfNeeded();
    await screenshot(page, 'live-room-browser-phone');
    await page.locator('.room-button', { hasText: 'plans' }).click();
    await closeDrawer(bob2);
    await page.getByRole('button', { name: 'Members' }).click();
    const dialog = page.getByRole('dialog', { name: 'Members of plans' });
    await dialog.locator('#members-list .result', { hasText: 'Alice Liddell' }).waitFor();
    await screenshot(page, 'live-members-phone');
    await dialog.getByRole('button', { name: 'Close' }).click();

    await alice.page.getByText('Join a public room').click();
    await alice.page.locator('#rooms-results .result', { hasText: 'lobby' }).waitFor();
    await screenshot(alice.page, 'live-room-browser-desktop');
  });

  test('no script errors or CSP refusals', () => {
    for (const device of pages) assert.deepEqual(device.problems, [], device.username);
  });
});
