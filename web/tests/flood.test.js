// Being added to rooms by strangers, in bulk, in Chromium against the real server: two
// accounts add the user to 150 rooms within seconds while the page is open. The page makes
// them live in a few paced `resume` frames, so the gateway's frame limit refuses none of
// them, the socket stays open, all 150 rooms are listed, and the user's direct conversation
// (made before the flood) still gets its messages live. (The api refuses more than 30
// additions of one person by others in a burst; this test lifts that limit to see the page
// cope with many rooms at once.)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startStack, waitFor } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';
const ROOMS = 150;

describe('added to many rooms at once', { timeout: 240_000 }, () => {
  let stack;
  let browser;
  const problems = [];

  before(async () => {
    // The api limits how often others may add one person (30, then one per 10 s); this
    // test lifts that to see what the page does with many rooms at once (several api
    // processes, or a long-lived account, can get there legitimately).
    stack = await startStack({ API_ADDED_PER_SEC: '1000', API_ADDED_BURST: '1000' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A person signed up in Chromium, with every WebSocket frame of theirs recorded. */
  async function signUp(name, routeSocket) {
    const context = await browser.newContext({ viewport: { width: 1180, height: 740 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
    if (routeSocket) await page.routeWebSocket(/\/ws/, routeSocket);
    const socket = { opened: 0, closed: 0, sent: [], received: [] };
    page.on('websocket', (ws) => {
      socket.opened += 1;
      ws.on('framesent', (f) => socket.sent.push(parse(f.payload)));
      ws.on('framereceived', (f) => socket.received.push(parse(f.payload)));
      ws.on('close', () => (socket.closed += 1));
    });
    await page.goto(stack.url);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await badge(page, 'Online');
    const session = await page.evaluate(() => JSON.parse(localStorage.getItem('chat.session')));
    return { context, page, socket, userId: session.userId };
  }

  const parse = (payload) => {
    try {
      return JSON.parse(String(payload));
    } catch {
      return {};
    }
  };
  const badge = (page, text, timeout) => page.locator('#conn-badge', { hasText: text }).waitFor({ timeout });

  /** POST /rooms, waiting out the api's own write limit (429) as a script would. */
  async function createRoom(user, body) {
    for (;;) {
      try {
        return await user.api('POST', '/rooms', body);
      } catch (e) {
        if (!/: 429 /.test(e.message)) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  test('150 rooms from two strangers: none refused, socket kept, DM still live', async () => {
    const vic = await signUp('vic');
    const friend = await registerUser(stack.url, 'friend', PASSWORD);
    const strangers = [await registerUser(stack.url, 'mal1', PASSWORD), await registerUser(stack.url, 'mal2', PASSWORD)];

    // The conversation that matters, made before the flood and open on the page.
    const dm = await friend.api('POST', '/dms', { userId: vic.userId });
    await vic.page.locator('#room-list li').first().waitFor();
    await vic.page.locator('#room-list li button').first().click();
    await vic.page.locator('#room-title', { hasText: 'friend' }).waitFor();

    const started = Date.now();
    // All at once, as fast as the api lets each stranger write.
    const created = await Promise.all(strangers.flatMap((s, n) => Array.from({ length: ROOMS / strangers.length }, (_, i) =>
      createRoom(s, { name: `spam ${n}-${i}`, visibility: 'private', members: [vic.userId] }).then((r) => r.roomId))));
    console.log(`${ROOMS} rooms created in ${Date.now() - started} ms`);

    await waitFor(async () => (await vic.page.locator('#room-list li').count()) === ROOMS + 1, {
      timeoutMs: 60_000, what: `all ${ROOMS} rooms listed`,
    });
    // Every room is made live: each one answered `resumed` (or `joined`) on this socket.
    const live = () => new Set(vic.socket.received.filter((f) => f.type === 'resumed' || f.type === 'joined').map((f) => f.roomId));
    await waitFor(() => created.every((id) => live().has(id)), { timeoutMs: 20_000, what: 'every room live' }).catch((e) => {
      const refused = vic.socket.received.filter((f) => f.code === 'rate_limited').length;
      throw new Error(`${e.message} (${refused} frames refused as rate_limited)`);
    });

    const refused = vic.socket.received.filter((f) => f.type === 'error' && f.code === 'rate_limited');
    assert.deepEqual(refused, [], 'no frame of the page was refused by the frame limit');
    assert.equal(vic.socket.opened, 1, 'one socket, never replaced');
    assert.equal(vic.socket.closed, 0, 'the socket was not closed');
    const kinds = vic.socket.sent.map((f) => f.type);
    assert.equal(kinds.filter((t) => t === 'join').length, 0, 'rooms already joined need no join frame');
    const resumes = kinds.filter((t) => t === 'resume').length;
    console.log(`${vic.socket.sent.length} frames sent, ${resumes} of them resume`);
    assert.ok(resumes < ROOMS / 2, `rooms resumed in batches (${resumes} resume frames)`);
    assert.equal(await vic.page.locator('#conn-badge').textContent(), 'Online');

    const sentAt = Date.now();
    await friend.api('POST', '/sendMessage', {
      roomId: dm.roomId, senderId: friend.userId, message: 'are you there?', timestamp: new Date().toISOString(),
    });
    await vic.page.locator('#message-list .text', { hasText: 'are you there?' }).waitFor({ timeout: 2_000 });
    console.log(`DM message shown ${Date.now() - sentAt} ms after it was sent`);
    await screenshot(vic.page, 'flood');
    await vic.context.close();
  });

  test('no script errors', () => {
    assert.deepEqual(problems, []);
  });
});
