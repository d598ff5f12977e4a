/*
 * The people panel: everyone in the room, oneself first, with live state
 * as data attributes on <li data-participant-id> (and words for screen
 * readers): data-publishing, data-mic-muted, data-camera-muted,
 * data-speaking, data-screen, data-reconnecting ("true"/"false") and
 * data-quality (stats.js: "good", "fair", "poor" or ""). With a token that
 * has admin permission, Kick and Mute call the admin API (docs/api.md).
 */
import { ext } from './ext.js';

const $ = (id) => document.getElementById(id);
const list = $('people-list');
const count = $('people-count');
const DROPPED = new Set(['socket-closed', 'ping-timeout', 'pc-failed', 'reconnected']);

let people = new Map(); // id → {id, name, tracks: Map id → TrackInfo, speaking, reconnecting, quality, self}
let graceMs = 0;
let selfId = null;
let admin = false;
const timers = new Map(); // id → reconnect-grace timer

function person(id, name) {
  let p = people.get(id);
  if (!p) {
    p = { id, name: name || '', tracks: new Map(), speaking: false, reconnecting: false, quality: '', self: id === selfId };
    people.set(id, p);
  }
  if (name) p.name = name;
  return p;
}

function state(p) {
  const tracks = [...p.tracks.values()];
  const audio = tracks.filter((t) => t.kind === 'audio');
  const video = tracks.filter((t) => t.kind === 'video');
  return {
    publishing: tracks.length > 0,
    micMuted: audio.length > 0 && audio.every((t) => t.muted),
    cameraMuted: video.length > 0 && video[0].muted,
    // Our own screen: the server tells no one when its publisher stops it.
    screen: p.self ? document.body.classList.contains('sharing') : video.length > 1,
    speaking: p.speaking,
    reconnecting: p.reconnecting,
    quality: p.quality,
  };
}

function describe(s) {
  const words = [];
  if (s.reconnecting) words.push('reconnecting');
  if (!s.publishing) words.push('not publishing');
  if (s.micMuted) words.push('mic muted');
  if (s.cameraMuted) words.push('camera off');
  if (s.screen) words.push('sharing screen');
  if (s.speaking) words.push('speaking');
  if (s.quality) words.push(`connection ${s.quality}`);
  return words.join(', ');
}

async function adminCall(path, body) {
  const session = ext.session();
  const token = ext.token();
  if (!session || !token) return;
  const url = `/v1/admin/rooms/${encodeURIComponent(session.room)}/participants/${path}`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) $('notice').textContent = `Admin action failed: ${res.status} ${(await res.text()).slice(0, 200)}`;
  } catch (err) {
    $('notice').textContent = `Admin action failed: ${err.message}`;
  }
}

function actions(p) {
  const box = document.createElement('span');
  box.className = 'admin-actions';
  const kick = document.createElement('button');
  kick.type = 'button';
  kick.className = 'kick';
  kick.textContent = 'Kick';
  kick.setAttribute('aria-label', `Remove ${p.name || p.id} from the room`);
  kick.addEventListener('click', () => adminCall(`${encodeURIComponent(p.id)}/kick`));
  box.append(kick);
  const mic = [...p.tracks.values()].find((t) => t.kind === 'audio' && !t.muted);
  if (mic) {
    const mute = document.createElement('button');
    mute.type = 'button';
    mute.className = 'admin-mute';
    mute.textContent = 'Mute';
    mute.setAttribute('aria-label', `Mute ${p.name || p.id}'s microphone`);
    mute.addEventListener('click', () => adminCall(`${encodeURIComponent(p.id)}/tracks/${encodeURIComponent(mic.id)}/mute`, { muted: true }));
    box.append(mute);
  }
  return box;
}

function render() {
  const items = [];
  const ordered = [...people.values()].sort((a, b) => (b.self ? 1 : 0) - (a.self ? 1 : 0));
  for (const p of ordered) {
    const s = state(p);
    const li = document.createElement('li');
    li.dataset.participantId = p.id;
    li.dataset.publishing = String(s.publishing);
    li.dataset.micMuted = String(s.micMuted);
    li.dataset.cameraMuted = String(s.cameraMuted);
    li.dataset.screen = String(s.screen);
    li.dataset.speaking = String(s.speaking);
    li.dataset.reconnecting = String(s.reconnecting);
    li.dataset.quality = s.quality;
    const name = document.createElement('span');
    name.className = 'who';
    name.textContent = p.self ? `${p.name || p.id} (you)` : p.name || p.id;
    const what = document.createElement('span');
    what.className = 'what';
    what.textContent = describe(s);
    li.append(name, what);
    if (admin && !p.self && !p.reconnecting) li.append(actions(p));
    items.push(li);
  }
  list.replaceChildren(...items);
  count.textContent = String(people.size);
}

function reset() {
  for (const t of timers.values()) clearTimeout(t);
  timers.clear();
  people = new Map();
}

ext.on('session', (session) => {
  reset();
  selfId = session ? session.participantId : null;
  admin = !!session && !!session.permissions && session.permissions.admin === true && !!ext.token();
  if (session) person(session.participantId, session.name).self = true;
  render();
});

// Our own tracks, as the server knows them (published / track-muted).
ext.on('message', (msg, session) => {
  switch (msg.type) {
    case 'joined':
      graceMs = Number.isFinite(msg.reconnect_grace_ms) ? Math.max(0, msg.reconnect_grace_ms) : 0;
      for (const p of msg.participants || []) {
        if (!p || !p.id || p.id === selfId) continue;
        const q = person(p.id, p.name);
        for (const t of p.tracks || []) if (t && t.id) q.tracks.set(t.id, { ...t });
      }
      break;
    case 'participant-joined': {
      const info = msg.participant || {};
      if (!info.id) return;
      const from = info.resumed_from;
      if (from && people.has(from)) {
        clearTimeout(timers.get(from));
        timers.delete(from);
        people.delete(from);
      }
      const q = person(info.id, info.name);
      q.reconnecting = false;
      for (const t of info.tracks || []) if (t && t.id) q.tracks.set(t.id, { ...t });
      break;
    }
    case 'participant-left': {
      const id = msg.participant_id;
      const p = people.get(id);
      if (!p) return;
      if (graceMs > 0 && DROPPED.has(msg.reason)) {
        p.reconnecting = true;
        p.speaking = false;
        p.tracks.clear();
        timers.set(id, setTimeout(() => {
          timers.delete(id);
          if (people.get(id) === p && p.reconnecting) {
            people.delete(id);
            render();
          }
        }, graceMs));
      } else {
        people.delete(id);
      }
      break;
    }
    case 'track-published':
    case 'published': {
      const id = msg.type === 'published' ? selfId : msg.participant_id;
      if (id && msg.track && msg.track.id) person(id).tracks.set(msg.track.id, { ...msg.track });
      break;
    }
    case 'track-unpublished': {
      const p = people.get(msg.participant_id);
      if (p) p.tracks.delete(msg.track_id);
      break;
    }
    case 'track-muted': {
      const p = people.get(msg.participant_id);
      const t = p && p.tracks.get(msg.track_id);
      if (t) t.muted = !!msg.muted;
      break;
    }
    case 'active-speakers': {
      const now = new Set((msg.speakers || []).map((s) => s.participant_id));
      for (const p of people.values()) p.speaking = now.has(p.id);
      break;
    }
    default:
      return;
  }
  void session;
  render();
});

document.addEventListener('switchyard-sharing', render);

/** stats.js reports a participant's connection quality here. */
export function setQuality(id, quality) {
  const p = people.get(id);
  if (!p || p.quality === quality) return;
  p.quality = quality;
  render();
}
