/*
 * Mute for the Switchyard client (docs/protocol.md, "mute" and
 * "track-muted"). A muted mic or camera stops sending altogether
 * (RTCRtpSender.replaceTrack(null): track.enabled = false alone would keep
 * sending silence and black frames), and the server, told with `mute`,
 * stops forwarding it and tells the room. Remote tiles show who is muted:
 * data-mic-muted / data-camera-muted ("true" or "false") on the .tile
 * element, and a badge. window.switchyardMute.settled() resolves once the
 * senders have followed every toggle so far (for tests).
 */
import { ext } from './ext.js';


let own = new Map(); // mid → {id, kind, muted}: our tracks as the server knows them
let remote = new Map(); // server track id → {participant, kind, muted}

function sender(session, kind) {
  const pc = session && session.pub;
  if (!pc) return null;
  return pc.getTransceivers().find((t) => t.receiver && t.receiver.track && t.receiver.track.kind === kind) || null;
}

// Turns the sender's encodings off or on. A simulcast sender without a
// track but with active encodings keeps sending (padding, at about the
// live packet rate: 78-548 packets a second measured in Chromium 156);
// inactive encodings send nothing at once.
async function setActive(sender, active) {
  const params = sender.getParameters();
  if (!params.encodings || params.encodings.every((e) => e.active === active)) return;
  for (const e of params.encodings) e.active = active;
  await sender.setParameters(params);
}

// The last sender change. Changes run one after the other, each reading
// the toggle when it starts: sender.track only changes once replaceTrack
// resolves, so a quick mute-unmute compared against it would leave the
// sender muted under an unmuted button.
let changes = Promise.resolve();

function follow(session, kind, s) {
  const local = session.localStream && session.localStream.getTracks().find((t) => t.kind === kind);
  const want = ext.localMuted(kind) ? null : local || null;
  // Never active without a track (see setActive): off before the track
  // goes, on only once it is back.
  return want === null
    ? setActive(s, false).then(() => s.track === null || s.replaceTrack(null))
    : (s.track === want ? Promise.resolve() : s.replaceTrack(want)).then(() => setActive(s, true));
}

// Brings the sender and the server in line with the local toggle.
function apply(session, kind) {
  const muted = ext.localMuted(kind);
  const tr = sender(session, kind);
  if (tr && tr.sender) {
    const s = tr.sender;
    changes = changes.then(() => follow(session, kind, s)).catch((err) => console.warn('switchyard: mute:', err));
  }
  const mine = tr && own.get(tr.mid);
  if (mine && mine.muted !== muted) {
    mine.muted = muted;
    ext.send({ type: 'mute', track: mine.id, muted });
  }
}

function remember(participant, track) {
  if (track && track.id) remote.set(track.id, { participant, kind: track.kind, muted: !!track.muted });
}

function render() {
  const state = new Map(); // participant → {audio, video} muted
  for (const t of remote.values()) {
    const s = state.get(t.participant) || { audio: false, video: false };
    if (t.muted) s[t.kind] = true;
    state.set(t.participant, s);
  }
  for (const el of document.querySelectorAll('.tile[data-participant-id]')) {
    const s = state.get(el.dataset.participantId) || { audio: false, video: false };
    el.dataset.micMuted = String(s.audio);
    el.dataset.cameraMuted = String(s.video);
    let badge = el.querySelector('.badges');
    if (!badge) {
      badge = document.createElement('div');
      badge.className = 'badges';
      el.append(badge);
    }
    badge.textContent = [s.audio ? 'mic muted' : '', s.video ? 'camera off' : ''].filter(Boolean).join(' · ');
    badge.hidden = !s.audio && !s.video;
  }
}

// For tests: resolves once every sender change asked for so far is done.
window.switchyardMute = Object.freeze({ settled: () => changes });

ext.on('toggle', (kind) => apply(ext.session(), kind));

ext.on('session', (session) => {
  own = new Map();
  remote = new Map();
});

ext.on('message', (msg, session) => {
  switch (msg.type) {
    case 'joined':
      for (const p of msg.participants || []) for (const t of p.tracks || []) remember(p.id, t);
      break;
    case 'participant-joined':
      if (msg.participant) for (const t of msg.participant.tracks || []) remember(msg.participant.id, t);
      break;
    case 'track-published':
      remember(msg.participant_id, msg.track);
      break;
    case 'track-unpublished':
      remote.delete(msg.track_id);
      break;
    case 'published':
      if (msg.track && msg.mid != null) {
        own.set(msg.mid, { id: msg.track.id, kind: msg.track.kind, muted: !!msg.track.muted });
        // Muted before the server knew the track: tell it now.
        apply(session, msg.track.kind);
      }
      break;
    case 'track-muted':
      if (msg.participant_id === session.participantId) {
        // Ours, perhaps muted by an operator: follow the server.
        for (const t of own.values()) if (t.id === msg.track_id) t.muted = !!msg.muted;
        if (ext.localMuted(msg.kind) !== !!msg.muted) ext.setLocalMuted(msg.kind, !!msg.muted);
      } else if (remote.has(msg.track_id)) {
        remote.get(msg.track_id).muted = !!msg.muted;
      }
      break;
    default:
      return;
  }
  render();
});
