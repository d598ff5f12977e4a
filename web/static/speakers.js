/*
 * Active speakers for the Switchyard client (docs/protocol.md,
 * "active-speakers"): the tile of everyone speaking gets class "speaking",
 * the local preview too when it is us.
 */
import { ext } from './ext.js';


let speaking = new Set();

function render(selfId) {
  for (const el of document.querySelectorAll('.tile[data-participant-id]')) {
    el.classList.toggle('speaking', speaking.has(el.dataset.participantId));
  }
  const self = document.getElementById('self');
  if (self) self.classList.toggle('speaking', !!selfId && speaking.has(selfId));
}

ext.on('session', (session) => {
  speaking = new Set();
  render(session && session.participantId);
});

ext.on('message', (msg, session) => {
  if (msg.type === 'active-speakers') {
    speaking = new Set((msg.speakers || []).map((s) => s.participant_id));
  } else if (msg.type !== 'participant-joined' && msg.type !== 'joined') {
    return; // new tiles start unhighlighted; render them right
  }
  render(session.participantId);
});
