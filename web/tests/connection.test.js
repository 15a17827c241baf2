// The connection state the page shows is the truth: with the network gone it says
// "Reconnecting…" within seconds (the browser's offline event, and a ping the server must
// answer), and "Online" only once it is connected again and every room has caught up. Each
// message sent meanwhile, by someone else or typed while offline, is then shown once.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startStack } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';

describe('connection state', { timeout: 180_000 }, () => {
  let stack;
  let browser;
  let ben;
  const problems = [];

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    ben = await registerUser(stack.url, 'ben', PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A person in Chromium, signed up, in a new room that Ben (api only) has joined. */
  async function personInRoom(name, roomName, routeSocket) {
    const context = await browser.newContext({ viewport: { width: 1180, height: 740 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
    if (routeSocket) await page.routeWebSocket(/\/ws/, routeSocket);
    await page.goto(stack.url);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('New room').click();
    await page.getByLabel('Room name').fill(roomName);
    await page.getByRole('button', { name: 'Create room' }).click();
    await page.locator('#room-title', { hasText: roomName }).waitFor();
    const roomId = (await page.locator('#room-meta code').textContent()).trim();
    await ben.api('POST', `/rooms/${roomId}/join`);
    await badge(page, 'Online');
    return { context, page, roomId };
  }

  const badge = (page, text, timeout) => page.locator('#conn-badge', { hasText: text }).waitFor({ timeout });
  const texts = (page) => page.locator('#message-list li.message:not(.pending) .text').allTextContents();
  const benSays = (roomId, message) => ben.api('POST', '/sendMessage', {
    roomId, senderId: ben.userId, message, timestamp: new Date().toISOString(),
  });

  async function send(page, text) {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
  }

  test('offline: “Reconnecting…” within seconds, “Online” once caught up, every message once', async () => {
    const { context, page, roomId } = await personInRoom('ana', 'network');
    await benSays(roomId, 'before');
    await page.locator('.text', { hasText: 'before' }).waitFor();

    await context.setOffline(true);
    const wentOffline = Date.now();
    await badge(page, 'Reconnecting…', 5_000);
    await page.locator('#banner', { hasText: 'Reconnecting…' }).waitFor({ timeout: 1_000 });
    console.log(`“Reconnecting…” ${Date.now() - wentOffline} ms after the network went away`);

    const missed = ['while away 1', 'while away 2', 'while away 3'];
    for (const m of missed) await benSays(roomId, m);
    await send(page, 'typed offline');
    await page.locator('li.pending', { hasText: 'typed offline' }).getByText('Waiting for connection…').waitFor();
    await screenshot(page, 'offline');
    // Still offline a while later: no false "Online".
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(await page.locator('#conn-badge').textContent(), 'Reconnecting…');

    await context.setOffline(false);
    const back = Date.now();
    await badge(page, 'Online', 30_000);
    console.log(`“Online” ${Date.now() - back} ms after the network came back`);
    // "Online" means caught up: what Ben sent meanwhile is already on the page.
    const atOnline = await texts(page);
    for (const m of missed) assert.ok(atOnline.includes(m), `"${m}" shown when “Online” shows: ${JSON.stringify(atOnline)}`);

    await page.locator('#message-list li.message:not(.pending) .text', { hasText: 'typed offline' }).waitFor();
    const shown = await texts(page);
    assert.deepEqual([...shown].sort(), ['before', ...missed, 'typed offline'].sort(), 'each message exactly once');
    assert.equal(await page.locator('li.pending').count(), 0);
    const history = await ben.api('GET', `/getMessages?roomId=${roomId}&limit=50`);
    assert.deepEqual(shown, history.messages.map((m) => m.message), 'the page shows the server’s order');
    await context.close();
  });

  test('a socket that goes silent without closing is found by the ping and replaced', async () => {
    // Each socket goes through a switch: a silenced one passes nothing either way and never
    // closes, as when a network path dies without a word. New sockets work.
    const sockets = [];
    const silenced = new Set();
    const { context, page, roomId } = await personInRoom('cleo', 'silence', (ws) => {
      sockets.push(ws);
      const server = ws.connectToServer();
      server.onMessage((frame) => !silenced.has(ws) && ws.send(frame));
      ws.onMessage((frame) => !silenced.has(ws) && server.send(frame));
      ws.onClose(() => server.close());
      server.onClose(() => !silenced.has(ws) && ws.close());
    });
    await benSays(roomId, 'before the silence');
    await page.locator('.text', { hasText: 'before the silence' }).waitFor();

    for (const ws of sockets) silenced.add(ws);
    const silentAt = Date.now();
    await benSays(roomId, 'during the silence');
    await badge(page, 'Reconnecting…', 15_000);
    console.log(`“Reconnecting…” ${Date.now() - silentAt} ms after the socket went silent`);
    await badge(page, 'Online', 30_000);
    assert.ok(sockets.length >= 2, 'a new socket was opened');
    await page.locator('.text', { hasText: 'during the silence' }).waitFor();
    assert.deepEqual(await texts(page), ['before the silence', 'during the silence']);
    await context.close();
  });

  test('no script errors', () => {
    assert.deepEqual(problems, []);
  });
});

