package room

import (
	"fmt"
	"strings"
)

// DefaultMaxTracks is the per-participant published-track limit when
// Options.MaxTracks is 0: a camera, a microphone, a screen share and its
// audio, with room to spare.
const DefaultMaxTracks = 4

// maxTracks is the configured limit or its default.
func (m *Manager) maxTracks() int {
	if m.opts.MaxTracks > 0 {
		return m.opts.MaxTracks
	}
	return DefaultMaxTracks
}

// checkTrackLimit counts the m-lines of an offer that send media (every
// other member's subscribe PC gets one m-line for each) and refuses more
// than limit. Simulcast layers share one m-line and count once.
func checkTrackLimit(sdp string, limit int) error {
	n := 0
	for _, section := range strings.Split(sdp, "\nm=")[1:] {
		if !strings.HasPrefix(section, "audio") && !strings.HasPrefix(section, "video") {
			continue // data channels carry no forwarded track
		}
		if f := strings.Fields(section); len(f) > 1 && f[1] == "0" {
			continue // port 0: a rejected or stopped m-line
		}
		if strings.Contains(section, "a=inactive") || strings.Contains(section, "a=recvonly") {
			continue
		}
		n++
	}
	if n > limit {
		return fmt.Errorf("%w: the offer sends %d, at most %d per participant", ErrTooManyTracks, n, limit)
	}
	return nil
}
