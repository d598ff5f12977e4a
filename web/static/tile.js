/*
 * One remote participant's tile: <div class="tile" data-participant-id>
 * with a <video autoplay playsinline> (not muted) and a <div class="name">.
 * It renders the participant record a Session keeps (session.js):
 * participant.media, MediaStreamTrack → {kind, mid, trackId}.
 */
import * as quality from './quality.js';

export class Tile {
  constructor(parent, participant) {
    this.id = participant.id;
    this.participant = participant;
    this.name = '';
    this.resumedFrom = null;
    this.stream = new MediaStream();
    this.refreshQueued = false;

    this.el = document.createElement('div');
    this.el.className = 'tile no-video';
    this.el.dataset.participantId = this.id;
    this.el.tabIndex = 0;
    this.video = document.createElement('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.setAttribute('playsinline', '');
    this.video.muted = false;
    this.label = document.createElement('div');
    this.label.className = 'name';
    this.el.append(this.video, this.label);
    this.update(participant);
    parent.append(this.el);
  }

  update(participant) {
    this.participant = participant;
    this.name = participant.name || '';
    this.resumedFrom = participant.resumedFrom || null;
    this.label.textContent = this.name || this.id;
    this.label.title = this.name || this.id;
    this.el.setAttribute('aria-label', `${this.name || this.id}`);
  }

  // The tracks this tile shows; screen.js takes a screen share's video
  // out of this set and shows it in a tile of its own.
  tracks() {
    return [...this.participant.media].filter(([, m]) => !m.screen).map(([t]) => t);
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
    const tracks = this.tracks();
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
    quality.unwatch(this.video);
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
