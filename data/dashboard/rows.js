/* antmon dashboard: a table body that holds only the rows on screen.
 *
 * A row per miner costs seconds to build and lay out with 10,000 miners,
 * while a screen shows twenty. WindowedRows keeps every item in order and
 * puts in the <tbody> only those on screen, plus a few on each side, each
 * row of the same height (the CSS variable --row-h on the body). The
 * body's padding stands for the rows above and below, so the page scrolls
 * as far as it would with every row there and the scroll bar means what it
 * says. Rows leaving the screen are kept for reuse, not rebuilt. */
'use strict';

class WindowedRows {
  /* @opts: key(item) -> string that names an item across updates,
   * create() -> a new empty <tr>, render(tr, item) fills it in;
   * margin: rows kept beyond each edge of the screen. */
  constructor(tbody, opts) {
    this.tbody = tbody;
    this.key = opts.key;
    this.create = opts.create;
    this.render = opts.render;
    this.margin = opts.margin || 5;
    this.items = [];
    this.rows = new Map(); // key -> <tr> in the body
    this.spare = []; // <tr>s off screen, for reuse
    this.from = 0;
    this.to = 0;
    this.stale = true; // the rows in the body show older items
    this.pending = false;
    /* Overflow anchoring would shift the page when rows above change. */
    tbody.style.overflowAnchor = 'none';
    const later = () => this.schedule();
    window.addEventListener('scroll', later, { passive: true });
    window.addEventListener('resize', later);
    /* Panels above the table growing or shrinking (the actions followed,
     * the selection bar) move it without a scroll. */
    new ResizeObserver(later).observe(document.body);
  }

  /* New items, or new data for the same ones: the rows on screen are
   * drawn again at once; the page keeps its scroll position. */
  setItems(items) {
    this.items = items;
    this.stale = true;
    this.draw();
    /* Fewer rows may have moved the page (a shorter body clamps the
     * scroll): look again once it is laid out. */
    this.schedule();
  }

  /* Calls @fn(tr, key) on each row in the body, for changes that touch
   * only what is drawn (the tick boxes). */
  forEachRow(fn) {
    for (const [key, tr] of this.rows) fn(tr, key);
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  rowHeight() {
    return parseFloat(getComputedStyle(this.tbody).getPropertyValue('--row-h')) || 40;
  }

  /* [from, to) of the items on screen, with the margin. Below the screen
   * (the table not scrolled to yet), the first screenful. */
  range(h) {
    const n = this.items.length;
    const first = Math.min(n, Math.max(0, Math.floor(-this.tbody.getBoundingClientRect().top / h)));
    return [Math.max(0, first - this.margin),
      Math.min(n, first + Math.ceil(window.innerHeight / h) + this.margin)];
  }

  draw() {
    /* Hidden (another view): nothing is on screen; drawn when shown. */
    if (!this.tbody.getClientRects().length) return;
    const h = this.rowHeight();
    const [from, to] = this.range(h);
    if (!this.stale && from === this.from && to === this.to) return;
    const fresh = this.stale;
    this.stale = false;
    this.from = from;
    this.to = to;
    this.tbody.style.paddingTop = from * h + 'px';
    this.tbody.style.paddingBottom = (this.items.length - to) * h + 'px';
    const wanted = new Map();
    for (let i = from; i < to; i++) wanted.set(this.key(this.items[i]), this.items[i]);
    for (const [key, tr] of this.rows) {
      if (wanted.has(key)) continue;
      tr.remove();
      this.rows.delete(key);
      this.spare.push(tr);
    }
    let at = 0;
    for (const [key, item] of wanted) {
      let tr = this.rows.get(key);
      if (!tr || fresh) {
        if (!tr) {
          tr = this.spare.pop() || this.create();
          this.rows.set(key, tr);
        }
        this.render(tr, item);
      }
      /* Moved only when out of place, so a refresh of the same order
       * touches no node's position. */
      if (this.tbody.children[at] !== tr) this.tbody.insertBefore(tr, this.tbody.children[at] || null);
      at++;
    }
  }
}

window.WindowedRows = WindowedRows;
