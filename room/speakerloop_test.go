package room

import (
	"testing"

	"github.com/pion/webrtc/v3"
)

// Publishing audio starts the room's speaker sampling; a loud publisher
// is announced to everyone, and announced gone when quiet.
func TestActiveSpeakersFollowAudioLevels(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	bob := f.join("r", "bob")
	audio := ann.publish(webrtc.RTPCodecTypeAudio, 0)
	ann.publish(webrtc.RTPCodecTypeVideo, 1) // video never counts
	quiet := bob.publish(webrtc.RTPCodecTypeAudio, 0)
	quiet.setLevel(20)
	n := bob.heard.count()

	audio.setLevel(120)
	bob.heard.waitFor(t, n, "speakers ["+ann.id+"]")
	ann.heard.waitFor(t, 0, "speakers ["+ann.id+"]")
	n = bob.heard.count()
	audio.setLevel(0)
	bob.heard.waitFor(t, n, "speakers []")
}
