/*
 * Local camera and microphone for the Switchyard client; no DOM access.
 */

// 1280×720 so that Chromium sends all three simulcast layers (quality.js).
export const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 } };

/**
 * Camera and microphone, falling back to one of them, then to nothing
 * (receive-only). Resolves to {stream, problem}: stream a MediaStream or
 * null, problem a sentence for the user or ''. Never rejects.
 * devices: {audio, video} deviceIds to prefer ('' for the default).
 */
export async function acquireMedia(devices = {}) {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) {
    return { stream: null, problem: 'Camera and microphone are not available on this page (they need HTTPS or localhost); joined receive-only.' };
  }
  const video = devices.video ? { ...CAMERA, deviceId: { ideal: devices.video } } : CAMERA;
  const audio = devices.audio ? { deviceId: { ideal: devices.audio } } : true;
  const attempts = [{ audio, video }, { audio }, { video }];
  let lastErr = null;
  for (const constraints of attempts) {
    try {
      return { stream: await md.getUserMedia(constraints), problem: '' };
    } catch (err) {
      lastErr = err;
      // Not allowed on this page at all: asking for less will not help.
      // (NotAllowedError may be one device blocked, the other allowed:
      // the camera denied must still leave the mic.)
      if (err && err.name === 'SecurityError') break;
    }
  }
  const why = lastErr ? `${lastErr.name}${lastErr.message ? ': ' + lastErr.message : ''}` : 'unknown error';
  return { stream: null, problem: `No camera or microphone (${why}); joined receive-only.` };
}

export function stopStream(stream) {
  if (stream) for (const t of stream.getTracks()) t.stop();
}
