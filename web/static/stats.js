/*
 * Connection quality for the Switchyard page, from getStats every
 * STATS_MS: per remote tile, what arrives of its video and audio (packet
 * loss, jitter, frames per second, the resolution: the simulcast layer the
 * server sends); for oneself, what the camera sends and why it may be
 * held back. Each tile gets <div class="quality"> and data-quality
 * ("good", "fair", "poor"), passed on to the people panel. The protocol
 * has no message for the server pausing a subscriber's video for
 * bandwidth (docs/protocol.md, "Simulcast"), so a video whose bytes stop
 * arriving while its sender is not muted is shown as paused.
 */
import { ext } from './ext.js';
import { setQuality } from './people.js';

const STATS_MS = 2000;
const last = new Map(); // receiver/sender → previous numbers
let timer = 0;
let running = false;

function grade(lossPct, jitterMs) {
  if (lossPct > 5 || jitterMs > 60) return 'poor';
  if (lossPct > 1 || jitterMs > 30) return 'fair';
  return 'good';
}

function badge(el) {
  let q = el.querySelector(':scope > .quality');
  if (!q) {
    q = document.createElement('div');
    q.className = 'quality';
    q.setAttribute('role', 'status');
    el.append(q);
  }
  return q;
}

async function inbound(receiver) {
  const out = { packets: 0, lost: 0, jitter: 0, fps: 0, width: 0, height: 0, bytes: 0 };
  (await receiver.getStats()).forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    out.packets += r.packetsReceived || 0;
    out.lost += Math.max(0, r.packetsLost || 0);
    out.jitter = Math.max(out.jitter, (r.jitter || 0) * 1000);
    out.fps = r.framesPerSecond || out.fps;
    out.width = r.frameWidth || out.width;
    out.height = r.frameHeight || out.height;
    out.bytes += r.bytesReceived || 0;
  });
  return out;
}

// Loss over the last interval, in percent.
function delta(key, now) {
  const prev = last.get(key);
  last.set(key, now);
  if (!prev) return { lossPct: 0, bytes: -1 };
  const got = now.packets - prev.packets;
  const lost = now.lost - prev.lost;
  return { lossPct: got + lost > 0 ? (100 * Math.max(0, lost)) / (got + lost) : 0, bytes: now.bytes - prev.bytes };
}

async function remote(session) {
  const receivers = session.sub ? session.sub.getReceivers() : [];
  for (const p of session.participants.values()) {
    const el = document.querySelector(`.tile[data-participant-id="${CSS.escape(p.id)}"]`);
    if (!el) continue;
    let worst = 'good';
    const parts = [];
    let paused = false;
    let video = '';
    for (const [track, meta] of p.media) {
      if (meta.screen) continue;
      const rx = receivers.find((r) => r.track === track);
      if (!rx) continue;
      const now = await inbound(rx);
      const d = delta(rx, now);
      const g = grade(d.lossPct, now.jitter);
      if (g === 'poor' || (g === 'fair' && worst === 'good')) worst = g;
      if (track.kind === 'video') {
        video = now.width ? `${now.width}×${now.height} ${Math.round(now.fps)} fps` : 'no video yet';
        paused = d.bytes === 0 && el.dataset.cameraMuted !== 'true';
      }
      parts.push(`${track.kind} ${d.lossPct.toFixed(1)}% loss ${Math.round(now.jitter)} ms jitter`);
    }
    const q = badge(el);
    q.textContent = paused ? 'video paused (bandwidth)' : video || (parts.length ? worst : '');
    if (video) parts.unshift(video);
    q.title = parts.join('; ');
    q.setAttribute('aria-label', `Connection ${worst}: ${parts.join('; ')}`);
    el.dataset.quality = parts.length ? worst : '';
    el.classList.toggle('paused', paused);
    setQuality(p.id, parts.length ? worst : '');
  }
}

async function own(session) {
  const self = document.getElementById('self');
  if (!session.pub || !self) return;
  let fps = 0;
  let width = 0;
  let height = 0;
  let limit = '';
  let rtt = 0;
  let lossPct = 0;
  (await session.pub.getStats()).forEach((r) => {
    if (r.type === 'outbound-rtp' && r.kind === 'video') {
      if ((r.frameWidth || 0) > width) {
        width = r.frameWidth;
        height = r.frameHeight || 0;
        fps = r.framesPerSecond || 0;
      }
      if (r.qualityLimitationReason && r.qualityLimitationReason !== 'none') limit = r.qualityLimitationReason;
    } else if (r.type === 'remote-inbound-rtp') {
      rtt = Math.max(rtt, (r.roundTripTime || 0) * 1000);
      lossPct = Math.max(lossPct, (r.fractionLost || 0) * 100);
    }
  });
  const g = grade(lossPct, 0);
  const q = badge(self);
  q.textContent = width ? `sending ${width}×${height} ${Math.round(fps)} fps${limit ? ` (limited: ${limit})` : ''}` : '';
  q.title = `round trip ${Math.round(rtt)} ms, loss ${lossPct.toFixed(1)}%`;
  self.dataset.quality = width ? g : '';
  setQuality(session.participantId, width ? g : '');
}

async function tick() {
  const session = ext.session();
  if (!session || running) return;
  running = true;
  try {
    await remote(session);
    await own(session);
  } catch (err) {
    console.warn('switchyard: stats:', err);
  } finally {
    running = false;
  }
}

ext.on('session', (session) => {
  clearInterval(timer);
  last.clear();
  if (session) timer = setInterval(tick, STATS_MS);
});
