// Debian's Chromium under playwright-core, with the flags this machine needs (no network
// beyond localhost), one isolated context per simulated person, and screenshots.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from './stack.js';

export const SCREENSHOTS = path.join(ROOT, 'web/tests/screenshots');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Playwright gives every launch a fresh, empty user-data-dir of its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: FLAGS,
    timeout: 30_000,
  });
}

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}
