// Debian's Chromium under playwright-core, with the flags this machine needs (no network
// beyond localhost), one isolated context per simulated person, and screenshots.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from './stack.js';

/** Where screenshots go: SCREENSHOT_DIR, or web/tests/screenshots/ (ignored by git). */
export const SCREENSHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'web/tests/screenshots');

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

/** The screenshots shown in the README; tests refresh them with UPDATE_DOC_SCREENSHOTS=1. */
export const DOC_SCREENSHOTS = path.join(ROOT, 'docs/screenshots');

/**
 * Saves a screenshot in SCREENSHOTS. With `doc`, one the README shows: copied
 * to docs/screenshots/ too when UPDATE_DOC_SCREENSHOTS=1 (so that an ordinary run does not
 * rewrite committed images).
 */
export async function screenshot(page, name, { doc = false } = {}) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  if (doc && process.env.UPDATE_DOC_SCREENSHOTS === '1') {
    fs.mkdirSync(DOC_SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(DOC_SCREENSHOTS, `${name}.png`));
  }
}
