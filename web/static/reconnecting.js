/*
 * Reconnecting placeholders for the Switchyard client (docs/protocol.md,
 * "Reconnect and resume"). When someone drops (participant-left with a
 * reason the server detected: socket-closed, ping-timeout, pc-failed,
 * reconnected), their tile is gone from the room, and this file puts a
 * placeholder where it was, marked "reconnecting…", for the grace the
 * server gives in joined (reconnect_grace_ms). A participant-joined whose
 * resumed_from names it takes its place; otherwise it goes when the grace
 * ends. The resumed tile is put where the placeholder was. The placeholder is <div class="placeholder reconnecting"
 * data-participant-id="p_…"> — deliberately not class "tile": the
 * participant is not in the room meanwhile, and the test hooks say so.
 */
import { ext } from './ext.js';


const DROPPED = new Set(['socket-closed', 'ping-timeout', 'pc-failed', 'reconnected']);
let graceMs = 0;
const waiting = new Map(); // participant id → {el, timer}
const names = new Map(); // participant id → display name, to label the placeholder

function clear(id) {
  const w = waiting.get(id);
  if (!w) return null;
  waiting.delete(id);
  clearTimeout(w.timer);
  return w.el;
}

function clearAll() {
  for (const id of [...waiting.keys()]) {
    const el = clear(id);
    if (el) el.remove();
  }
}

function hold(id) {
  const el = document.createElement('div');
  el.className = 'placeholder reconnecting';
  el.dataset.participantId = id;
  const label = document.createElement('div');
  label.className = 'name';
  label.textContent = `${names.get(id) || id} — reconnecting…`;
  el.append(label);
  document.getElementById('tiles').append(el);
  const timer = setTimeout(() => {
    if (clear(id)) el.remove();
  }, graceMs);
  waiting.set(id, { el, timer });
}

function tileOf(id) {
  return document.querySelector(`.tile[data-participant-id="${CSS.escape(id)}"]`);
}

ext.on('session', (session) => {
  if (!session) clearAll();
});

ext.on('message', (msg) => {
  switch (msg.type) {
    case 'joined':
      graceMs = Number.isFinite(msg.reconnect_grace_ms) ? Math.max(0, msg.reconnect_grace_ms) : 0;
      for (const p of msg.participants || []) if (p && p.id) names.set(p.id, p.name);
      break;
    case 'participant-joined': {
      const p = msg.participant || {};
      if (!p.id) break;
      names.set(p.id, p.name);
      const from = p.resumed_from;
      const el = from ? clear(from) : null;
      if (!el) break;
      const tile = tileOf(p.id);
      if (tile && el.parentNode) el.parentNode.insertBefore(tile, el);
      el.remove();
      break;
    }
    case 'participant-left': {
      const id = msg.participant_id;
      if (id && graceMs > 0 && DROPPED.has(msg.reason) && !waiting.has(id)) hold(id);
      break;
    }
  }
});
