/*
 * The page's feature hub: app.js tells every feature module (mute.js,
 * speakers.js, chat.js, reconnecting.js, …) what happens through it, and
 * they act through it. Kinds: 'message' (msg, session) after app.js
 * handled a server message; 'session' (session or null) when one starts
 * (after joined) and ends; 'toggle' (kind, muted) for the mic and camera
 * buttons; 'media' (participant, tileElement) when a remote tile's tracks
 * change.
 */
const listeners = { message: [], session: [], toggle: [], media: [] };
let impl = null; // set by app.js: {session, send, localMuted, setLocalMuted, token}

export function emit(kind, ...args) {
  for (const fn of listeners[kind]) {
    try {
      fn(...args);
    } catch (err) {
      console.error(`switchyard: ${kind} listener:`, err);
    }
  }
}

export function provide(api) {
  impl = api;
}

export const ext = Object.freeze({
  on(kind, fn) {
    listeners[kind].push(fn);
  },
  session() {
    return impl ? impl.session() : null;
  },
  send(msg) {
    return !!impl && impl.send(msg);
  },
  localMuted(kind) {
    return !!impl && impl.localMuted(kind);
  },
  setLocalMuted(kind, muted) {
    if (impl) impl.setLocalMuted(kind, muted);
  },
  token() {
    return impl ? impl.token() : undefined;
  },
});
