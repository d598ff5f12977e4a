package room

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"
)

// Active-speaker detection. Every speakerSampleInterval the room takes
// each publisher's mean audio level since the last sample, smooths it, and
// calls everyone above speakingLoudness a speaker. The room hears the
// list only when it changes, and at most every speakerMinInterval.
const (
	speakerSampleInterval = 100 * time.Millisecond
	speakerMinInterval    = 300 * time.Millisecond
	// speakingLoudness is in dB above -127 dBov: louder than -45 dBov.
	speakingLoudness = 127 - 45
	// Smoothing weights of a new sample: rising fast picks up a speaker
	// at once, falling slower rides over the gaps between words.
	speakerAttack  = 0.5
	speakerRelease = 0.25
)

// speakerWatch is a room's speaker state.
type speakerWatch struct {
	running  bool               // the sampling goroutine is on
	smoothed map[string]float64 // participant id → smoothed loudness
	sent     []Speaker          // what the room last heard
	sentAt   time.Time
}

// watchSpeakers starts sampling if it is not on; callers hold r.mu. The
// goroutine ends by itself once no audio is published and the room has
// been told that nobody speaks, or at once when the room is removed;
// loops counts it so the manager's Shutdown can wait for it.
func (r *Room) watchSpeakers(loops *sync.WaitGroup) {
	if r.speakers.running {
		return
	}
	r.speakers.running = true
	loops.Go(r.sampleSpeakers)
}

func (r *Room) sampleSpeakers() {
	tick := time.NewTicker(speakerSampleInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.removed:
			return
		case now := <-tick.C:
			if !r.sampleSpeakersOnce(now) {
				return
			}
		}
	}
}

// sampleSpeakersOnce takes one sample and reports whether to go on.
func (r *Room) sampleSpeakersOnce(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	loudness := make(map[string]float64)
	for _, p := range r.participants {
		for _, t := range p.tracks {
			if t.Kind() != webrtc.RTPCodecTypeAudio {
				continue
			}
			l, _ := t.TakeAudioLevel() // no packets (muted, silent) is 0
			loudness[p.id] = max(loudness[p.id], l)
		}
	}
	if speakers, changed := r.speakers.update(now, loudness); changed {
		for _, p := range r.sortedParticipants() {
			p.client.ActiveSpeakers(speakers)
		}
	}
	if len(loudness) == 0 && len(r.speakers.sent) == 0 {
		r.speakers.running = false
		r.speakers.smoothed = nil
		return false
	}
	return true
}

// update folds one sample of loudness per audio publisher into the
// smoothed levels and returns the speakers when the room is to hear them.
func (w *speakerWatch) update(now time.Time, loudness map[string]float64) ([]Speaker, bool) {
	if w.smoothed == nil {
		w.smoothed = make(map[string]float64)
	}
	for id := range w.smoothed {
		if _, ok := loudness[id]; !ok {
			delete(w.smoothed, id)
		}
	}
	speakers := []Speaker{}
	for id, l := range loudness {
		s := w.smoothed[id]
		weight := speakerRelease
		if l > s {
			weight = speakerAttack
		}
		s += weight * (l - s)
		w.smoothed[id] = s
		if s >= speakingLoudness {
			speakers = append(speakers, Speaker{ParticipantID: id, Level: math.Round(s/127*100) / 100})
		}
	}
	slices.SortFunc(speakers, func(a, b Speaker) int {
		return cmp.Or(cmp.Compare(b.Level, a.Level), cmp.Compare(a.ParticipantID, b.ParticipantID))
	})
	if sameSpeakers(speakers, w.sent) || now.Sub(w.sentAt) < speakerMinInterval {
		return nil, false
	}
	w.sent, w.sentAt = speakers, now
	return speakers, true
}

// sameSpeakers compares who speaks, not how loud or in which order.
func sameSpeakers(a, b []Speaker) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.ContainsFunc(b, func(o Speaker) bool { return o.ParticipantID == s.ParticipantID }) {
			return false
		}
	}
	return true
}
