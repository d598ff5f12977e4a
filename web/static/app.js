/*
 * Switchyard browser client — plain JavaScript, no build step, no framework,
 * nothing fetched from anywhere but this server. The protocol it speaks is
 * docs/protocol.md (JSON over a WebSocket at /v1/rtc, one "publish" and one
 * "subscribe" RTCPeerConnection per session).
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
 *                                    currentTime, audioLive}; videoWidth/videoHeight/
 *                                    currentTime come from the tile's <video>;
 *                                    audioLive is true when the tile's stream has an
 *                                    audio track whose readyState is "live".
 *   Extras (also stable):
 *   window.switchyard.stateText      the text shown in #state, e.g. "left: kicked"
 *   window.switchyard.lastError      last server error {code, message, ref}, or null
 *   window.switchyard.join(room, name)  same as filling the form and pressing Join
 *   window.switchyard.leave()        same as pressing Leave; returns a Promise that
 *                                    settles when the session is torn down
 *   window.switchyard.resumedFrom    the earlier session the current one resumed, or null
 *   tiles() entries also carry resumedFrom (the tile's participant-joined resumed_from).
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
 *        Feature files (mute.js, speakers.js, chat.js) add: on a remote tile
 *        data-mic-muted / data-camera-muted ("true"/"false") and class
 *        "speaking" (also on #self); the chat panel #chat-log (one <li
 *        data-from="p_…"> per message, with .from, <time>, .text), #chat-form,
 *        #chat-input, #chat-status. window.switchyardExt is their hook into
 *        this file (see "extensions" below).
 *   URL:  /?room=NAME[&name=NAME][&token=JWT] fills the form and joins at
 *         once; after `joined` the address becomes /?room=NAME
 *         (history.replaceState); the token is kept in sessionStorage.
 *   The mute buttons keep their labels; aria-pressed="true" is muted / off.
 */
(() => {
  'use strict';

  const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;
  // Printable as Go's unicode.IsPrint: letters, marks, numbers, punctuation,
  // symbols and the ASCII space.
  const NAME_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u;
  const LEAVE_TIMEOUT_MS = 3000;
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
  };

  const app = {
    state: 'idle',
    stateText: 'idle',
    room: null,
    participantId: null,
    lastError: null,
    session: null, // the current Session; null when none is running
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

  // ------------------------------------------------------------- extensions

  // Features in files of their own (mute.js, speakers.js, chat.js) hear
  // every server message after this file has handled it ('message'), each
  // session's start and end ('session', with the Session or null), and the
  // mic and camera toggles ('toggle', with kind and muted). They act through
  // window.switchyardExt, defined at the end.
  const listeners = { message: [], session: [], toggle: [] };

  function emit(kind, ...args) {
    for (const fn of listeners[kind]) {
      try {
        fn(...args);
      } catch (err) {
        console.error(`switchyard: ${kind} listener:`, err);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

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

  // followRedirect sends the session's join to the cluster node that
  // hosts its room (docs/cluster.md): same join, same token, new socket.
  // Kept apart from the join/rejoin logic; at most three hops, so two
  // nodes that disagree cannot bounce the page forever.
  function followRedirect(session, msg) {
    session.redirects = (session.redirects || 0) + 1;
    let url;
    try {
      url = new URL(String(msg.url));
    } catch (_) {
      url = null;
    }
    if (!url || !['ws:', 'wss:'].includes(url.protocol) || session.redirects > 3) {
      session.finish('error', 'error: the cluster sent a bad or looping redirect');
      return;
    }
    const old = session.ws;
    if (old) {
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try {
        old.close(1000, 'redirected');
      } catch (_) {
        /* already closed */
      }
    }
    if (joinToken) url.searchParams.set('token', joinToken); // checked at the handshake too
    const ws = new WebSocket(url.href);
    session.ws = ws;
    ws.onopen = () => {
      session.joinSent = session.send({ type: 'join', room: session.room, name: session.name, token: joinToken });
    };
    ws.onmessage = (ev) => session.onMessage(ev.data);
    ws.onclose = (ev) => session.onClose(ev);
    ws.onerror = () => {};
  }

  function wsURL() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // With auth on the token also rides on the URL, so the server can
    // refuse a socket without one before upgrading it (401).
    const query = joinToken ? `?token=${encodeURIComponent(joinToken)}` : '';
    return `${scheme}//${location.host}/v1/rtc${query}`;
  }

  function roomURL(room) {
    return `${location.origin}${location.pathname}?room=${encodeURIComponent(room)}`;
  }

  function stopStream(stream) {
    if (stream) for (const t of stream.getTracks()) t.stop();
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
  function parseMsids(sdp) {
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

  // Camera and microphone, falling back to one of them, then to nothing
  // (receive-only). Resolves to a MediaStream or null; never rejects.
  // say(text) reports a problem (the session drops it once it is over).
  async function acquireMedia(say) {
    const md = navigator.mediaDevices;
    if (!md || !md.getUserMedia) {
      say('Camera and microphone are not available on this page (they need HTTPS or localhost); joined receive-only.');
      return null;
    }
    // 1280×720 so that Chromium sends all three simulcast layers (quality.js).
    const video = { width: { ideal: 1280 }, height: { ideal: 720 } };
    const attempts = [{ audio: true, video }, { audio: true }, { video }];
    let lastErr = null;
    for (const constraints of attempts) {
      try {
        return await md.getUserMedia(constraints);
      } catch (err) {
        lastErr = err;
        // Not allowed on this page at all: asking for less will not help.
        // (NotAllowedError may be one device blocked, the other allowed:
        // the camera denied must still leave the mic.)
        if (err && err.name === 'SecurityError') break;
      }
    }
    const why = lastErr ? `${lastErr.name}${lastErr.message ? ': ' + lastErr.message : ''}` : 'unknown error';
    say(`No camera or microphone (${why}); joined receive-only.`);
    return null;
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

  // ------------------------------------------------------------------ tiles

  // One remote participant: a <div class="tile"> with a <video> and a name.
  class Tile {
    constructor(id, name) {
      this.id = id;
      this.name = name || '';
      this.tracks = new Map(); // server track id → TrackInfo (from the protocol)
      this.media = new Map(); // MediaStreamTrack → {kind, mid, trackId}
      this.stream = new MediaStream();
      this.refreshQueued = false;

      this.el = document.createElement('div');
      this.el.className = 'tile no-video';
      this.el.dataset.participantId = id;
      this.video = document.createElement('video');
      this.video.autoplay = true;
      this.video.playsInline = true;
      this.video.setAttribute('playsinline', '');
      this.video.muted = false;
      this.label = document.createElement('div');
      this.label.className = 'name';
      this.el.append(this.video, this.label);
      this.setName(this.name);
      ui.tiles.append(this.el);
    }

    setName(name) {
      this.name = name || '';
      this.label.textContent = this.name || this.id;
      this.label.title = this.name || this.id;
    }

    has(track) {
      return this.media.has(track);
    }

    attach(track, meta) {
      this.media.set(track, meta);
      this.refresh();
    }

    detach(track) {
      if (this.media.delete(track)) this.refresh();
    }

    // Drop the track the server calls trackId; failing a match (no msid
    // mapping), drop every track of that kind.
    detachPublished(trackId, kind) {
      this.tracks.delete(trackId);
      let matched = false;
      for (const [track, meta] of this.media) {
        if (meta.trackId && meta.trackId === trackId) {
          this.media.delete(track);
          matched = true;
        }
      }
      if (!matched) {
        for (const [track, meta] of this.media) {
          if (meta.kind === kind || track.kind === kind) this.media.delete(track);
        }
      }
      // Apply at once, not in a microtask: the page must reflect it now.
      this.render();
      // No more size reports for it: the server would answer unknown-track.
      if (kind === 'video' && window.switchyardQuality) window.switchyardQuality.unwatch(this.video, matched ? trackId : '');
    }

    refresh() {
      if (this.refreshQueued) return;
      this.refreshQueued = true;
      queueMicrotask(() => {
        this.refreshQueued = false;
        this.render();
      });
    }

    // A fresh MediaStream per change: reassigning srcObject makes every
    // browser pick up added and removed tracks reliably.
    render() {
      if (!this.el.isConnected) return;
      const tracks = [...this.media.keys()];
      const current = this.stream.getTracks();
      this.el.classList.toggle('no-video', !tracks.some((t) => t.kind === 'video'));
      const unchanged = tracks.length === current.length && tracks.every((t) => current.includes(t));
      if (unchanged && this.video.srcObject === (tracks.length ? this.stream : null)) return;
      this.stream = new MediaStream(tracks);
      this.video.srcObject = tracks.length ? this.stream : null;
      if (tracks.length) this.play();
    }

    play() {
      const p = this.video.play();
      if (!p) return;
      p.catch((err) => {
        if (!err || err.name !== 'NotAllowedError' || !this.el.isConnected) return;
        // Autoplay with sound refused: play muted and offer to unmute.
        this.video.muted = true;
        this.video.play().catch(() => {});
        if (!this.el.querySelector('.unmute')) {
          const b = document.createElement('button');
          b.type = 'button';
          b.className = 'unmute';
          b.textContent = 'Click to unmute';
          b.addEventListener('click', () => {
            this.video.muted = false;
            this.video.play().catch(() => {});
            b.remove();
          });
          this.el.append(b);
        }
      });
    }

    remove() {
      if (window.switchyardQuality) window.switchyardQuality.unwatch(this.video);
      this.media.clear();
      this.video.srcObject = null;
      this.el.remove();
    }

    snapshot() {
      return {
        id: this.id,
        name: this.name,
        videoWidth: this.video.videoWidth,
        videoHeight: this.video.videoHeight,
        currentTime: this.video.currentTime,
        audioLive: this.stream.getAudioTracks().some((t) => t.readyState === 'live'),
        resumedFrom: this.resumedFrom || null,
      };
    }
  }

  // ---------------------------------------------------------------- session

  // One join: the socket, both peer connections, the remote participants.
  // It ends exactly once, in finish(); nothing of it survives that.
  class Session {
    // opts.resume: {participant_id, leave_secret} of the session this one
    // continues; opts.stream: local media kept from it (no new prompt).
    constructor(room, name, opts = {}) {
      this.room = room;
      this.name = name;
      this.resume = opts.resume || null;
      this.keptStream = opts.stream || null;
      this.ws = null;
      this.pub = null; // publish RTCPeerConnection (we offer)
      this.sub = null; // subscribe RTCPeerConnection (the server offers)
      this.participants = new Map(); // participant id → Tile
      this.departed = new Set(); // ids that left; late tracks for them are ignored
      this.unpublished = new Set(); // server track ids withdrawn; late tracks are ignored
      this.participantId = null;
      this.leaveSecret = null;
      this.iceServers = [];
      this.permissions = null; // from `joined`; null until then
      this.localStream = null;
      this.mediaPromise = Promise.resolve(null);
      this.joinSent = false;
      this.joined = false;
      this.leaving = false;
      this.closed = false;
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

    start() {
      if (app.reconnect) setState('reconnecting', 'reconnecting…');
      else setState('connecting', 'connecting');
      const kept = this.keptStream;
      const live = kept && kept.getTracks().some((t) => t.readyState === 'live');
      const media = live
        ? Promise.resolve(kept)
        : acquireMedia((text) => {
            if (!this.closed) notice(text);
          });
      if (kept && !live) stopStream(kept);
      this.mediaPromise = media.then((stream) => {
        if (this.closed || this.leaving) {
          stopStream(stream);
          return null;
        }
        this.localStream = stream;
        if (stream) {
          for (const t of stream.getAudioTracks()) t.enabled = !app.micMuted;
          for (const t of stream.getVideoTracks()) t.enabled = !app.cameraOff;
        }
        showLocal(stream);
        updateControls();
        return stream;
      });

      let ws;
      try {
        ws = new WebSocket(wsURL());
      } catch (err) {
        this.finish('error', `error: ${err.message}`);
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        const msg = { type: 'join', room: this.room, name: this.name, token: joinToken };
        if (this.resume) msg.resume = this.resume;
        this.joinSent = this.send(msg);
      };
      ws.onmessage = (ev) => this.onMessage(ev.data);
      ws.onclose = (ev) => this.onClose(ev);
      ws.onerror = () => {}; // a close event always follows
    }

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
          notice(`${which} connection: ${err && err.message ? err.message : err}`);
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
        case 'redirect': // the room lives on another cluster node
          followRedirect(this, msg);
          break;
        case 'participant-joined':
          if (msg.participant && msg.participant.id) this.addParticipant(msg.participant);
          break;
        case 'participant-left':
          this.removeParticipant(msg.participant_id);
          break;
        case 'track-published': {
          const tile = this.participants.get(msg.participant_id);
          if (tile && msg.track && msg.track.id) tile.tracks.set(msg.track.id, msg.track);
          break;
        }
        case 'track-unpublished': {
          if (msg.track_id) this.unpublished.add(msg.track_id);
          const tile = this.participants.get(msg.participant_id);
          if (tile) tile.detachPublished(msg.track_id, msg.kind);
          break;
        }
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
        case 'left':
          this.finish('left', `left: ${msg.reason || 'unknown'}`);
          break;
        case 'error':
          this.onError(msg);
          break;
        case 'server-draining':
          this.onDraining(msg);
          break;
        default:
          if (!listeners.message.length) console.warn('switchyard: ignoring message type', msg.type);
      }
      emit('message', msg, this);
    }

    onJoined(msg) {
      // Kept even while leaving, for the pagehide beacon.
      this.participantId = msg.participant_id || null;
      this.leaveSecret = msg.leave_secret || null;
      if (this.joined || this.leaving) return;
      this.joined = true;
      if (msg.room) this.room = msg.room;
      this.iceServers = iceServersFrom(msg.ice_servers);
      this.permissions = msg.permissions || null;
      app.room = this.room;
      app.participantId = this.participantId;
      app.resumedFrom = msg.resumed_from || null;
      app.last = { room: this.room, name: this.name };
      app.reconnect = null;
      try {
        history.replaceState(null, '', `${location.pathname}?room=${encodeURIComponent(this.room)}`);
      } catch (_) {
        /* not fatal */
      }
      ui.roomLink.value = roomURL(this.room);
      setState('joined', 'joined');
      emit('session', this);
      for (const p of msg.participants || []) {
        if (p && p.id && p.id !== this.participantId) this.addParticipant(p);
      }
      this.mediaPromise.then((stream) => {
        if (!stream || this.closed || this.leaving) return;
        if (this.permissions && this.permissions.publish === false) {
          // The server would refuse the offer: free the camera instead.
          stopStream(stream);
          this.localStream = null;
          showLocal(null);
          updateControls();
          notice('Your token does not allow publishing; joined receive-only.');
          return;
        }
        this.publish(stream);
      });
    }

    onError(msg) {
      const err = { code: msg.code || '', message: msg.message || '', ref: msg.ref || '' };
      app.lastError = err;
      const text = `error: ${err.code}${err.message ? ': ' + err.message : ''}`;
      if (err.ref === 'chat' || (err.ref === 'subscription' && err.code === 'unknown-track')) {
        // chat.js shows chat errors beside the chat; a size report for a
        // track unpublished meanwhile is a harmless race.
      } else if (this.leaving && err.ref === 'leave') {
        // e.g. not-joined: we left before the join went through.
        this.finish('left', 'left: leave');
      } else if (!this.joined && !this.leaving) {
        // The join failed (room-full, shutting-down, bad name…): this session is over.
        app.reconnect = null;
        this.finish('error', text);
      } else if (!this.leaving) {
        // The session goes on; say so next to the state.
        setState('joined', `joined — ${text}${err.ref ? ' (' + err.ref + ')' : ''}`);
      }
    }

    // The server stops soon: say until when, so the user can finish up.
    onDraining(msg) {
      const at = Number.isFinite(msg.deadline_ms) ? new Date(Date.now() + msg.deadline_ms) : new Date(msg.deadline);
      const when = isNaN(at) ? 'soon' : `at ${at.toLocaleTimeString()}`;
      notice(`The server is shutting down: calls end ${when}; new joins are refused.`);
    }

    onClose(ev) {
      if (this.closed) return;
      if (this.leaving) {
        this.finish('left', 'left: leave');
        return;
      }
      if (this.joined || app.reconnect) {
        // The socket broke under a joined session (or under an attempt to
        // get it back): rejoin as the same participant, keeping the camera.
        const claim = this.claim() || this.resume;
        const stream = this.finish('reconnecting', 'reconnecting…', false, true);
        reconnectSoon({ room: this.room, name: this.name, claim, stream });
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
      let tile = this.participants.get(info.id);
      if (tile) {
        if (info.name) tile.setName(info.name);
      } else {
        tile = new Tile(info.id, info.name);
        this.participants.set(info.id, tile);
      }
      if (info.resumed_from) tile.resumedFrom = info.resumed_from;
      for (const t of info.tracks || []) if (t && t.id) tile.tracks.set(t.id, t);
      return tile;
    }

    removeParticipant(id) {
      if (!id) return;
      this.departed.add(id);
      const tile = this.participants.get(id);
      if (!tile) return;
      this.participants.delete(id);
      tile.remove();
    }

    // ---- publish PC: we offer, the server answers

    publish(stream) {
      const tracks = stream.getTracks();
      if (!tracks.length || this.pub) return;
      const pc = new RTCPeerConnection({ iceServers: this.iceServers });
      this.pub = pc;
      pc.onicecandidate = (ev) => this.sendCandidate('publish', ev.candidate);
      this.watchPC('publish', pc);
      const q = window.switchyardQuality;
      for (const t of tracks) {
        const init = { direction: 'sendonly', streams: [stream] };
        if (t.kind === 'video' && q) init.sendEncodings = q.sendEncodings();
        pc.addTransceiver(t, init);
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
        const offer = await pc.createOffer();
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
      // whichever tile had it.
      for (const tile of this.participants.values()) if (tile.has(track)) tile.detach(track);
      if (!pid || pid === '-' || pid === this.participantId || this.departed.has(pid)) return;
      if (msid && msid.trackId && this.unpublished.has(msid.trackId)) return;
      const tile = this.participants.get(pid) || this.addParticipant({ id: pid, name: '' });
      if (!tile) return;
      tile.attach(track, { kind: track.kind, mid, trackId: msid ? msid.trackId : '' });
      // Ask for the simulcast layer that fits the tile.
      if (track.kind === 'video' && msid && window.switchyardQuality) {
        window.switchyardQuality.watch(tile.video, msid.trackId, (msg) => this.send(msg));
      }

      if (!this.hooked.has(track)) {
        this.hooked.add(track);
        track.addEventListener('ended', () => {
          for (const t of this.participants.values()) t.detach(track);
        });
      }
      if (stream && !this.hooked.has(stream)) {
        this.hooked.add(stream);
        stream.addEventListener('removetrack', (e) => {
          const t = this.participants.get(stream.id);
          if (t) t.detach(e.track);
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
        const s = pc.connectionState || pc.iceConnectionState;
        const text = `${which} connection ${s === 'failed' ? 'failed' : 'interrupted…'}`;
        if (s === 'failed' || s === 'disconnected') notice(text);
        else if (s === 'connected' && ui.notice.textContent.startsWith(`${which} connection`)) notice('');
      };
      pc.addEventListener('connectionstatechange', check);
      pc.addEventListener('iceconnectionstatechange', check);
    }

    // ---- ending

    // Ask the server to end the session and wait for `left` (at most
    // LEAVE_TIMEOUT_MS). Idempotent: every call returns the same promise.
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
        setState(app.state, 'leaving…');
        this.leaveTimer = setTimeout(() => this.finish('left', 'left: leave (no reply)'), LEAVE_TIMEOUT_MS);
      } else {
        this.finish('left', 'left: leave');
      }
      return this.leavePromise;
    }

    // The page is going away: no time to wait for anything. Unless the page
    // may come back (persisted, back/forward cache), the peer connections
    // are left for the browser to tear down with the document, a moment
    // later, so that the server sees our leave before their DTLS close.
    abandon(persisted) {
      if (this.closed) return;
      if (this.joinSent && !this.leaving) this.send({ type: 'leave' });
      this.leaving = true;
      this.beacon();
      this.finish('left', 'left: tab-closed', !persisted);
    }

    // The resume claim that proves a later session is this one's
    // continuation; null before joined.
    claim() {
      return this.participantId && this.leaveSecret
        ? { participant_id: this.participantId, leave_secret: this.leaveSecret }
        : null;
    }

    // The page starts navigating away: say leave now, not when the next
    // page commits (which waits for someone else's server), with the
    // beacon as backup. The session ends here; what it needs to rejoin,
    // should the page stay after all, is returned.
    depart() {
      if (this.closed) return null;
      const claim = this.claim() || this.resume;
      if (this.joinSent && !this.leaving) this.send({ type: 'leave' });
      this.leaving = true;
      this.beacon();
      // The peer connections close a moment later (or with the document):
      // their DTLS close must not reach the server before our leave.
      const pcs = [this.pub, this.sub];
      const stream = this.finish('left', 'left: leaving the page', true, true);
      setTimeout(() => {
        for (const pc of pcs) if (pc) pc.close();
      }, 1000);
      return { room: this.room, name: this.name, claim, stream };
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

    // Tears everything down once; state/text describe why. With keepMedia
    // the local stream is not stopped but returned, for a rejoin.
    finish(state, text, keepPCs, keepMedia) {
      if (this.closed) return null;
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
      for (const tile of this.participants.values()) tile.remove();
      this.participants.clear();
      const kept = keepMedia ? this.localStream : null;
      if (!keepMedia) stopStream(this.localStream);
      this.localStream = null;
      const ws = this.ws;
      if (ws) {
        ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
          try {
            ws.close(1000, 'bye');
          } catch (_) {
            /* ignore */
          }
        }
      }
      if (app.session === this) {
        app.session = null;
        emit('session', null);
        showLocal(null);
        setState(state, text);
      }
      if (this.resolveLeave) this.resolveLeave();
      return kept;
    }

    snapshot() {
      return [...this.participants.values()].map((t) => t.snapshot());
    }
  }

  // --------------------------------------------------------------------- UI

  function showLocal(stream) {
    const hasVideo = !!stream && stream.getVideoTracks().length > 0;
    ui.localVideo.muted = true;
    ui.localVideo.srcObject = stream || null;
    ui.self.classList.toggle('no-video', !hasVideo || app.cameraOff);
    if (stream) ui.localVideo.play().catch(() => {});
  }

  function localTracks(kind) {
    const s = app.session && app.session.localStream;
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
    ui.rejoin.hidden = active || !app.last || !['left', 'error', 'disconnected'].includes(app.state);
    if (!active && app.reconnect) ui.leave.disabled = false; // stops reconnecting
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
    startSession(room, name);
    return true;
  }

  // Every join and rejoin starts here: the form, a reconnect after the
  // socket broke, a navigation that did not unload, a back/forward cache
  // restore. opts: see Session (resume claim, kept local media).
  function startSession(room, name, opts = {}) {
    clearTimeout(app.rejoinTimer);
    app.away = null;
    app.pending = null;
    app.lastError = null;
    app.room = room;
    app.participantId = null;
    app.resumedFrom = null;
    app.last = { room, name };
    const s = new Session(room, name, opts);
    app.session = s;
    s.start();
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
    if (!app.session) return;
    const away = app.session.depart();
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

  window.switchyardExt = Object.freeze({
    on(kind, fn) {
      listeners[kind].push(fn);
    },
    session() {
      return app.session;
    },
    send(msg) {
      return !!app.session && app.session.send(msg);
    },
    localMuted(kind) {
      return kind === 'audio' ? app.micMuted : app.cameraOff;
    },
    setLocalMuted,
  });

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
      return app.session ? app.session.snapshot() : [];
    },
    join,
    leave,
  });

  // /?room=NAME[&name=NAME]: fill the form and join at once.
  const params = new URLSearchParams(location.search);
  const qRoom = params.get('room');
  const qName = params.get('name');
  ui.name.value = qName !== null ? qName : storedName();
  if (qRoom !== null) {
    ui.room.value = qRoom;
    let name = ui.name.value.trim();
    if (!name) name = `guest-${Math.floor(1000 + Math.random() * 9000)}`;
    join(qRoom, name);
  }
  updateControls();
})();
