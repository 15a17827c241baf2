// Building DOM nodes. Owns the one rule of this client's rendering: text goes in through
// textContent or text nodes, never innerHTML, because messages may contain HTML.

/**
 * el('button', {class: 'x', text: 'Hi', onclick: f, 'aria-label': 'y'}, child, …)
 * `text` sets textContent; `on…` adds a listener; `dataset` copies data-* values; other
 * keys become attributes (true → present, false/null → absent). Children may be nodes or
 * strings (appended as text nodes).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child != null && child !== false) node.append(child);
  }
  return node;
}

/** document.getElementById that fails loudly when the page and the script disagree. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing element #${id}`);
  return node;
}
