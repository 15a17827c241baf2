// Web addresses in message text become links. Only http: and https: addresses are linked;
// anything else (javascript:, data:, file:, …) stays plain text. Links are built as DOM
// nodes (an <a> with the address as its text), never as HTML, open in a new tab, and send
// the new page neither a handle on this one nor a referrer.

// From "http://" or "https://" to the first space, quote or angle bracket.
const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Punctuation that ends a sentence rather than an address.
const TRAILING = /[.,;:!?*_~]+$/;

/**
 * Splits `text` into parts: `{ text }` for plain text and `{ text, href }` for a link.
 * Joined, the parts' `text` is exactly `text`. Pure; tested in web/tests/links.test.js.
 */
export function splitLinks(text) {
  const parts = [];
  let last = 0;
  for (const match of String(text).matchAll(CANDIDATE)) {
    const raw = trimAddress(match[0]);
    const href = safeHref(raw);
    if (!href) continue;
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ text: raw, href });
    last = match.index + raw.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** Drops trailing punctuation, and a closing bracket that the address did not open. */
function trimAddress(raw) {
  let address = raw;
  for (;;) {
    const before = address;
    address = address.replace(TRAILING, '');
    for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']]) {
      if (address.endsWith(close) && count(address, close) > count(address, open)) address = address.slice(0, -1);
    }
    if (address === before) return address;
  }
}

function count(text, ch) {
  return text.split(ch).length - 1;
}

/** The normalised address if it is an http(s) URL with a host, else null. */
function safeHref(raw) {
  try {
    const url = new URL(raw);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return null;
    return url.href;
  } catch {
    return null;
  }
}

/** The parts of `text` as nodes: text nodes and <a> elements (textContent, never HTML). */
export function linkNodes(text) {
  return splitLinks(text).map((part) => {
    if (!part.href) return document.createTextNode(part.text);
    const a = document.createElement('a');
    a.href = part.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = part.text;
    return a;
  });
}
