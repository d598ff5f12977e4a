package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestDeviceSwitchMidCall: a participant with two (fake) cameras picks
// the other one in the Devices list during the call; its sender now
// sends the new camera, the choice is remembered, and the other page
// keeps playing its video and audio throughout.
func TestDeviceSwitchMidCall(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	switcher, err := launchBrowser(t, "DV1", "--use-fake-device-for-media-stream=device-count=2")
	if err != nil {
		t.Fatal(err)
	}
	viewer := launchBrowsers(t, "DV", 1)[0]
	bs := []*browser{switcher, viewer}
	ids, err := joinAll(s.base, "devices", bs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.waitPlaying(othersOf(bs, ids, 1), true, 0.2); err != nil {
		t.Fatal(err)
	}
	// The list fills once the camera is granted (labels appear then).
	if err := switcher.waitJS(10*time.Second, "two cameras listed", `document.getElementById('camera-select').options.length >= 3`); err != nil {
		t.Fatal(err)
	}
	sending := `(() => { const tr = window.switchyardExt.session().pub.getTransceivers().find((t) => t.sender.track && t.sender.track.kind === 'video'); return tr ? tr.sender.track.getSettings().deviceId : ''; })()`
	before, err := eval[string](switcher, sending)
	if err != nil || before == "" {
		t.Fatalf("the camera sent before the switch: %q, %v", before, err)
	}
	other, err := eval[string](switcher, fmt.Sprintf(`(() => {
		const sel = document.getElementById('camera-select');
		const o = [...sel.options].find((o) => o.value && o.value !== %q);
		sel.value = o.value;
		sel.dispatchEvent(new Event('change'));
		return o.value;
	})()`, before))
	if err != nil || other == "" {
		t.Fatalf("pick the other camera: %q, %v", other, err)
	}
	if err := switcher.waitJS(10*time.Second, "the sender on the other camera", fmt.Sprintf(`%s === %q`, sending, other)); err != nil {
		t.Fatal(err)
	}
	if remembered, err := eval[string](switcher, `JSON.parse(localStorage.getItem('switchyard.devices')).video`); err != nil || remembered != other {
		t.Errorf("remembered camera %q (%v), want %q", remembered, err, other)
	}
	// The viewer never lost the track: still the same tile, still playing.
	if _, err := viewer.waitPlaying(othersOf(bs, ids, 1), true, 0.5); err != nil {
		t.Errorf("after the switch: %v", err)
	}
	if live, err := eval[bool](switcher, `window.switchyardExt.session().localStream.getVideoTracks().length === 1 && window.switchyardExt.session().localStream.getVideoTracks()[0].readyState === 'live'`); err != nil || !live {
		t.Errorf("the local stream does not hold exactly the one new camera track (%v)", err)
	}
}
