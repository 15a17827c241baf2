// Browser tests of the web client against the real product: chat-server (built by ops/test)
// with its own nats-server and Postgres database, driven in Debian's Chromium by
// playwright-core. Each browser context is one person. The tests run in order and build on
// each other (the same people and rooms); near the end the server is restarted and then one
// person's WebSocket is cut for longer than a resume can replay.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startStack, waitFor } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';
const UI_TIMEOUT = 15_000;
const MAX_REPLAY = 20;

describe('web client', { timeout: 240_000 }, () => {
  let stack;
  let browser;
  const people = {};
  let generalId;

  before(async () => {
    // A short replay bound, so that one test can miss more than a resume may replay.
    stack = await startStack({ GATEWAY_MAX_REPLAY: String(MAX_REPLAY) });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A new person: own browser context (own storage), a page at the app. */
  async function openPerson(name, prepare) {
    const context = await browser.newContext({ viewport: { width: 1180, height: 740 } });
    const person = { name, context, problems: [] };
    await openPage(person, prepare);
    people[name] = person;
    return person;
  }

  async function openPage(person, prepare = async () => {}) {
    const page = await person.context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    await prepare(page);
    page.on('pageerror', (e) => person.problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      // A refused WebSocket while the server is down is expected; CSP refusals are not.
      if (m.type() === 'error' && !/WebSocket connection|Failed to load resource/.test(m.text())) {
        person.problems.push(`console: ${m.text()}`);
      }
    });
    await page.goto(stack.url);
    person.page = page;
    return page;
  }

  async function signIn(person, action) {
    const { page } = person;
    await page.getByLabel('Username').fill(person.name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: action }).click();
    await page.locator('#me-name').filter({ hasText: person.name }).waitFor();
    const session = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.session')));
    Object.assign(person, { userId: session.userId, token: session.token, api: apiClient(stack.url, session.token) });
  }

  const messageTexts = (page) => page.locator('#message-list li.message:not(.pending) .text').allTextContents();
  const roomButton = (page, name) => page.locator('.room-button', { hasText: name });

  async function send(page, text) {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
  }

  async function expectMessage(page, text) {
    await page.locator('#message-list li.message:not(.pending) .text', { hasText: text }).first().waitFor();
  }

  test('the page and its files are served with their types and a strict CSP', async () => {
    const page = await fetch(`${stack.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    const csp = page.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /connect-src 'self' ws: wss:/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const script = await fetch(`${stack.url}/static/js/main.js`);
    assert.match(script.headers.get('content-type'), /^text\/javascript/);
    const css = await fetch(`${stack.url}/static/app.css`);
    assert.match(css.headers.get('content-type'), /^text\/css/);
    const missing = await fetch(`${stack.url}/static/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'not_found');
    // The api around it is unchanged: JSON errors, its own 404.
    assert.equal((await (await fetch(`${stack.url}/rooms`)).json()).error.code, 'missing_token');
    assert.equal((await (await fetch(`${stack.url}/no-such-route`)).json()).error.code, 'not_found');
  });

  test('two people sign up, share a room and see each other’s messages live', async () => {
    const alice = await openPerson('alice');
    await alice.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await screenshot(alice.page, 'login');
    // A wrong password shows the api's own message.
    await alice.page.getByLabel('Username').fill('alice');
    await alice.page.getByLabel('Password').fill('short');
    await alice.page.getByRole('button', { name: 'Create account' }).click();
    await alice.page.locator('#login-error', { hasText: /password/i }).waitFor();
    await signIn(alice, 'Create account');
    const bob = await openPerson('bob');
    await signIn(bob, 'Create account');

    await alice.page.getByText('New room').click();
    await alice.page.getByLabel('Room name').fill('general');
    await alice.page.getByRole('button', { name: 'Create room' }).click();
    await alice.page.locator('#room-title', { hasText: 'general' }).waitFor();
    generalId = await alice.page.locator('#room-meta code').textContent();

    await bob.page.getByText('Join a public room').click();
    await bob.page.getByLabel('Room id').fill(generalId);
    await bob.page.getByRole('button', { name: 'Join room' }).click();
    await bob.page.locator('#room-title', { hasText: 'general' }).waitFor();

    const html = 'Hi Bob! <b>not bold</b> <img src=x onerror=alert(1)>';
    await send(alice.page, html);
    await expectMessage(bob.page, 'not bold');
    assert.deepEqual(await messageTexts(bob.page), [html]);
    assert.equal(await bob.page.locator('#message-list b, #message-list img').count(), 0);

    await send(bob.page, 'Hello Alice, ça va ?');
    await expectMessage(alice.page, 'Hello Alice');
    await send(alice.page, 'Shall we test the reconnect later?');
    for (const p of [alice, bob]) {
      await expectMessage(p.page, 'reconnect later');
      assert.deepEqual(await messageTexts(p.page), [html, 'Hello Alice, ça va ?', 'Shall we test the reconnect later?']);
    }
    // Bob joined after Alice's page joined the room; his presence shows all the same.
    await alice.page.locator(`#room-people .person[data-user-id="${bob.userId}"] .dot[data-status="online"]`).waitFor();
  });

  test('the other person sees “typing…” until the message arrives', async () => {
    const { alice, bob } = people;
    const input = bob.page.getByLabel('Message', { exact: true });
    await input.pressSequentially('Sure, give me a sec', { delay: 20 });
    await alice.page.locator('#typing', { hasText: /is typing/ }).waitFor();
    await screenshot(alice.page, 'typing');
    await input.press('Enter');
    await expectMessage(alice.page, 'give me a sec');
    await waitFor(async () => (await alice.page.locator('#typing').textContent()) === '', { what: 'typing line to clear' });
  });

  test('own messages can be edited and deleted, and the other person sees it', async () => {
    const { alice, bob } = people;
    const mine = alice.page.locator('#message-list li.message.mine', { hasText: 'reconnect later' });
    await mine.hover();
    await mine.getByRole('button', { name: 'Edit this message' }).click();
    const editor = alice.page.getByLabel('Edit message');
    await editor.fill('Shall we test the reconnect now?');
    await editor.press('Enter');
    await bob.page.locator('li.message', { hasText: 'reconnect now?' }).locator('.edited').waitFor();

    await send(alice.page, 'oops, wrong room');
    await expectMessage(bob.page, 'wrong room');
    const oops = alice.page.locator('#message-list li.message.mine', { hasText: 'wrong room' });
    await oops.hover();
    await oops.getByRole('button', { name: 'Delete this message' }).click();
    await oops.getByRole('button', { name: 'Press again to delete this message' }).click();
    await bob.page.locator('li.message.deleted', { hasText: 'This message was deleted.' }).waitFor();
    assert.equal(await bob.page.getByText('oops, wrong room').count(), 0);
    // Only your own messages have the buttons.
    assert.equal(await bob.page.locator('li.message:not(.mine) .msg-actions').count(), 0);
  });

  test('unread counts show for rooms not open', async () => {
    const { alice, bob } = people;
    const room = await alice.api('POST', '/rooms', { name: 'random', visibility: 'public' });
    await bob.api('POST', `/rooms/${room.roomId}/join`);
    // Live from the inbox's roomAdded: no reload.
    await roomButton(bob.page, 'random').waitFor({ timeout: 2_000 });
    await alice.api('POST', '/sendMessage', { roomId: room.roomId, senderId: alice.userId, message: 'one', timestamp: new Date().toISOString() });
    await alice.api('POST', '/sendMessage', { roomId: room.roomId, senderId: alice.userId, message: 'two', timestamp: new Date().toISOString() });
    await roomButton(bob.page, 'random').locator('.unread', { hasText: '2' }).waitFor();
    await roomButton(bob.page, 'random').click();
    await expectMessage(bob.page, 'two');
    assert.equal(await roomButton(bob.page, 'random').locator('.unread').isHidden(), true);
  });

  test('errors show the api’s own message', async () => {
    const { bob } = people;
    const expected = await bob.api('POST', '/rooms/no-such-room/join').then(() => null, (e) => e.message);
    assert.match(expected, /room_not_found/);
    await bob.page.getByText('Join a public room').click();
    await bob.page.getByLabel('Room id').fill('no-such-room');
    await bob.page.getByRole('button', { name: 'Join room' }).click();
    const alert = bob.page.getByRole('alert').filter({ hasText: /./ }).first();
    await alert.waitFor();
    assert.ok(expected.includes(await bob.page.locator('#alert-text').textContent()), expected);
    await bob.page.getByRole('button', { name: 'Dismiss error' }).click();
    await bob.page.getByText('Join a public room').click();
  });

  test('scroll-back loads older messages with beforeSeq', async () => {
    const { alice, bob } = people;
    const room = await alice.api('POST', '/rooms', { name: 'archive', visibility: 'public' });
    for (let i = 1; i <= 60; i += 1) {
      await alice.api('POST', '/sendMessage', { roomId: room.roomId, senderId: alice.userId, message: `old ${i}`, timestamp: new Date().toISOString() });
    }
    await bob.page.getByText('Join a public room').click();
    await bob.page.getByLabel('Room id').fill(room.roomId);
    await bob.page.getByRole('button', { name: 'Join room' }).click();
    await expectMessage(bob.page, 'old 60');
    assert.equal((await messageTexts(bob.page)).length, 50);
    await bob.page.getByRole('button', { name: 'Load older messages' }).click();
    await expectMessage(bob.page, /^old 1$/);
    const all = await messageTexts(bob.page);
    assert.deepEqual(all, Array.from({ length: 60 }, (_, i) => `old ${i + 1}`));
    await roomButton(bob.page, 'general').click();
    await roomButton(alice.page, 'general').click();
  });

  test('presence: online, offline when the page closes, online again when it is back', async () => {
    const { alice, bob } = people;
    await bob.page.getByText('Find people').click();
    await bob.page.getByLabel('Find someone by name').fill('ali');
    await bob.page.getByRole('button', { name: 'Message alice' }).click();
    const dm = bob.page.locator('.room-button', { hasText: 'alice' });
    await dm.locator('.dot[data-status="online"]').waitFor();
    await bob.page.locator('#room-meta', { hasText: 'online' }).waitFor();

    await alice.page.close();
    await dm.locator('.dot[data-status="offline"]').waitFor();
    await bob.page.locator('#room-meta', { hasText: /last seen/ }).waitFor();

    // A new tab of the same browser is still signed in.
    await openPage(alice);
    await alice.page.locator('#me-name').filter({ hasText: 'alice' }).waitFor();
    await dm.locator('.dot[data-status="online"]').waitFor();
    await bob.page.locator('#room-meta', { hasText: 'online' }).waitFor();
    // Alice sees the direct room Bob opened.
    await alice.page.locator('.room-button', { hasText: 'bob' }).waitFor({ timeout: 20_000 });
    await roomButton(bob.page, 'general').click();
    await roomButton(alice.page, 'general').click();
    await expectMessage(alice.page, 'give me a sec');
  });

  test('a gateway restart loses nothing: “Reconnecting…”, then every message once, in order', async () => {
    const { alice, bob } = people;
    const before = await messageTexts(alice.page);
    assert.deepEqual(await messageTexts(bob.page), before);

    const stopped = await stack.stopServer('SIGTERM');
    assert.equal(stopped.code, 0, `chat-server exit ${JSON.stringify(stopped)}`);
    for (const p of [alice, bob]) await p.page.locator('#banner', { hasText: 'Reconnecting…' }).waitFor();

    // Written while the server is down: queued in the page, sent after the reconnect.
    await send(alice.page, 'during 1');
    await send(alice.page, 'during 2');
    await alice.page.locator('li.pending', { hasText: 'during 2' }).getByText('Waiting for connection…').waitFor();
    await screenshot(alice.page, 'reconnecting');

    await stack.startServer();
    // Sent through the api at once, most likely before the pages are back: replayed by resume.
    await bob.api('POST', '/sendMessage', { roomId: generalId, senderId: bob.userId, message: 'after restart (api)', timestamp: new Date().toISOString() });
    for (const p of [alice, bob]) await p.page.locator('#banner').waitFor({ state: 'hidden', timeout: 45_000 });
    await send(bob.page, 'after restart (page)');

    const added = ['during 1', 'during 2', 'after restart (api)', 'after restart (page)'];
    for (const p of [alice, bob]) {
      await expectMessage(p.page, 'after restart (page)');
      await expectMessage(p.page, 'during 2');
    }
    const shown = await messageTexts(alice.page);
    assert.deepEqual(await messageTexts(bob.page), shown, 'both pages show the same list');
    assert.deepEqual(shown.slice(0, before.length), before, 'nothing before the restart changed');
    assert.deepEqual([...shown.slice(before.length)].sort(), [...added].sort(), 'each new message exactly once');
    assert.ok(shown.indexOf('during 1') < shown.indexOf('during 2'), 'a sender’s messages keep their order');
    assert.equal(await alice.page.locator('li.pending').count(), 0);

    // The page's order is the server's order: the same as history from the api.
    const history = await alice.api('GET', `/getMessages?roomId=${generalId}&limit=100`);
    const expected = history.messages.map((m) => (m.deleted ? 'This message was deleted.' : m.message));
    assert.deepEqual(shown, expected.slice(-shown.length));
    const seqs = await alice.page.locator('#message-list li.message').evaluateAll((ns) => ns.map((n) => Number(n.dataset.seq)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));

    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('Nothing lost, nothing doubled', { delay: 10 });
    await alice.page.locator('#typing', { hasText: /is typing/ }).waitFor();
    await screenshot(alice.page, 'conversation');
  });

  test('a resume that cannot replay everything reloads the room from history', async () => {
    const { alice } = people;
    // Carol's WebSocket goes through a switch the test controls; it records `resumed` frames.
    const link = { blocked: false, sockets: [], resumed: [] };
    const carol = await openPerson('carol', (page) => page.routeWebSocket(/\/ws/, (ws) => {
      if (link.blocked) return ws.close({ code: 4000, reason: 'cut by the test' });
      const server = ws.connectToServer();
      server.onMessage((frame) => {
        if (String(frame).includes('"type":"resumed"')) link.resumed.push(JSON.parse(frame));
        ws.send(frame);
      });
      link.sockets.push(ws);
      return undefined;
    }));
    await signIn(carol, 'Create account');
    await carol.page.getByText('Join a public room').click();
    await carol.page.getByLabel('Room id').fill(generalId);
    await carol.page.getByRole('button', { name: 'Join room' }).click();
    await expectMessage(carol.page, 'after restart (page)');

    link.blocked = true;
    for (const ws of link.sockets) await ws.close({ code: 4000, reason: 'cut by the test' });
    await carol.page.locator('#banner', { hasText: 'Reconnecting…' }).waitFor();
    const missed = Array.from({ length: MAX_REPLAY + 5 }, (_, i) => `missed ${i + 1}`);
    for (const message of missed) {
      await alice.api('POST', '/sendMessage', { roomId: generalId, senderId: alice.userId, message, timestamp: new Date().toISOString() });
    }
    link.blocked = false;
    link.resumed = [];
    // Skip the backoff wait (an attempt already under way makes the button a no-op: retry).
    const retry = carol.page.getByRole('button', { name: 'Retry now' });
    await waitFor(async () => {
      if (await retry.isVisible()) await retry.click({ timeout: 1000 }).catch(() => {});
      return link.resumed.length > 0;
    }, { timeoutMs: 30_000, what: 'Carol to reconnect and resume' });

    await expectMessage(carol.page, `missed ${missed.length}`);
    assert.ok(link.resumed.some((r) => r.roomId === generalId && r.recovered === false), JSON.stringify(link.resumed));
    const shown = await messageTexts(carol.page);
    assert.deepEqual(shown.slice(-missed.length), missed);
    // What the page shows now is exactly the latest page of history, each message once.
    const history = await alice.api('GET', `/getMessages?roomId=${generalId}&limit=${shown.length}`);
    assert.deepEqual(shown, history.messages.map((m) => (m.deleted ? 'This message was deleted.' : m.message)));
    await carol.page.locator('#banner').waitFor({ state: 'hidden' });
  });

  test('no script errors or CSP refusals in any page', () => {
    for (const p of Object.values(people)) assert.deepEqual(p.problems, [], `${p.name}'s page`);
  });
});
