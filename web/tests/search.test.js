// Message search on the page, in Chromium against the real server: the search box finds
// words in the user's rooms only (a word that only another room holds finds nothing), the
// matched words are marked in a snippet that stays text (a message holding HTML runs
// nothing and makes no element), and choosing a hit opens its room at that message.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerUser, startStack } from './support/stack.js';
import { launchBrowser, screenshot } from './support/browser.js';

const PASSWORD = 'correct horse battery';

describe('message search', { timeout: 120_000 }, () => {
  let stack;
  let browser;
  let page;
  const problems = [];
  let garden;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    const alice = await registerUser(stack.url, 'alice', PASSWORD);
    const carol = await registerUser(stack.url, 'carol', PASSWORD);
    garden = (await alice.api('POST', '/rooms', { name: 'garden', visibility: 'private' })).roomId;
    const secret = (await carol.api('POST', '/rooms', { name: 'secret', visibility: 'private' })).roomId;
    const say = (who, roomId, message) => who.api('POST', '/sendMessage', {
      roomId, senderId: who.userId, message, timestamp: new Date().toISOString(),
    });
    await say(alice, garden, 'the tomato seedlings are up');
    for (let i = 0; i < 5; i += 1) await say(alice, garden, `watering round ${i}`);
    await say(alice, garden, '<img src=x onerror="window.__pwned = 1"> «harvest» <b>tomato</b> soup');
    await say(carol, secret, 'the zeppelin lands at noon');

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    await page.goto(stack.url);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#conn-badge', { hasText: 'Online' }).waitFor({ state: 'attached' });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function search(words) {
    const details = page.locator('#search-messages');
    if (!(await details.evaluate((d) => d.open))) await page.getByText('Search messages').click();
    await page.locator('#search-query').fill(words);
    await page.locator('#search-query').press('Enter');
  }

  test('hits are marked as text, and a word of another room finds nothing', async () => {
    await search('tomato');
    const hits = page.locator('#search-results li');
    await assert.doesNotReject(hits.nth(1).waitFor());
    assert.equal(await hits.count(), 2);
    const marks = await page.locator('#search-results mark').allTextContents();
    assert.deepEqual(marks, ['tomato', 'tomato']);
    const texts = await hits.allTextContents();
    assert.ok(texts[0].includes('«harvest»') || texts[1].includes('«harvest»'), texts.join(' | '));
    assert.equal(await page.locator('#search-results img, #search-results b').count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await screenshot(page, 'search-results');

    await search('zeppelin');
    await page.locator('#search-status', { hasText: 'No message has “zeppelin”' }).waitFor();
    assert.equal(await hits.count(), 0);

    await search('-tomato');
    await page.locator('#search-status', { hasText: 'no word to look for' }).waitFor();
  });

  test('choosing a hit opens its room at that message', async () => {
    await search('seedlings');
    await page.locator('#search-results li').first().waitFor();
    await page.locator('#search-results button').first().click();
    await page.locator('#room-title', { hasText: 'garden' }).waitFor();
    const found = page.locator('#message-list [data-found]');
    await found.waitFor();
    assert.match(await found.textContent(), /tomato seedlings are up/);
    assert.deepEqual(problems, []);
  });
});
