// Reactions in Chromium against the real server: chips under a message with counts, live
// from another member's HTTP reaction; a click on a chip gives or takes back mine; the
// picker adds a new one; after a reload the chips come from history with `me` for this
// user. Lena uses the page; Max (api only) reacts beside her.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startStack, waitFor } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';

describe('reactions', { timeout: 180_000 }, () => {
  let stack;
  let browser;
  let page;
  let max;
  let roomId;
  let messageId;
  const problems = [];

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    max = await registerUser(stack.url, 'max', PASSWORD);
    const context = await browser.newContext({ viewport: { width: 1180, height: 740 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && problems.push(`console: ${m.text()}`));
    await page.goto(stack.url);
    await page.getByLabel('Username').fill('lena');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#conn-badge', { hasText: 'Online' }).waitFor();
    ({ roomId } = await max.api('POST', '/rooms', { name: 'reacts', visibility: 'public' }));
    await page.getByText('Join a public room').click();
    await page.getByLabel('Room id').fill(roomId);
    await page.getByRole('button', { name: 'Join room' }).click();
    await page.locator('#room-title', { hasText: 'reacts' }).waitFor();
    ({ messageId } = await max.api('POST', '/sendMessage', {
      roomId, senderId: max.userId, message: 'lunch at noon?', timestamp: new Date().toISOString(),
    }));
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const message = () => page.locator(`#message-list li.message[data-message-id="${messageId}"]`);
  const chip = (emoji) => message().locator(`.reaction[data-emoji="${emoji}"]`);
  /** Every chip of the message as [emoji, count, pressed]. */
  const chips = () => message().locator('.reaction').evaluateAll((bs) => bs.map((b) => [
    b.dataset.emoji, Number(b.querySelector('.count').textContent), b.getAttribute('aria-pressed') === 'true',
  ]));
  const maxSees = async () => {
    const page = await max.api('GET', `/getMessages?roomId=${roomId}`);
    return page.messages.find((m) => m.messageId === messageId).reactions;
  };
  const until = (want) => waitFor(async () => JSON.stringify(await chips()) === JSON.stringify(want), {
    what: `chips ${JSON.stringify(want)}`,
  });

  test('another member\'s reaction shows live; a click on its chip adds mine, another takes it back', async () => {
    await message().waitFor();
    assert.deepEqual(await chips(), []);
    await max.api('POST', `/rooms/${roomId}/messages/${messageId}/reactions`, { emoji: '👍' });
    await until([['👍', 1, false]]);
    await chip('👍').click();
    await until([['👍', 2, true]]);
    assert.deepEqual(await maxSees(), [{ emoji: '👍', count: 2, me: true }]);
    await chip('👍').click();
    await until([['👍', 1, false]]);
    assert.deepEqual(await maxSees(), [{ emoji: '👍', count: 1, me: true }]);
  });

  test('the picker adds a new emoji; chips come back from history after a reload, me for this user', async () => {
    await message().hover();
    await message().getByRole('button', { name: 'Add a reaction' }).click();
    await message().getByRole('button', { name: 'React with 🎉' }).click();
    await until([['👍', 1, false], ['🎉', 1, true]]);
    assert.deepEqual(await maxSees(), [{ emoji: '👍', count: 1, me: true }, { emoji: '🎉', count: 1, me: false }]);
    await screenshot(page, 'reactions');
    await page.reload();
    await page.locator('#conn-badge', { hasText: 'Online' }).waitFor();
    await page.locator('.room-button', { hasText: 'reacts' }).click();
    await message().waitFor();
    await until([['👍', 1, false], ['🎉', 1, true]]);
    // Max takes his back: the chip goes, live.
    await fetch(`${stack.url}/rooms/${roomId}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`, {
      method: 'DELETE', headers: { authorization: `Bearer ${max.token}` },
    });
    await until([['🎉', 1, true]]);
    assert.deepEqual(problems, []);
  });
});
