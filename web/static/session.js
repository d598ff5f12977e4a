/*
 * Switchyard session: one join of one room, as an ES module with no DOM
 * access, reusable by any page (docs/client.md). It speaks the signaling
 * protocol of docs/protocol.md (JSON over a WebSocket at /v1/rtc) and runs
 * the two peer connections ("publish": we offer; "subscribe": the server
 * offers), and says what happens through events (CustomEvent, the payload
 * in event.detail):
 *
 *   joined             {msg}                the server's `joined`
 *   participant        {participant}        someone is in the room (or was renamed)
 *   participant-left   {id, reason}
 *   media              {participant}        the participant's set of tracks changed
 *                                           (participant.media: MediaStreamTrack → meta)
 *   track              {participant, track, meta}   a remote track arrived;
 *                                           meta = {kind, mid, trackId, screen}
 *                                           (screen: a screen share, see isScreen)
 *   track-unpublished  {participant, trackId, kind, matched}
 *   server-error       {error, fatal}       an `error` message, {code, message, ref}
 *   problem            {text}               something the user may want to know
 *   draining           {at}                 the server stops soon (a Date, or null)
 *   message            {msg}                every server message, after the above
 *   end                {state, text, claim, reconnect}   once, when it is over:
 *                                           state "left" | "error" | "disconnected"
 *                                           | "reconnecting"; reconnect is true when
 *                                           the socket broke and a new Session with
 *                                           resume: claim should carry on.
 *
 * Local media belongs to the caller: publish(stream) sends it, and the
 * session never stops a track it was given.
 */

const LEAVE_TIMEOUT_MS = 3000;
const MAX_REDIRECTS = 3;

/** The signaling URL of the page's own server. */
export function defaultURL() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/v1/rtc`;
}

function iceServersFrom(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((s) => s && s.urls && (typeof s.urls === 'string' || s.urls.length))
    .map((s) => {
      const out = { urls: s.urls };
      if (s.username) out.username = s.username;
      if (s.credential) out.credential = s.credential;
      return out;
    });
}

// mid → {streamId, trackId} from the a=mid / a=msid lines of an SDP. The
// server's msid carries its own ids, which lets us match track-unpublished's
// track_id to a transceiver even in Firefox (which randomizes track.id).
export function parseMsids(sdp) {
  const map = new Map();
  let mid = null;
  let msid = null;
  const flush = () => {
    if (mid !== null && msid) map.set(mid, msid);
  };
  for (const line of String(sdp).split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      flush();
      mid = null;
      msid = null;
    } else if (line.startsWith('a=mid:')) {
      mid = line.slice(6).trim();
    } else if (line.startsWith('a=msid:')) {
      const [streamId, trackId] = line.slice(7).trim().split(/\s+/);
      msid = { streamId, trackId: trackId || '' };
    }
  }
  flush();
  return map;
}

async function applyCandidate(pc, cand) {
  if (cand && cand.candidate) {
    await pc.addIceCandidate(cand);
    return;
  }
  // End of candidates. Older browsers reject the no-argument form; the
  // hint is optional, so ignore that.
  try {
    await pc.addIceCandidate();
  } catch (_) {
    /* ignored */
  }
}

// A participant's screen share is a video track besides its camera: any
// video track that is not the first video it published (the protocol's
// TrackInfo has no source field; the page publishes its camera at join
// and a screen only later, with publishExtra).
function isScreen(p, meta) {
  if (meta.kind !== 'video' || !meta.trackId) return false;
  for (const t of p.tracks.values()) if (t.kind === 'video') return t.id !== meta.trackId;
  return false;
}

export class Session extends EventTarget {
  /**
   * opts: {room, name, token?, url?, resume?, reconnecting?, sendEncodings?}
   *   resume        {participant_id, leave_secret} of the session this one continues
   *   reconnecting  true while trying to get a broken session back: a socket
   *                 that closes before `joined` ends with reconnect: true
   *   sendEncodings () => RTCRtpEncodingParameters[] for the camera (simulcast)
   */
  constructor(opts) {
    super();
    this.room = opts.room;
    this.name = opts.name;
    this.token = opts.token || undefined;
    this.url = opts.url || defaultURL();
    this.resume = opts.resume || null;
    this.reconnecting = !!opts.reconnecting;
    this.sendEncodings = opts.sendEncodings || null;
    this.ws = null;
    this.pub = null; // publish RTCPeerConnection (we offer)
    this.sub = null; // subscribe RTCPeerConnection (the server offers)
    this.participants = new Map(); // id → {id, name, tracks, media, resumedFrom}
    this.departed = new Set(); // ids that left; late tracks for them are ignored
    this.unpublished = new Set(); // server track ids withdrawn; late tracks are ignored
    this.participantId = null;
    this.leaveSecret = null;
    this.resumedFrom = null;
    this.iceServers = [];
    this.permissions = null; // from `joined`; null until then
    this.localStream = null; // what publish() was given
    this.joinSent = false;
    this.joined = false;
    this.leaving = false;
    this.closed = false;
    this.redirects = 0;
    this.leaveTimer = 0;
    this.leavePromise = null;
    this.resolveLeave = null;
    this.queues = { publish: Promise.resolve(), subscribe: Promise.resolve() };
    this.pending = { publish: [], subscribe: [] }; // remote candidates awaiting a remote description
    this.pubOfferOut = false; // a publish offer awaits its answer
    this.pubWanted = false; // another publish offer is needed after that
    this.midInfo = new Map(); // subscribe mid → {streamId, trackId}
    this.hooked = new WeakSet(); // streams and tracks with our listeners
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Opens the socket and sends join. */
  start() {
    this.connect(this.url);
  }

  connect(url) {
    let ws;
    try {
      // With auth on the token also rides on the URL, so the server can
      // refuse a socket without one before upgrading it (401).
      const u = new URL(url, location.href);
      if (this.token) u.searchParams.set('token', this.token);
      ws = new WebSocket(u.href);
    } catch (err) {
      this.finish('error', `error: ${err.message}`);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const msg = { type: 'join', room: this.room, name: this.name, token: this.token };
      if (this.resume) msg.resume = this.resume;
      this.joinSent = this.send(msg);
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = (ev) => this.onClose(ev);
    ws.onerror = () => {}; // a close event always follows
  }

  // The room lives on another cluster node (docs/cluster.md): same join,
  // same token, new socket; at most MAX_REDIRECTS hops, so two nodes that
  // disagree cannot bounce us forever.
  followRedirect(msg) {
    this.redirects++;
    let url;
    try {
      url = new URL(String(msg.url));
    } catch (_) {
      url = null;
    }
    if (!url || !['ws:', 'wss:'].includes(url.protocol) || this.redirects > MAX_REDIRECTS) {
      this.finish('error', 'error: the cluster sent a bad or looping redirect');
      return;
    }
    this.dropSocket('redirected');
    this.connect(url.href);
  }

  dropSocket(why) {
    const ws = this.ws;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      try {
        ws.close(1000, why);
      } catch (_) {
        /* already closed */
      }
    }
  }

  /** Sends one protocol message; false when the socket is not open. */
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  // Runs fn after everything queued before it for the same PC, so SDP and
  // candidates are applied in the order they arrived.
  enqueue(which, fn) {
    this.queues[which] = this.queues[which]
      .then(() => (this.closed ? undefined : fn()))
      .catch((err) => {
        if (this.closed) return;
        console.error(`switchyard: ${which}:`, err);
        this.emit('problem', { text: `${which} connection: ${err && err.message ? err.message : err}` });
      });
    return this.queues[which];
  }

  onMessage(data) {
    if (this.closed || typeof data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (_) {
      console.warn('switchyard: ignoring non-JSON frame');
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'joined':
        this.onJoined(msg);
        break;
      case 'redirect':
        this.followRedirect(msg);
        break;
      case 'participant-joined':
        if (msg.participant && msg.participant.id) this.addParticipant(msg.participant);
        break;
      case 'participant-left':
        this.removeParticipant(msg.participant_id, msg.reason);
        break;
      case 'track-published': {
        const p = this.participants.get(msg.participant_id);
        if (p && msg.track && msg.track.id) p.tracks.set(msg.track.id, msg.track);
        break;
      }
      case 'track-unpublished':
        this.onUnpublished(msg.participant_id, msg.track_id, msg.kind);
        break;
      case 'offer':
        if (msg.pc === 'subscribe') this.enqueue('subscribe', () => this.onSubscribeOffer(msg.sdp));
        break;
      case 'answer':
        if (msg.pc === 'publish') this.enqueue('publish', () => this.onPublishAnswer(msg.sdp));
        break;
      case 'candidate':
        if (msg.pc === 'publish' || msg.pc === 'subscribe') {
          this.enqueue(msg.pc, () => this.onRemoteCandidate(msg.pc, msg.candidate));
        }
        break;
      case 'ice-restart': // publish ICE failed, socket alive: re-offer with fresh credentials
        if (msg.pc === 'publish' && this.pub) {
          this.pubRestart = true;
          this.negotiatePublish();
        }
        break;
      case 'left':
        this.finish('left', `left: ${msg.reason || 'unknown'}`);
        break;
      case 'error':
        this.onError(msg);
        break;
      case 'server-draining': {
        const at = Number.isFinite(msg.deadline_ms) ? new Date(Date.now() + msg.deadline_ms) : new Date(msg.deadline);
        this.emit('draining', { at: isNaN(at) ? null : at });
        break;
      }
    }
    this.emit('message', { msg });
  }

  onJoined(msg) {
    // Kept even while leaving, for the pagehide beacon.
    this.participantId = msg.participant_id || null;
    this.leaveSecret = msg.leave_secret || null;
    if (this.joined || this.leaving) return;
    this.joined = true;
    this.reconnecting = false;
    if (msg.room) this.room = msg.room;
    this.iceServers = iceServersFrom(msg.ice_servers);
    this.permissions = msg.permissions || null;
    this.resumedFrom = msg.resumed_from || null;
    this.emit('joined', { msg });
    for (const p of msg.participants || []) {
      if (p && p.id && p.id !== this.participantId) this.addParticipant(p);
    }
  }

  /** Whether `joined` allows publishing (true before joined). */
  mayPublish() {
    return !(this.permissions && this.permissions.publish === false);
  }

  onError(msg) {
    const error = { code: msg.code || '', message: msg.message || '', ref: msg.ref || '' };
    const text = `error: ${error.code}${error.message ? ': ' + error.message : ''}`;
    if (this.leaving && error.ref === 'leave') {
      // e.g. not-joined: we left before the join went through.
      this.emit('server-error', { error, fatal: false });
      this.finish('left', 'left: leave');
    } else if (!this.joined && !this.leaving && error.ref !== 'chat' && error.ref !== 'subscription') {
      // The join failed (room-full, shutting-down, bad name…): this session is over.
      this.emit('server-error', { error, fatal: true });
      this.reconnecting = false;
      this.finish('error', text);
    } else {
      this.emit('server-error', { error, fatal: false });
    }
  }

  onClose(ev) {
    if (this.closed) return;
    if (this.leaving) {
      this.finish('left', 'left: leave');
      return;
    }
    if (this.joined || this.reconnecting) {
      // The socket broke under a joined session (or under an attempt to
      // get it back): the caller rejoins as the same participant.
      this.finish('reconnecting', 'reconnecting…', false, true);
      return;
    }
    let detail = ev && ev.code ? String(ev.code) : '';
    if (ev && ev.reason) detail += ` ${ev.reason}`;
    if (!this.joinSent) detail = `could not connect${detail ? ' ' + detail : ''}`;
    this.finish('disconnected', detail ? `disconnected (${detail})` : 'disconnected');
  }

  // ---- participants

  addParticipant(info) {
    if (info.id === this.participantId) return null;
    this.departed.delete(info.id);
    let p = this.participants.get(info.id);
    if (!p) {
      p = { id: info.id, name: '', tracks: new Map(), media: new Map(), resumedFrom: null };
      this.participants.set(info.id, p);
    }
    if (info.name) p.name = info.name;
    if (info.resumed_from) p.resumedFrom = info.resumed_from;
    for (const t of info.tracks || []) if (t && t.id) p.tracks.set(t.id, t);
    this.emit('participant', { participant: p });
    return p;
  }

  removeParticipant(id, reason) {
    if (!id) return;
    this.departed.add(id);
    if (!this.participants.has(id)) return;
    this.participants.delete(id);
    this.emit('participant-left', { id, reason: reason || '' });
  }

  // Drop the track the server calls trackId; failing a match (no msid
  // mapping), drop every track of that kind.
  onUnpublished(id, trackId, kind) {
    if (trackId) this.unpublished.add(trackId);
    const p = this.participants.get(id);
    if (!p) return;
    p.tracks.delete(trackId);
    let matched = false;
    for (const [track, meta] of p.media) {
      if (meta.trackId && meta.trackId === trackId) {
        p.media.delete(track);
        matched = true;
      }
    }
    if (!matched) {
      for (const [track, meta] of p.media) if (meta.kind === kind || track.kind === kind) p.media.delete(track);
    }
    this.emit('track-unpublished', { participant: p, trackId, kind, matched });
    this.emit('media', { participant: p });
  }

  detachEverywhere(track) {
    for (const p of this.participants.values()) {
      if (p.media.delete(track)) this.emit('media', { participant: p });
    }
  }

  // ---- publish PC: we offer, the server answers

  /** Publishes the tracks of stream (once; later calls are ignored). */
  publish(stream) {
    if (this.closed || this.leaving || !stream) return;
    const tracks = stream.getTracks();
    if (!tracks.length || this.localStream) return;
    this.localStream = stream;
    const pc = this.publishPC();
    for (const t of tracks) {
      const init = { direction: 'sendonly', streams: [stream] };
      if (t.kind === 'video' && this.sendEncodings) init.sendEncodings = this.sendEncodings();
      pc.addTransceiver(t, init);
    }
    this.negotiatePublish();
  }

  publishPC() {
    if (this.pub) return this.pub;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pub = pc;
    pc.onicecandidate = (ev) => this.sendCandidate('publish', ev.candidate);
    this.watchPC('publish', pc);
    return pc;
  }

  /**
   * Publishes one more track of its own (a screen share), without
   * simulcast. Returns the transceiver, for unpublish; null once over.
   */
  publishExtra(track, stream) {
    if (this.closed || this.leaving || !this.joined) return null;
    const tr = this.publishPC().addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    this.negotiatePublish();
    return tr;
  }

  unpublish(tr) {
    if (!tr || !this.pub || this.closed) return;
    try {
      this.pub.removeTrack(tr.sender);
    } catch (_) {
      /* already gone */
    }
    this.negotiatePublish();
  }

  // Sends an offer for the publish PC, never two before an answer.
  negotiatePublish() {
    if (this.pubOfferOut) {
      this.pubWanted = true;
      return;
    }
    this.pubOfferOut = true;
    this.pubWanted = false;
    this.enqueue('publish', async () => {
      const pc = this.pub;
      const restart = this.pubRestart === true;
      this.pubRestart = false;
      const offer = await pc.createOffer(restart ? { iceRestart: true } : undefined);
      await pc.setLocalDescription(offer);
      // Sent in the same task as setLocalDescription resolves, so before
      // any onicecandidate for it.
      this.send({ type: 'offer', pc: 'publish', sdp: pc.localDescription.sdp });
    });
  }

  async onPublishAnswer(sdp) {
    const pc = this.pub;
    if (!pc || pc.signalingState !== 'have-local-offer') return;
    this.pubOfferOut = false;
    await pc.setRemoteDescription({ type: 'answer', sdp });
    await this.flushCandidates('publish');
    if (this.pubWanted) this.negotiatePublish();
  }

  // ---- subscribe PC: the server offers, we answer

  createSubscribePC() {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    pc.onicecandidate = (ev) => this.sendCandidate('subscribe', ev.candidate);
    pc.ontrack = (ev) => this.onRemoteTrack(ev);
    this.watchPC('subscribe', pc);
    return pc;
  }

  async onSubscribeOffer(sdp) {
    if (this.leaving) return;
    if (!this.sub) this.sub = this.createSubscribePC();
    const pc = this.sub;
    this.midInfo = parseMsids(sdp);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await this.flushCandidates('subscribe');
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({ type: 'answer', pc: 'subscribe', sdp: pc.localDescription.sdp });
  }

  onRemoteTrack(ev) {
    const track = ev.track;
    const mid = ev.transceiver ? ev.transceiver.mid : null;
    const msid = mid !== null ? this.midInfo.get(mid) : undefined;
    const stream = ev.streams && ev.streams[0];
    const pid = stream ? stream.id : msid ? msid.streamId : '';
    // A transceiver may be reused for someone else's track: take it out of
    // whoever had it.
    this.detachEverywhere(track);
    if (!pid || pid === '-' || pid === this.participantId || this.departed.has(pid)) return;
    if (msid && msid.trackId && this.unpublished.has(msid.trackId)) return;
    const p = this.participants.get(pid) || this.addParticipant({ id: pid, name: '' });
    if (!p) return;
    const meta = { kind: track.kind, mid, trackId: msid ? msid.trackId : '' };
    meta.screen = isScreen(p, meta);
    p.media.set(track, meta);
    this.emit('track', { participant: p, track, meta });
    this.emit('media', { participant: p });

    if (!this.hooked.has(track)) {
      this.hooked.add(track);
      track.addEventListener('ended', () => this.detachEverywhere(track));
    }
    if (stream && !this.hooked.has(stream)) {
      this.hooked.add(stream);
      stream.addEventListener('removetrack', (e) => {
        const q = this.participants.get(stream.id);
        if (q && q.media.delete(e.track)) this.emit('media', { participant: q });
      });
    }
  }

  // ---- ICE

  sendCandidate(which, cand) {
    if (this.closed) return;
    if (cand === null) {
      this.send({ type: 'candidate', pc: which, candidate: null });
    } else if (cand && cand.candidate) {
      // Empty-string candidates (Firefox's per-section end marker) are not sent.
      this.send({ type: 'candidate', pc: which, candidate: cand.toJSON() });
    }
  }

  async onRemoteCandidate(which, cand) {
    const pc = which === 'publish' ? this.pub : this.sub;
    if (!pc || !pc.remoteDescription) {
      this.pending[which].push(cand);
      return;
    }
    await applyCandidate(pc, cand);
  }

  async flushCandidates(which) {
    const pc = which === 'publish' ? this.pub : this.sub;
    const list = this.pending[which];
    this.pending[which] = [];
    for (const cand of list) {
      try {
        await applyCandidate(pc, cand);
      } catch (err) {
        console.warn(`switchyard: ${which} candidate:`, err);
      }
    }
  }

  watchPC(which, pc) {
    const check = () => {
      if (this.closed) return;
      const state = pc.connectionState || pc.iceConnectionState;
      this.emit('connection', { pc: which, state });
    };
    pc.addEventListener('connectionstatechange', check);
    pc.addEventListener('iceconnectionstatechange', check);
  }

  // ---- ending

  /**
   * Asks the server to end the session and waits for `left` (at most
   * LEAVE_TIMEOUT_MS). Idempotent: every call returns the same promise.
   */
  leave() {
    if (this.leavePromise) return this.leavePromise;
    this.leavePromise = new Promise((resolve) => {
      this.resolveLeave = resolve;
    });
    if (this.closed) {
      this.resolveLeave();
      return this.leavePromise;
    }
    this.leaving = true;
    if (this.joinSent && this.send({ type: 'leave' })) {
      this.emit('leaving', {});
      this.leaveTimer = setTimeout(() => this.finish('left', 'left: leave (no reply)'), LEAVE_TIMEOUT_MS);
    } else {
      this.finish('left', 'left: leave');
    }
    return this.leavePromise;
  }

  /**
   * The page is going away: no time to wait for anything. Unless the page
   * may come back (persisted, back/forward cache), the peer connections
   * are left for the browser to tear down with the document, a moment
   * later, so that the server sees our leave before their DTLS close.
   */
  abandon(persisted) {
    if (this.closed) return;
    if (this.joinSent && !this.leaving) this.send({ type: 'leave' });
    this.leaving = true;
    this.beacon();
    this.finish('left', 'left: tab-closed', !persisted);
  }

  /** The resume claim that proves a later session is this one's continuation. */
  claim() {
    return this.participantId && this.leaveSecret
      ? { participant_id: this.participantId, leave_secret: this.leaveSecret }
      : this.resume;
  }

  /**
   * The page starts navigating away: say leave now, with the beacon as
   * backup. The peer connections close a moment later (or with the
   * document): their DTLS close must not reach the server before our leave.
   */
  depart() {
    if (this.closed) return;
    if (this.joinSent && !this.leaving) this.send({ type: 'leave' });
    this.leaving = true;
    this.beacon();
    const pcs = [this.pub, this.sub];
    // Kept for the page: a bfcache entry must release them at once.
    this.departedPCs = pcs;
    this.finish('left', 'left: leaving the page', true);
    setTimeout(() => {
      for (const pc of pcs) if (pc) pc.close();
    }, 1000);
  }

  beacon() {
    if (!this.participantId || !this.leaveSecret || !navigator.sendBeacon) return;
    const body = JSON.stringify({ participant_id: this.participantId, leave_secret: this.leaveSecret });
    try {
      navigator.sendBeacon('/v1/leave', new Blob([body], { type: 'application/json' }));
    } catch (_) {
      /* best effort */
    }
  }

  // Tears everything down once; state/text describe why.
  finish(state, text, keepPCs, reconnect) {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.leaveTimer);
    for (const pc of [this.pub, this.sub]) {
      if (!pc) continue;
      pc.onicecandidate = null;
      pc.ontrack = null;
      if (keepPCs) continue;
      try {
        pc.close();
      } catch (_) {
        /* already closed */
      }
    }
    this.pub = null;
    this.sub = null;
    this.participants.clear();
    this.dropSocket('bye');
    this.emit('end', { state, text, claim: this.claim(), reconnect: !!reconnect });
    if (this.resolveLeave) this.resolveLeave();
  }
}
