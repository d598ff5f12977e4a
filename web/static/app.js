/*
 * Switchyard page: the controller between the form and buttons, the
 * Session (session.js: protocol and peer connections, no DOM) and the
 * tiles (tile.js). It owns the local media, the reconnect after a broken
 * socket and leaving with the page. Feature modules (mute.js, chat.js, …)
 * hear it through ext.js.
 *
 * TEST HOOKS (browser tests depend on these; keep them stable)
 *
 *   window.switchyard.state          string, one of
 *                                      "idle"         nothing started yet
 *                                      "connecting"   socket opening / join sent
 *                                      "joined"       `joined` received (stays "joined"
 *                                                     while a leave is in flight and
 *                                                     when a non-fatal `error` arrives)
 *                                      "left"         `left` received (or leave timed out,
 *                                                     or the page is being hidden)
 *                                      "error"        an `error` arrived before `joined`
 *                                                     (e.g. room-full), or bad input
 *                                      "reconnecting" the socket broke; rejoining by itself
 *                                                     (at once, then with backoff) as the same
 *                                                     participant (join's resume)
 *                                      "disconnected" the socket closed unexpectedly and
 *                                                     reconnecting gave up
 *   window.switchyard.room           room of the current / last session, or null
 *   window.switchyard.participantId  own participant id from `joined`, or null
 *   window.switchyard.tiles()        array, one entry per remote participant tile, in
 *                                    page order: {id, name, videoWidth, videoHeight,
 *                                    currentTime, audioLive, resumedFrom}
 *   window.switchyard.stateText      the text shown in #state, e.g. "left: kicked"
 *   window.switchyard.lastError      last server error {code, message, ref}, or null
 *   window.switchyard.join(room, name)  same as filling the form and pressing Join
 *   window.switchyard.leave()        same as pressing Leave; returns a Promise that
 *                                    settles when the session is torn down
 *   window.switchyard.resumedFrom    the earlier session the current one resumed, or null
 *   window.switchyardExt             ext.js's hub; .session() is the current Session
 *   Leaving the page: the leave is sent when the navigation starts; a page
 *   still there NAV_REJOIN_MS later (download, 204/205, cancelled) rejoins,
 *   as does a page restored from the back/forward cache (both resume).
 *
 *   DOM: remote tile  <div class="tile" data-participant-id="p_…"> with a
 *        <video autoplay playsinline> (not muted) and a <div class="name">.
 *        The local preview is <div id="self" class="self"> (deliberately NOT
 *        class "tile") with <video id="local-video" muted>.
 *        Buttons #join #leave #mute-mic #toggle-camera #rejoin #copy-link,
 *        inputs #room #name, state line #state (also has data-state = state),
 *        messages (media problems, copy result) in #notice.
 *   URL:  /?room=NAME[&name=NAME][&token=JWT] fills the form and joins at
 *         once; after `joined` the address becomes /?room=NAME
 *         (history.replaceState); the token is kept in sessionStorage.
 *   The mute buttons keep their labels; aria-pressed="true" is muted / off.
 */
import { Session } from './session.js';
import { acquireMedia, stopStream, CAMERA } from './media.js';
import { Tile } from './tile.js';
import { ext, emit, provide } from './ext.js';
import * as quality from './quality.js';
import * as devices from './devices.js';

const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;
// Printable as Go's unicode.IsPrint: letters, marks, numbers, punctuation,
// symbols and the ASCII space.
const NAME_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u;
// A navigation away sends the leave when it starts (beforeunload, the
// Navigation API's navigate). No browser says when such a navigation
// ends without unloading the page (a download, a 204/205 answer, a
// cancel: Chromium 156 fires no event and settles no promise), so a page
// still alive this long after it said leave takes it back and rejoins.
const NAV_REJOIN_MS = 400;
// Reconnecting after the socket broke: at once, then after these delays
// (the last repeats, with ±20% jitter), until RECONNECT_GIVE_UP_MS. Short
// at first, so that a page is back within a second or two of the network.
const RECONNECT_DELAYS_MS = [100, 250, 500, 500, 500, 500, 1000, 2000];
const RECONNECT_GIVE_UP_MS = 60000;

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('join-form'),
  room: $('room'),
  name: $('name'),
  join: $('join'),
  leave: $('leave'),
  muteMic: $('mute-mic'),
  toggleCamera: $('toggle-camera'),
  rejoin: $('rejoin'),
  linkBox: $('link-box'),
  roomLink: $('room-link'),
  copyLink: $('copy-link'),
  state: $('state'),
  notice: $('notice'),
  self: $('self'),
  localVideo: $('local-video'),
  tiles: $('tiles'),
  preview: $('preview'),
};

const app = {
  state: 'idle',
  stateText: 'idle',
  room: null,
  participantId: null,
  lastError: null,
  session: null, // the current Session; null when none is running
  stream: null, // the current session's local media (ours, not the session's)
  tiles: new Map(), // participant id → Tile of the current session
  last: null, // {room, name} of the last join, for Rejoin
  resumedFrom: null, // the session the current one resumed
  // A session ended on our side without our meaning to leave (the page
  // started navigating away): {room, name, claim, stream} to rejoin
  // with, claim being the join's resume.
  away: null,
  rejoinTimer: 0,
  reconnect: null, // {since, attempt} while reconnecting after a broken socket
  pending: null, // the {room, name, claim, stream} a reconnect attempt waits to use
  micMuted: false,
  cameraOff: false,
};

// A join token (when the server has auth on) comes in the page URL,
// /?room=r&token=…; read once, since the URL is rewritten after joining
// (the token stays out of the address bar and the room link). Kept in
// this tab's sessionStorage so that a reload joins again.
const joinToken = (() => {
  const KEY = 'switchyard.token';
  const fromURL = new URLSearchParams(location.search).get('token');
  try {
    if (fromURL) sessionStorage.setItem(KEY, fromURL);
    return fromURL || sessionStorage.getItem(KEY) || undefined;
  } catch (_) {
    return fromURL || undefined; // storage may be disabled
  }
})();

function setState(state, text) {
  app.state = state;
  app.stateText = text || state;
  ui.state.textContent = app.stateText;
  ui.state.dataset.state = state;
  updateControls();
}

function notice(text) {
  ui.notice.textContent = text || '';
}

function validRoom(room) {
  return ROOM_RE.test(room);
}

function validName(name) {
  const n = [...name].length; // code points, as the server counts runes
  return n >= 1 && n <= 64 && NAME_RE.test(name);
}

function roomURL(room) {
  return `${location.origin}${location.pathname}?room=${encodeURIComponent(room)}`;
}

function showLocal(stream) {
  const hasVideo = !!stream && stream.getVideoTracks().length > 0;
  ui.localVideo.muted = true;
  ui.localVideo.srcObject = stream || null;
  ui.self.classList.toggle('no-video', !hasVideo || app.cameraOff);
  if (stream) ui.localVideo.play().catch(() => {});
}

function localTracks(kind) {
  const s = app.session && app.stream;
  if (!s) return [];
  return kind === 'audio' ? s.getAudioTracks() : s.getVideoTracks();
}

function updateControls() {
  const active = !!app.session;
  const leaving = active && app.session.leaving;
  ui.join.disabled = active;
  ui.room.disabled = active;
  ui.name.disabled = active;
  ui.leave.disabled = !active || leaving;

  const mic = localTracks('audio').length > 0;
  const cam = localTracks('video').length > 0;
  ui.muteMic.disabled = !mic || leaving;
  ui.toggleCamera.disabled = !cam || leaving;
  // Toggle buttons: a fixed label, the state in aria-pressed (a label
  // that flips too would be read as "Unmute mic, pressed").
  ui.muteMic.setAttribute('aria-pressed', String(app.micMuted));
  ui.toggleCamera.setAttribute('aria-pressed', String(app.cameraOff));

  ui.linkBox.hidden = !(active && app.state === 'joined');
  ui.preview.disabled = active;
  ui.rejoin.hidden = active || !app.last || !['left', 'error', 'disconnected'].includes(app.state);
  if (!active && app.reconnect) ui.leave.disabled = false; // stops reconnecting
}

// ---------------------------------------------------------------- session

// Every join and rejoin starts here: the form, a reconnect after the
// socket broke, a navigation that did not unload, a back/forward cache
// restore. opts.resume: the claim to continue; opts.stream: media kept.
function startSession(room, name, opts = {}) {
  clearTimeout(app.rejoinTimer);
  app.away = null;
  app.pending = null;
  app.lastError = null;
  app.room = room;
  app.participantId = null;
  app.resumedFrom = null;
  app.last = { room, name };
  const s = new Session({
    room,
    name,
    token: joinToken,
    resume: opts.resume,
    reconnecting: !!app.reconnect,
    sendEncodings: quality.sendEncodings,
  });
  app.session = s;
  app.stream = null;
  wire(s);
  if (app.reconnect) setState('reconnecting', 'reconnecting…');
  else setState('connecting', 'connecting');

  const kept = opts.stream;
  const live = kept && kept.getTracks().some((t) => t.readyState === 'live');
  if (kept && !live) stopStream(kept);
  const media = live ? Promise.resolve({ stream: kept, problem: '' }) : acquireMedia(devices.chosen());
  s.media = media.then(({ stream, problem }) => {
    if (app.session !== s || s.leaving) {
      stopStream(stream);
      return null;
    }
    if (problem) notice(problem);
    app.stream = stream;
    if (stream) {
      for (const t of stream.getAudioTracks()) t.enabled = !app.micMuted;
      for (const t of stream.getVideoTracks()) t.enabled = !app.cameraOff;
    }
    showLocal(stream);
    updateControls();
    if (stream) devices.refresh(); // device labels show once a device was granted
    return stream;
  });
  s.start();
}

function current(s) {
  return app.session === s;
}

// Renders one session's events into the page.
function wire(s) {
  s.addEventListener('joined', (ev) => {
    if (!current(s)) return;
    app.room = s.room;
    app.participantId = s.participantId;
    app.resumedFrom = s.resumedFrom;
    app.last = { room: s.room, name: s.name };
    app.reconnect = null;
    try {
      history.replaceState(null, '', `${location.pathname}?room=${encodeURIComponent(s.room)}`);
    } catch (_) {
      /* not fatal */
    }
    ui.roomLink.value = roomURL(s.room);
    setState('joined', 'joined');
    emit('session', s);
    s.media.then((stream) => {
      if (!stream || !current(s) || s.leaving) return;
      if (!s.mayPublish()) {
        // The server would refuse the offer: free the camera instead.
        stopStream(stream);
        app.stream = null;
        showLocal(null);
        updateControls();
        notice('Your token does not allow publishing; joined receive-only.');
        return;
      }
      s.publish(stream);
    });
  });
  s.addEventListener('participant', (ev) => {
    if (!current(s)) return;
    const p = ev.detail.participant;
    const tile = app.tiles.get(p.id);
    if (tile) tile.update(p);
    else app.tiles.set(p.id, new Tile(ui.tiles, p));
  });
  s.addEventListener('participant-left', (ev) => {
    const tile = app.tiles.get(ev.detail.id);
    if (!tile) return;
    app.tiles.delete(ev.detail.id);
    tile.remove();
  });
  s.addEventListener('media', (ev) => {
    const p = ev.detail.participant;
    const tile = app.tiles.get(p.id);
    if (tile) tile.refresh();
    emit('media', p, tile ? tile.el : null);
  });
  s.addEventListener('track', (ev) => {
    const { participant, track, meta } = ev.detail;
    const tile = app.tiles.get(participant.id);
    // Ask for the simulcast layer that fits the tile.
    if (tile && track.kind === 'video' && meta.trackId && !meta.screen) quality.watch(tile.video, meta.trackId, (m) => s.send(m));
  });
  s.addEventListener('track-unpublished', (ev) => {
    const { participant, trackId, kind, matched } = ev.detail;
    const tile = app.tiles.get(participant.id);
    if (!tile) return;
    // Apply at once, not in a microtask: the page must reflect it now.
    tile.render();
    // No more size reports for it: the server would answer unknown-track.
    if (kind === 'video') quality.unwatch(tile.video, matched ? trackId : '');
  });
  s.addEventListener('server-error', (ev) => {
    const { error, fatal } = ev.detail;
    app.lastError = error;
    if (fatal) {
      app.reconnect = null;
      return; // the end event says it
    }
    if (s.leaving || error.ref === 'chat' || (error.ref === 'subscription' && error.code === 'unknown-track')) {
      // chat.js shows chat errors beside the chat; a size report for a
      // track unpublished meanwhile is a harmless race.
      return;
    }
    const text = `error: ${error.code}${error.message ? ': ' + error.message : ''}`;
    if (current(s)) setState('joined', `joined — ${text}${error.ref ? ' (' + error.ref + ')' : ''}`);
  });
  s.addEventListener('problem', (ev) => {
    if (current(s)) notice(ev.detail.text);
  });
  s.addEventListener('connection', (ev) => {
    if (!current(s)) return;
    const { pc, state } = ev.detail;
    if (state === 'failed' || state === 'disconnected') notice(`${pc} connection ${state === 'failed' ? 'failed' : 'interrupted…'}`);
    else if (state === 'connected' && ui.notice.textContent.startsWith(`${pc} connection`)) notice('');
  });
  s.addEventListener('draining', (ev) => {
    const at = ev.detail.at;
    const when = at ? `at ${at.toLocaleTimeString()}` : 'soon';
    notice(`The server is shutting down: calls end ${when}; new joins are refused.`);
  });
  s.addEventListener('leaving', () => {
    if (current(s)) setState(app.state, 'leaving…');
  });
  s.addEventListener('message', (ev) => emit('message', ev.detail.msg, s));
  s.addEventListener('end', (ev) => ended(s, ev.detail));
}

// Whatever ended the session: clear the page of it, then rejoin when
// the socket broke, or when the page was only navigating away.
function ended(s, { state, text, claim, reconnect }) {
  if (!current(s)) return;
  for (const tile of app.tiles.values()) tile.remove();
  app.tiles.clear();
  const stream = app.stream;
  app.stream = null;
  app.session = null;
  emit('session', null);
  showLocal(null);
  if (s.departing) {
    // depart(): kept for a rejoin, should the page stay.
    setState(state, text);
    s.departing({ room: s.room, name: s.name, claim, stream, pcs: s.departedPCs || [] });
    return;
  }
  if (reconnect) {
    setState(state, text);
    reconnectSoon({ room: s.room, name: s.name, claim, stream });
    return;
  }
  stopStream(stream);
  setState(state, text);
}

function join(room, name) {
  room = String(room == null ? '' : room).trim();
  name = String(name == null ? '' : name).trim();
  if (app.session) return false;
  if (!validRoom(room)) {
    setState('error', 'error: room must be 1–64 characters of A–Z a–z 0–9 _ . -');
    return false;
  }
  if (!validName(name)) {
    setState('error', 'error: name must be 1–64 printable characters');
    return false;
  }
  ui.room.value = room;
  ui.name.value = name;
  try {
    localStorage.setItem('switchyard.name', name);
  } catch (_) {
    /* storage may be disabled */
  }
  notice('');
  dropPending();
  devices.stopPreview();
  startSession(room, name);
  return true;
}

// what: {room, name, claim, stream} of the session that ended.
function rejoin(what) {
  if (app.session) {
    stopStream(what.stream);
    return;
  }
  startSession(what.room, what.name, { resume: what.claim || undefined, stream: what.stream });
}

// The socket broke: rejoin at once, then with growing delays, jittered
// so that a room cut off together does not come back in lockstep.
function reconnectSoon(what) {
  const r = app.reconnect || (app.reconnect = { since: Date.now(), attempt: 0 });
  if (Date.now() - r.since > RECONNECT_GIVE_UP_MS) {
    app.reconnect = null;
    stopStream(what.stream);
    setState('disconnected', 'disconnected (could not reconnect)');
    return;
  }
  const n = r.attempt++;
  const base = n === 0 ? 0 : RECONNECT_DELAYS_MS[Math.min(n - 1, RECONNECT_DELAYS_MS.length - 1)];
  app.pending = what;
  clearTimeout(app.rejoinTimer);
  app.rejoinTimer = setTimeout(() => rejoin(what), base * (0.8 + 0.4 * Math.random()));
}

// Forgets a rejoin that was waiting, and the media it kept.
function dropPending() {
  clearTimeout(app.rejoinTimer);
  for (const w of [app.away, app.pending]) if (w) stopStream(w.stream);
  app.away = null;
  app.pending = null;
  app.reconnect = null;
}

function leave() {
  if (!app.session && (app.reconnect || app.away)) {
    dropPending();
    setState('left', 'left: leave');
  }
  return app.session ? app.session.leave() : Promise.resolve();
}

// A navigation away begins: leave now. Should the page still be here a
// moment later, the navigation did not unload it: rejoin.
function leavingPage() {
  const s = app.session;
  if (!s) return;
  let away = null;
  s.departing = (what) => {
    away = what;
  };
  s.depart();
  dropPending();
  if (!away) return;
  app.away = away;
  app.rejoinTimer = setTimeout(() => {
    const a = app.away;
    app.away = null;
    if (a) rejoin(a);
  }, NAV_REJOIN_MS);
}

function storedName() {
  try {
    return localStorage.getItem('switchyard.name') || '';
  } catch (_) {
    return '';
  }
}

// Mutes or unmutes the local mic ('audio') or camera ('video'); mute.js
// then stops the sender and tells the server.
function setLocalMuted(kind, muted) {
  if (kind === 'audio') app.micMuted = muted;
  else app.cameraOff = muted;
  for (const t of localTracks(kind)) t.enabled = !muted;
  ui.self.classList.toggle('no-video', app.cameraOff || localTracks('video').length === 0);
  updateControls();
  emit('toggle', kind, muted);
}

// A device picked mid-call: the new track replaces the old one in the
// local stream and (unless muted) in its sender; the others keep
// receiving the same server track.
async function switchDevice(kind, deviceId) {
  const s = app.session;
  const stream = app.stream;
  if (!s || !stream) return;
  const old = kind === 'audio' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
  if (!old) return;
  const constraints = kind === 'audio' ? { audio: { deviceId: { exact: deviceId } } } : { video: { ...CAMERA, deviceId: { exact: deviceId } } };
  let fresh;
  try {
    fresh = (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()[0];
  } catch (err) {
    notice(`Could not switch ${kind === 'audio' ? 'microphone' : 'camera'}: ${err.name}`);
    return;
  }
  if (app.session !== s || app.stream !== stream) {
    fresh.stop();
    return;
  }
  fresh.enabled = !(kind === 'audio' ? app.micMuted : app.cameraOff);
  stream.removeTrack(old);
  stream.addTrack(fresh);
  old.stop();
  const tr = s.pub && s.pub.getTransceivers().find((t) => t.sender && t.sender.track === old);
  if (tr) await tr.sender.replaceTrack(fresh);
  if (kind === 'video') showLocal(stream);
}

// ----------------------------------------------------------------- wiring

ui.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  join(ui.room.value, ui.name.value);
});

ui.name.addEventListener('input', () => {
  const v = ui.name.value.trim();
  ui.name.setCustomValidity(v === '' || validName(v) ? '' : 'Use 1–64 printable characters.');
});

ui.leave.addEventListener('click', () => {
  leave();
});

ui.rejoin.addEventListener('click', () => {
  if (app.last) join(app.last.room, app.last.name);
});

ui.muteMic.addEventListener('click', () => setLocalMuted('audio', !app.micMuted));
ui.toggleCamera.addEventListener('click', () => setLocalMuted('video', !app.cameraOff));

ui.copyLink.addEventListener('click', async () => {
  const url = ui.roomLink.value;
  try {
    await navigator.clipboard.writeText(url);
    notice('Room link copied.');
  } catch (_) {
    ui.roomLink.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (_) {
      ok = false;
    }
    notice(ok ? 'Room link copied.' : 'Select the link and copy it.');
  }
});

// A click anywhere lifts an autoplay mute.
document.addEventListener('click', (ev) => {
  if (ev.target && ev.target.classList && ev.target.classList.contains('unmute')) return;
  for (const b of document.querySelectorAll('.tile .unmute')) b.click();
});

window.addEventListener('beforeunload', leavingPage);
if (window.navigation) {
  window.navigation.addEventListener('navigate', (ev) => {
    if (ev.defaultPrevented || ev.hashChange || (ev.destination && ev.destination.sameDocument)) return;
    // <a download>: nothing unloads, so nothing to leave.
    if (ev.downloadRequest !== null && ev.downloadRequest !== undefined) return;
    leavingPage();
  });
}

window.addEventListener('pagehide', (ev) => {
  clearTimeout(app.rejoinTimer); // the navigation did unload
  const s = app.session;
  if (s) {
    const claim = s.claim();
    s.abandon(ev.persisted);
    if (ev.persisted) app.away = { room: s.room, name: s.name, claim, stream: null };
  }
  if (!ev.persisted) app.away = null;
  // Into the back/forward cache: Chromium keeps no page with a live
  // RTCPeerConnection or camera (notRestoredReasons "rtc", "mediastream"),
  // so release them now; the rejoin on pageshow asks for media again.
  if (ev.persisted && app.away) {
    for (const pc of app.away.pcs || []) if (pc) pc.close();
    stopStream(app.away.stream);
    app.away.stream = null;
  }
});

// Back from the back/forward cache: the server ended the session when
// the page left; rejoin as its continuation.
window.addEventListener('pageshow', (ev) => {
  if (!ev.persisted || !app.away) return;
  const a = app.away;
  app.away = null;
  rejoin(a);
});

// The network came back: try now rather than at the next backoff step.
window.addEventListener('online', () => {
  if (app.reconnect && app.pending && !app.session) {
    clearTimeout(app.rejoinTimer);
    rejoin(app.pending);
  }
});

provide({
  session: () => app.session,
  send: (msg) => !!app.session && app.session.send(msg),
  localMuted: (kind) => (kind === 'audio' ? app.micMuted : app.cameraOff),
  setLocalMuted,
  token: () => joinToken,
});
devices.setSwitcher(switchDevice);
window.switchyardExt = ext;

window.switchyard = Object.freeze({
  get state() {
    return app.state;
  },
  get stateText() {
    return app.stateText;
  },
  get room() {
    return app.room;
  },
  get participantId() {
    return app.participantId;
  },
  get lastError() {
    return app.lastError;
  },
  get resumedFrom() {
    return app.resumedFrom;
  },
  tiles() {
    return [...ui.tiles.querySelectorAll('.tile[data-participant-id]')]
      .map((el) => app.tiles.get(el.dataset.participantId))
      .filter(Boolean)
      .map((t) => t.snapshot());
  },
  join,
  leave,
});

// /?room=NAME[&name=NAME]: fill the form and join at once — once every
// module script of the page has run (they all run before
// DOMContentLoaded, app.js first): joined can arrive before a slow one
// has registered for messages, and that one would miss the room as it
// was (reconnect grace, who is muted, the people list).
const params = new URLSearchParams(location.search);
const qRoom = params.get('room');
const qName = params.get('name');
ui.name.value = qName !== null ? qName : storedName();
if (qRoom !== null) {
  ui.room.value = qRoom;
  document.addEventListener(
    'DOMContentLoaded',
    () => {
      let name = ui.name.value.trim();
      if (!name) name = `guest-${Math.floor(1000 + Math.random() * 9000)}`;
      join(qRoom, name);
    },
    { once: true },
  );
}
updateControls();
