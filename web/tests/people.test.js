// People on the page, in Chromium against the real server: names and avatars instead of
// ids, renaming oneself (bad names refused inline), finding someone by part of their name
// and opening a direct conversation, "Message" from a name in a room, and the same pages
// at a desktop and at a phone width. Alice uses a desktop-sized page, Bob a phone-sized one.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startStack } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

describe('people: names, search, direct messages', { timeout: 180_000 }, () => {
  let stack;
  let browser;
  const people = {};
  let carol;
  let lobbyId;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    // Carol (api only) made the lobby and speaks in it before anyone else is there.
    carol = await registerUser(stack.url, 'carol', PASSWORD);
    await carol.api('PATCH', '/users/me', { displayName: 'Carol Danvers' });
    lobbyId = (await carol.api('POST', '/rooms', { name: 'lobby', visibility: 'public' })).roomId;
    await carol.api('POST', '/sendMessage', {
      roomId: lobbyId, senderId: carol.userId, message: 'welcome, everyone', timestamp: new Date().toISOString(),
    });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function signUp(name, viewport) {
    const context = await browser.newContext({ viewport, hasTouch: viewport === PHONE, isMobile: viewport === PHONE });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const person = { name, context, page, problems: [], requests: [] };
    page.on('pageerror', (e) => person.problems.push(`page error: ${e.message}`));
    // Refused bad names (400) and routes an older server lacks (404) are expected answers.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) person.problems.push(`console: ${m.text()}`);
    });
    page.on('request', (r) => person.requests.push({ method: r.method(), url: r.url() }));
    await page.goto(stack.url);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#conn-badge', { hasText: 'Online' }).waitFor({ state: 'attached' });
    Object.assign(person, await page.evaluate(() => JSON.parse(localStorage.getItem('chat.session'))));
    people[name] = person;
    return person;
  }

  /** On a phone the sidebar is a drawer: open it first. */
  async function sidebar(person) {
    const closed = await person.page.locator('#chat-view[data-drawer="closed"]').count();
    if (closed && await person.page.locator('#drawer-open').isVisible()) {
      await person.page.locator('#drawer-open').click();
      await person.page.locator('#sidebar').waitFor({ state: 'visible' });
    }
  }

  test('a new account shows its own name, and renaming refuses bad names inline', async () => {
    const bob = await signUp('bob', PHONE);
    await signUp('alice', DESKTOP);
    const { page } = bob;
    await sidebar(bob);
    await page.locator('#me-name', { hasText: 'bob' }).waitFor();
    await page.locator('#me-username', { hasText: '@bob' }).waitFor();

    await page.getByRole('button', { name: /Change your name/ }).click();
    const field = page.getByLabel('Display name');
    for (const bad of ['   ', 'bell\u0007name']) {
      await field.fill(bad);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('#rename-error').filter({ hasText: /\S/ }).waitFor();
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      assert.equal(await field.inputValue(), bad, 'what was typed stays to be corrected');
    }
    await screenshot(page, 'people-rename-error-phone');
    // Nothing was stored.
    assert.equal((await (await fetch(`${stack.url}/users/${bob.userId}`, { headers: { authorization: `Bearer ${bob.token}` } })).json()).displayName, 'bob');

    await field.fill('Bobby Tables');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#me-name', { hasText: 'Bobby Tables' }).waitFor();
    // The name may show first through the live `profile` frame; the form closes on the answer.
    await page.locator('#rename-form').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#me-avatar').textContent(), 'BT');
  });

  test('alice finds bob by typing part of his name and opens a direct conversation', async () => {
    const { alice, bob } = people;
    const { page } = alice;
    await page.getByText('Find people').click();
    await page.getByLabel('Find someone by name').fill('bobb');
    const result = page.locator('#people-results .result', { hasText: 'Bobby Tables' });
    await result.waitFor();
    assert.equal(await result.locator('.result-sub').textContent(), '@bob');
    assert.equal(await result.locator('.avatar').textContent(), 'BT');
    await screenshot(page, 'people-search-desktop');
    // By username too, and nothing for a name nobody has.
    await page.getByLabel('Find someone by name').fill('BO');
    await result.waitFor();
    await page.getByLabel('Find someone by name').fill('zz-nobody');
    await page.locator('#people-status', { hasText: 'No one found' }).waitFor();
    await page.getByLabel('Find someone by name').fill('Bobby');
    await result.waitFor();

    await result.getByRole('button', { name: 'Message Bobby Tables' }).click();
    await page.locator('#room-title', { hasText: 'Bobby Tables' }).waitFor();
    await page.locator('#room-meta', { hasText: '@bob' }).waitFor();
    await page.locator('.room-button[aria-current="true"]', { hasText: 'Bobby Tables' }).waitFor();
    await page.getByLabel('Message', { exact: true }).fill('hi Bobby, found you by name');
    await page.getByLabel('Message', { exact: true }).press('Enter');
    await page.locator('#message-list li.message:not(.pending) .text', { hasText: 'found you by name' }).waitFor();
    const dms = (await (await fetch(`${stack.url}/rooms`, { headers: { authorization: `Bearer ${alice.token}` } })).json()).rooms;
    assert.deepEqual(dms.filter((r) => r.kind === 'direct').map((r) => r.peerId), [bob.userId]);
  });

  test('bob sees the conversation under alice’s name, never an id', async () => {
    const { bob } = people;
    const { page } = bob;
    // Live from the inbox's roomAdded, titled by its peerName: no reload, no name lookup.
    const dm = page.locator('.room-button', { hasText: 'alice' });
    await sidebar(bob);
    await dm.waitFor({ timeout: 2_000 });
    await dm.click();
    await page.locator('#room-title', { hasText: 'alice' }).waitFor();
    const message = page.locator('#message-list li.message', { hasText: 'found you by name' });
    await message.waitFor();
    assert.equal(await message.locator('.sender').textContent(), 'alice');
    assert.equal(await message.locator('.avatar').textContent(), 'AL');
    assert.equal(await page.locator('text=/User [0-9a-f]{6}/').count(), 0, 'no "User 8a22d7" anywhere');
    await screenshot(page, 'people-dm-phone');
  });

  test('names in a room: history and live messages, in one batched lookup; "Message" from a name', async () => {
    const { alice } = people;
    const { page } = alice;
    await page.getByText('Join a public room').click();
    await page.getByLabel('Room id').fill(lobbyId);
    await page.getByRole('button', { name: 'Join room' }).click();
    await page.locator('#room-title', { hasText: 'lobby' }).waitFor();
    // History carries the sender's name.
    const first = page.locator('#message-list li.message', { hasText: 'welcome, everyone' });
    await first.locator('.sender', { hasText: 'Carol Danvers' }).waitFor();
    assert.equal(await first.locator('.avatar').textContent(), 'CD');

    // A live message from someone new: the name comes from GET /users?ids=, once.
    const dave = await registerUser(stack.url, 'dave', PASSWORD);
    await dave.api('POST', `/rooms/${lobbyId}/join`);
    alice.requests.length = 0;
    for (let i = 1; i <= 5; i += 1) {
      await dave.api('POST', '/sendMessage', {
        roomId: lobbyId, senderId: dave.userId, message: `dave ${i}`, timestamp: new Date().toISOString(),
      });
    }
    const last = page.locator('#message-list li.message', { hasText: 'dave 5' });
    await last.locator('.sender', { hasText: 'dave' }).waitFor();
    const lookups = alice.requests.filter((r) => new URL(r.url).pathname === '/users');
    assert.ok(lookups.length <= 1, `one lookup for dave, not one per message: ${JSON.stringify(lookups)}`);
    assert.equal(alice.requests.filter((r) => new URL(r.url).pathname.startsWith('/users/')).length, 0);

    // His name opens his card; "Message" opens the conversation with him.
    await last.getByRole('button', { name: 'dave: open profile' }).click();
    const card = page.getByRole('dialog', { name: 'dave' });
    await card.waitFor();
    await card.locator('#person-username', { hasText: '@dave' }).waitFor();
    await screenshot(page, 'people-card-desktop');
    await card.getByRole('button', { name: 'Message dave' }).click();
    await page.locator('#room-title', { hasText: 'dave' }).waitFor();
    assert.equal(await card.isVisible(), false);
  });

  test('Members lists the room’s people by name, with Add people', async () => {
    const { alice, bob } = people;
    await sidebar(bob);
    await bob.page.getByText('Join a public room').click();
    await bob.page.getByLabel('Room id').fill(lobbyId);
    await bob.page.getByRole('button', { name: 'Join room' }).click();
    await bob.page.locator('#room-title', { hasText: 'lobby' }).waitFor();
    await bob.page.getByRole('button', { name: 'Members' }).click();
    const dialog = bob.page.getByRole('dialog', { name: 'Members of lobby' });
    await dialog.waitFor();
    for (const name of ['Carol Danvers', 'dave']) await dialog.locator('#members-list .result', { hasText: name }).waitFor();
    assert.equal(await dialog.locator('#add-people').isVisible(), true);
    await screenshot(bob.page, 'people-members-phone');
    // A name in the list opens the person's card.
    await dialog.getByRole('button', { name: 'Carol Danvers' }).click();
    await bob.page.getByRole('dialog', { name: 'Carol Danvers' }).getByRole('button', { name: 'Close' }).click();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await alice.page.locator('.room-button', { hasText: 'lobby' }).click();
  });

  test('a rename shows on the other person’s page', async () => {
    const { alice, bob } = people;
    await sidebar(bob);
    await bob.page.getByRole('button', { name: /Change your name/ }).click();
    await bob.page.getByLabel('Display name').fill('Robert');
    await bob.page.getByRole('button', { name: 'Save' }).click();
    await bob.page.locator('#me-name', { hasText: 'Robert' }).waitFor();
    // Live from the `profile` frame: no reload.
    const shown = alice.page.locator('.room-button', { hasText: 'Robert' });
    await shown.waitFor({ timeout: 2_000 });
    await shown.click();
    await alice.page.locator('#room-title', { hasText: 'Robert' }).waitFor();
  });

  test('no script errors or CSP refusals', () => {
    for (const person of Object.values(people)) assert.deepEqual(person.problems, [], person.name);
  });
});
