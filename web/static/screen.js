/*
 * Screen sharing for the Switchyard page. Sharing publishes
 * getDisplayMedia's video as a track of its own beside the camera (no
 * simulcast: text must stay sharp); it stops with the button or the
 * browser's own "stop sharing" (the track ends). The others see it in a
 * large <div class="screen" data-screen-of="p_…"> at the top of #tiles,
 * deliberately not class "tile" (it is not a participant).
 */
import { ext } from './ext.js';

const $ = (id) => document.getElementById(id);
const button = $('share-screen');
const tiles = $('tiles');
const notice = (text) => {
  $('notice').textContent = text;
};

let sharing = null; // {track, tr, session} while we share
const shown = new Map(); // participant id → {el, video, track}

function stop() {
  const s = sharing;
  if (!s) return;
  sharing = null;
  s.track.stop();
  if (s.session === ext.session()) s.session.unpublish(s.tr);
  render();
}

async function start() {
  const session = ext.session();
  const md = navigator.mediaDevices;
  if (!session || sharing) return;
  if (!md || !md.getDisplayMedia) {
    notice('This browser cannot share its screen.');
    return;
  }
  let stream;
  try {
    stream = await md.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  } catch (err) {
    notice(err && err.name === 'NotAllowedError'
      ? 'Screen sharing was refused or cancelled; the call goes on.'
      : `Could not share the screen (${err && err.name}); the call goes on.`);
    return;
  }
  const track = stream.getVideoTracks()[0];
  if (!track || ext.session() !== session) {
    for (const t of stream.getTracks()) t.stop();
    return;
  }
  // Sharp text beats smooth motion for a screen.
  if ('contentHint' in track) track.contentHint = 'detail';
  const tr = session.publishExtra(track, stream);
  if (!tr) {
    track.stop();
    return;
  }
  sharing = { track, tr, session };
  track.addEventListener('ended', stop); // the browser's "stop sharing"
  notice('');
  render();
}

function render() {
  button.setAttribute('aria-pressed', String(!!sharing));
  button.disabled = !ext.session();
  document.body.classList.toggle('sharing', !!sharing);
  document.dispatchEvent(new Event('switchyard-sharing'));
}

// A participant's set of tracks changed: show or drop their screen.
function follow(participant) {
  let screen = null;
  for (const [track, meta] of participant.media) if (meta.screen && track.readyState === 'live') screen = track;
  const cur = shown.get(participant.id);
  if (cur && cur.track === screen) return;
  if (cur) {
    cur.video.srcObject = null;
    cur.el.remove();
    shown.delete(participant.id);
  }
  if (!screen) {
    tiles.classList.toggle('has-screen', shown.size > 0);
    return;
  }
  const el = document.createElement('div');
  el.className = 'screen';
  el.dataset.screenOf = participant.id;
  el.tabIndex = 0;
  const who = participant.name || participant.id;
  el.setAttribute('aria-label', `${who}'s screen`);
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // video only; the sharer's voice plays in their tile
  video.srcObject = new MediaStream([screen]);
  const label = document.createElement('div');
  label.className = 'name';
  label.textContent = `${who}'s screen`;
  el.append(video, label);
  tiles.prepend(el);
  video.play().catch(() => {});
  shown.set(participant.id, { el, video, track: screen });
  tiles.classList.add('has-screen');
}

function dropAll() {
  for (const { el, video } of shown.values()) {
    video.srcObject = null;
    el.remove();
  }
  shown.clear();
  tiles.classList.remove('has-screen');
}

button.addEventListener('click', () => (sharing ? stop() : start()));

ext.on('media', (participant) => follow(participant));
ext.on('message', (msg) => {
  if (msg.type === 'participant-left') {
    const cur = shown.get(msg.participant_id);
    if (cur) follow({ id: msg.participant_id, media: new Map() });
  }
});
ext.on('session', (session) => {
  if (!session) {
    if (sharing) {
      sharing.track.stop();
      sharing = null;
    }
    dropAll();
  }
  render();
});

render();

// For tests: whether this page shares, and which screens it shows.
window.switchyardScreen = Object.freeze({
  get sharing() {
    return !!sharing;
  },
  shown: () => [...shown.entries()].map(([id, s]) => ({ id, videoWidth: s.video.videoWidth, videoHeight: s.video.videoHeight, currentTime: s.video.currentTime })),
  stop,
});
