/*
 * Layout of #tiles: every tile (the local preview, remote tiles,
 * reconnecting placeholders, screen shares) fits the window, however
 * many there are. With a screen share or a pinned tile, that one is the
 * stage, as large as fits, and the rest share a strip under it. Tiles are
 * focusable: Enter or the Pin button pins one, F or the Full screen
 * button shows it full screen.
 */

const tiles = document.getElementById('tiles');
const ASPECT = 16 / 9;
const GAP = 8; // px, as #tiles' gap in style.css
const MIN_H = 120; // the stage never takes the strip's last 120 px
let pinned = null; // the pinned element, or null
let queued = false;

function items() {
  return [...tiles.children].filter((el) => !el.hidden);
}

// The best grid for n boxes of ASPECT in w×h: the column count that makes
// them largest, and their width.
function fit(n, w, h) {
  let best = { cols: 1, width: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const bw = (w - GAP * (cols - 1)) / cols;
    const bh = (h - GAP * (rows - 1)) / rows;
    const width = Math.floor(Math.max(0, Math.min(bw, bh * ASPECT)));
    if (width > best.width) best = { cols, width };
  }
  return best;
}

// The size cap of the Tiles control (quality.js sets the classes).
function cap(width) {
  if (tiles.classList.contains('tiles-small')) return Math.min(width, 160);
  return width;
}

function layout() {
  queued = false;
  const els = items();
  const rect = tiles.getBoundingClientRect();
  const W = Math.max(0, tiles.clientWidth);
  const H = Math.max(MIN_H, window.innerHeight - Math.max(0, rect.top) - GAP);
  if (pinned && !pinned.isConnected) pinned = null;
  const stage = pinned || els.find((el) => el.classList.contains('screen')) || null;
  for (const el of els) el.classList.toggle('stage', el === stage);
  tiles.classList.toggle('has-stage', !!stage && els.length > 1);
  let sizes;
  if (stage && els.length > 1) {
    const rest = els.filter((el) => el !== stage);
    const stripH = Math.max(MIN_H * 0.6, Math.min(H * 0.3, MIN_H * 1.5));
    const strip = fit(rest.length, W, stripH);
    const stageW = Math.floor(Math.min(W, (H - stripH - GAP) * ASPECT));
    sizes = new Map(rest.map((el) => [el, cap(strip.width)]));
    sizes.set(stage, stageW);
  } else {
    const g = fit(els.length || 1, W, H);
    sizes = new Map(els.map((el) => [el, cap(g.width)]));
  }
  for (const el of els) {
    const w = sizes.get(el);
    el.style.width = `${w}px`;
    el.style.height = `${Math.floor(w / ASPECT)}px`;
  }
}

export function relayout() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(layout);
}

export function pin(el) {
  pinned = pinned === el ? null : el;
  for (const t of items()) {
    const b = t.querySelector('.pin');
    if (b) b.setAttribute('aria-pressed', String(t === pinned));
  }
  relayout();
}

function fullscreen(el) {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else if (el.requestFullscreen) el.requestFullscreen().catch(() => {});
}

// Pin and Full screen buttons on each tile, added as tiles appear.
function decorate(el) {
  if (!(el instanceof HTMLElement) || el.querySelector('.tile-actions')) return;
  if (!el.tabIndex || el.tabIndex < 0) el.tabIndex = 0;
  const bar = document.createElement('div');
  bar.className = 'tile-actions';
  const who = () => el.getAttribute('aria-label') || (el.querySelector('.name') || {}).textContent || 'tile';
  const pinB = document.createElement('button');
  pinB.type = 'button';
  pinB.className = 'pin';
  pinB.textContent = 'Pin';
  pinB.setAttribute('aria-pressed', 'false');
  pinB.addEventListener('click', (ev) => {
    ev.stopPropagation();
    pin(el);
  });
  const fsB = document.createElement('button');
  fsB.type = 'button';
  fsB.className = 'fullscreen';
  fsB.textContent = 'Full screen';
  fsB.addEventListener('click', (ev) => {
    ev.stopPropagation();
    fullscreen(el);
  });
  const label = () => {
    pinB.setAttribute('aria-label', `Pin ${who()}`);
    fsB.setAttribute('aria-label', `Show ${who()} full screen`);
  };
  pinB.addEventListener('focus', label);
  fsB.addEventListener('focus', label);
  label();
  bar.append(pinB, fsB);
  el.append(bar);
  el.addEventListener('keydown', (ev) => {
    if (ev.target !== el) return;
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      pin(el);
    } else if (ev.key === 'f' || ev.key === 'F') {
      fullscreen(el);
    }
  });
  el.addEventListener('dblclick', () => fullscreen(el));
}

for (const el of tiles.children) decorate(el);
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) decorate(n);
  relayout();
}).observe(tiles, { childList: true });
new MutationObserver(relayout).observe(tiles, { attributes: true, attributeFilter: ['class'] });
window.addEventListener('resize', relayout);
if (typeof ResizeObserver === 'function') new ResizeObserver(relayout).observe(document.body);
relayout();

// For tests: lay out now (not at the next frame).
window.switchyardLayout = Object.freeze({ now: layout, pin });
