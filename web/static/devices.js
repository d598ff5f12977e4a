/*
 * Device choice for the Switchyard page: camera, microphone and (where
 * the browser has setSinkId) speaker, before and during a call. The
 * choice is remembered in localStorage and the lists follow devicechange
 * (a headset plugged in). "Preview" shows the chosen camera before joining.
 */
import { CAMERA, stopStream } from './media.js';

const KEY = 'switchyard.devices';
const $ = (id) => document.getElementById(id);
const sel = { video: $('camera-select'), audio: $('mic-select'), speaker: $('speaker-select') };
const previewButton = $('preview');
const selfEl = $('self');
const localVideo = $('local-video');
const tiles = $('tiles');
const canSink = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

let onSwitch = null; // (kind, deviceId) during a call; set by app.js
let preview = null; // the preview MediaStream, before joining

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || '{}') || {};
  } catch (_) {
    return {};
  }
}

function save(kind, id) {
  const c = load();
  c[kind] = id;
  try {
    localStorage.setItem(KEY, JSON.stringify(c));
  } catch (_) {
    /* storage may be disabled */
  }
}

/** The remembered choice: {audio, video, speaker} deviceIds ('' = default). */
export function chosen() {
  const c = load();
  return { audio: c.audio || '', video: c.video || '', speaker: c.speaker || '' };
}

export function setSwitcher(fn) {
  onSwitch = fn;
}

// Fills the three lists from enumerateDevices; labels are empty until
// the page has had a camera or mic once, so the lists say "default" then.
async function refresh() {
  const md = navigator.mediaDevices;
  if (!md || !md.enumerateDevices) return;
  let list = [];
  try {
    list = await md.enumerateDevices();
  } catch (_) {
    return;
  }
  const c = chosen();
  const fill = (el, kind, want) => {
    if (!el) return;
    const opts = [new Option('default', '')];
    let n = 0;
    for (const d of list) {
      if (d.kind !== kind || !d.deviceId || d.deviceId === 'default') continue;
      n++;
      opts.push(new Option(d.label || `${kind.replace('input', '').replace('output', '')} ${n}`, d.deviceId));
    }
    el.replaceChildren(...opts);
    el.value = opts.some((o) => o.value === want) ? want : '';
  };
  fill(sel.video, 'videoinput', c.video);
  fill(sel.audio, 'audioinput', c.audio);
  fill(sel.speaker, 'audiooutput', c.speaker);
  if (sel.speaker) sel.speaker.parentElement.hidden = !canSink;
}

function applySink(el) {
  const id = chosen().speaker;
  if (!canSink || !el || typeof el.setSinkId !== 'function') return;
  el.setSinkId(id).catch(() => {});
}

/** Shows the chosen camera in the local tile before joining. */
export async function startPreview() {
  stopPreview();
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const c = chosen();
  try {
    const s = await md.getUserMedia({ video: c.video ? { ...CAMERA, deviceId: { ideal: c.video } } : CAMERA });
    stopPreview();
    preview = s;
    localVideo.srcObject = s;
    selfEl.classList.remove('no-video');
    localVideo.play().catch(() => {});
    previewButton.setAttribute('aria-pressed', 'true');
    refresh();
  } catch (err) {
    const n = $('notice');
    if (n) n.textContent = `No camera preview (${err.name}).`;
  }
}

export function stopPreview() {
  if (!preview) return;
  stopStream(preview);
  preview = null;
  localVideo.srcObject = null;
  selfEl.classList.add('no-video');
  previewButton.setAttribute('aria-pressed', 'false');
}

for (const kind of ['video', 'audio', 'speaker']) {
  const el = sel[kind];
  if (!el) continue;
  el.addEventListener('change', () => {
    save(kind, el.value);
    if (kind === 'speaker') {
      for (const v of tiles.querySelectorAll('video')) applySink(v);
    } else if (preview && kind === 'video') {
      startPreview();
    } else if (onSwitch && el.value) {
      onSwitch(kind, el.value);
    }
  });
}

if (previewButton) {
  previewButton.addEventListener('click', () => (preview ? stopPreview() : startPreview()));
}

// New tiles play on the chosen speaker.
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) if (n.querySelectorAll) for (const v of n.querySelectorAll('video')) applySink(v);
}).observe(tiles, { childList: true });

if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
  navigator.mediaDevices.addEventListener('devicechange', refresh);
}
refresh();

/** For tests and after the first getUserMedia (labels appear). */
export { refresh };
