/*
 * Chat for the Switchyard client (docs/protocol.md, "chat"): messages go
 * over the signaling socket; the server relays each to the whole room,
 * sender included, so the log shows only what the room really got.
 */
import { ext } from './ext.js';

const $ = (id) => document.getElementById(id);
const form = $('chat-form');
const input = $('chat-input');
const log = $('chat-log');
const status = $('chat-status');

function enable(on) {
  input.disabled = !on;
  form.querySelector('button').disabled = !on;
}

function add(msg, own) {
  const li = document.createElement('li');
  li.className = own ? 'own' : '';
  li.dataset.from = msg.from || '';
  const who = document.createElement('span');
  who.className = 'from';
  who.textContent = msg.name || msg.from || '?';
  const when = document.createElement('time');
  const t = new Date(msg.time);
  when.dateTime = msg.time || '';
  when.textContent = isNaN(t) ? '' : t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = msg.text || '';
  li.append(who, when, text);
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 8;
  log.append(li);
  if (atBottom || own) log.scrollTop = log.scrollHeight;
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = input.value;
  if (!text.trim()) return;
  if (ext.send({ type: 'chat', text })) {
    input.value = '';
    status.textContent = '';
  }
});

ext.on('session', (session) => {
  const denied = !!session && !!session.permissions && session.permissions.data === false;
  enable(!!session && !denied);
  if (session) log.replaceChildren();
  status.textContent = denied ? 'Your token does not allow chat.' : '';
});

ext.on('message', (msg, session) => {
  if (msg.type === 'chat') add(msg, msg.from === session.participantId);
  else if (msg.type === 'error' && msg.ref === 'chat') {
    status.textContent = msg.code === 'rate-limited' ? 'Slow down: too many messages.' : msg.message || msg.code;
  }
});

enable(false);
