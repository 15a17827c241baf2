// Unit tests of how message text is split into text and links (static/js/links.js): only
// http and https addresses are linked, punctuation around them is left out, and the parts
// always add up to the original text. No browser needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitLinks } from '../static/js/links.js';

const links = (text) => splitLinks(text).filter((p) => p.href).map((p) => p.href);
const joined = (text) => splitLinks(text).map((p) => p.text).join('');

test('http and https addresses are links; the text around them is kept as is', () => {
  const text = 'Docs: https://example.com/guide?a=1&b=2#top and http://example.org.';
  assert.deepEqual(links(text), ['https://example.com/guide?a=1&b=2#top', 'http://example.org/']);
  assert.equal(joined(text), text);
  assert.deepEqual(splitLinks('see https://x.example/p.')[1], { text: 'https://x.example/p', href: 'https://x.example/p' });
});

test('other schemes are never linked', () => {
  for (const text of [
    'javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'jav&#x61;script:alert(1)', 'data:text/html,<b>x</b>',
    'file:///etc/passwd', 'ftp://example.com/', 'vbscript:msgbox', 'http://', 'https:// spaced', 'mailto:a@b.c',
  ]) {
    assert.deepEqual(links(text), [], text);
    assert.equal(joined(text), text);
  }
  // Only the http address inside is linked, never the javascript: before it.
  assert.deepEqual(links('javascript:alert(1)//http://evil.example'), ['http://evil.example/']);
});

test('an address ends at a space, a quote or an angle bracket', () => {
  assert.deepEqual(links('<https://a.example/x>'), ['https://a.example/x']);
  assert.deepEqual(links('"https://a.example/q"'), ['https://a.example/q']);
  assert.deepEqual(links("<a href='https://evil.example'>x</a>"), ['https://evil.example/']);
  assert.equal(joined('<img src=x onerror=alert(1)> https://a.example'), '<img src=x onerror=alert(1)> https://a.example');
});

test('brackets: an address keeps the ones it opened, not the sentence’s', () => {
  assert.deepEqual(links('(see https://en.example/wiki/Rust_(language))'), ['https://en.example/wiki/Rust_(language)']);
  assert.deepEqual(links('(see https://a.example/x)'), ['https://a.example/x']);
  assert.deepEqual(links('[https://a.example/y], ok!'), ['https://a.example/y']);
});

test('no addresses: one plain part; empty text: no parts', () => {
  assert.deepEqual(splitLinks('just words'), [{ text: 'just words' }]);
  assert.deepEqual(splitLinks(''), []);
});
