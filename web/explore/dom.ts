/** Small DOM helpers of the app (no framework: the views are a few forms, tables and vega charts). */

/** Creates an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

/** A token as shown in tables and charts: JSON escapes (newlines, tabs) without the quotes. */
export function showToken(token: string): string {
  return JSON.stringify(token).slice(1, -1);
}

/** A labelled input row. */
export function field(label: string, input: HTMLElement): HTMLLabelElement {
  return el('label', { class: 'field' }, el('span', { text: label }), input);
}

/** Link to a docs page served by the explorer (`/docs/…`) or kept relative in a snapshot. */
export function docsLink(page: string, text: string): HTMLAnchorElement {
  return el('a', { href: `docs/${page}`, target: '_blank', rel: 'noopener', class: 'docs', text });
}

/** A table from a header and rows of cells (strings or nodes). */
export function table(header: string[], rows: (string | Node)[][], attrs: Record<string, string> = {}): HTMLTableElement {
  const t = el('table', attrs);
  t.append(el('tr', {}, ...header.map((h) => el('th', { text: h }))));
  for (const r of rows) t.append(el('tr', {}, ...r.map((c) => el('td', {}, c))));
  return t;
}
