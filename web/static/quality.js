/*
 * Switchyard client: simulcast publishing and per-tile layer requests.
 *
 * An ES module (also window.switchyardQuality, for tests):
 *   sendEncodings()             the three simulcast layers a camera is published in
 *   watch(video, trackId, send) tell the server, with a `subscription`
 *                               message, how large `video` shows server track
 *                               `trackId`, now and whenever the size changes
 *   unwatch(video[, trackId])   stop that (the track or the tile is gone)
 *   setTileSize(size)           'auto' (tiles fit the window, layout.js),
 *                               'small' or 'large'; also the #tile-size select
 * The server sends each tile the smallest layer that covers its size, as
 * far as the bandwidth toward this browser allows (docs/protocol.md,
 * "Simulcast").
 */

// Lowest first; the rids are the ones the server knows (q, h, f).
// Chromium drops the top layer of small captures (from 640×480 it sends
// only q and h), so app.js asks the camera for 1280×720.
const ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1500000 },
];

// Size changes settle for this long before the server is told.
const SETTLE_MS = 200;

const watched = new WeakMap(); // <video> → {trackId, send, sent, timer}
let tileSize = 'auto';

export function sendEncodings() {
  return ENCODINGS.map((e) => ({ ...e }));
}

function report(video) {
  const w = watched.get(video);
  if (!w || !video.isConnected) return;
  const dpr = window.devicePixelRatio || 1;
  const width = Math.round(video.clientWidth * dpr);
  const height = Math.round(video.clientHeight * dpr);
  if (!width || !height) return;
  const key = `${w.trackId}:${width}x${height}`;
  if (key === w.sent) return;
  if (w.send({ type: 'subscription', track: w.trackId, width, height })) w.sent = key;
}

function schedule(video) {
  const w = watched.get(video);
  if (!w) return;
  clearTimeout(w.timer);
  w.timer = setTimeout(() => report(video), SETTLE_MS);
}

const observer = typeof ResizeObserver === 'function'
  ? new ResizeObserver((entries) => { for (const e of entries) schedule(e.target); })
  : null;

export function watch(video, trackId, send) {
  if (!trackId) return;
  const w = watched.get(video);
  if (w && w.trackId === trackId) {
    w.send = send;
    return;
  }
  watched.set(video, { trackId, send, sent: '', timer: 0 });
  if (observer) observer.observe(video);
  // Report at once: the first layer should already fit.
  report(video);
}

// Forgets a <video> whose track or tile is gone: no more reports for a
// track the server no longer sends, and the observer lets it go.
export function unwatch(video, trackId) {
  const w = watched.get(video);
  if (!w || (trackId && w.trackId !== trackId)) return;
  clearTimeout(w.timer);
  watched.delete(video);
  if (observer) observer.unobserve(video);
}

function applyTileSize() {
  const tiles = document.getElementById('tiles');
  if (!tiles) return;
  // 'auto': layout.js fits the tiles to the window, and their size picks
  // the layer; 'small' caps them at 160 px.
  tiles.classList.toggle('tiles-small', tileSize === 'small');
  tiles.classList.toggle('tiles-large', tileSize === 'large');
}

export function setTileSize(size) {
  tileSize = ['small', 'large'].includes(size) ? size : 'auto';
  const select = document.getElementById('tile-size');
  if (select && select.value !== tileSize) select.value = tileSize;
  applyTileSize();
}

{
  const select = document.getElementById('tile-size');
  if (select) select.addEventListener('change', () => setTileSize(select.value));
  const tiles = document.getElementById('tiles');
  if (tiles) new MutationObserver(applyTileSize).observe(tiles, { childList: true });
  applyTileSize();
}

window.switchyardQuality = Object.freeze({ sendEncodings, watch, unwatch, setTileSize });
