package metrics

import (
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// scrape returns what /metrics serves.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func newMetrics(t *testing.T) *Metrics {
	t.Helper()
	m, _ := newMetricsEngine(t)
	return m
}

func newMetricsEngine(t *testing.T) (*Metrics, *sfu.Engine) {
	t.Helper()
	engine, err := sfu.NewEngine(sfu.EngineConfig{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	return New(engine), engine
}

// subscribeIn opens a subscriber in room (the engine's group), closed at
// the end of the test.
func subscribeIn(t *testing.T, engine *sfu.Engine, room string) *sfu.Subscriber {
	t.Helper()
	sub, err := engine.NewSubscriber(sfu.SubscriberEvents{Offer: func(string) {}, Group: room})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// TestDocumentedMetricsAreServed fails when docs/metrics.md names a metric
// the server does not serve, or the server serves one the doc lacks.
func TestDocumentedMetricsAreServed(t *testing.T) {
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(switchyard_[a-z_]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1])
	}
	if len(documented) == 0 {
		t.Fatal("docs/metrics.md lists no metrics: the table format changed")
	}
	// Per-room series exist while the room has a subscriber; everything
	// else before any event at all.
	m, engine := newMetricsEngine(t)
	subscribeIn(t, engine, "r")
	var served []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (switchyard_[a-z_]+) `).FindAllStringSubmatch(scrape(t, m), -1) {
		served = append(served, m[1])
	}
	for _, name := range documented {
		if !slices.Contains(served, name) {
			t.Errorf("%s is documented but not served before any event (per-room: with one subscriber)", name)
		}
	}
	for _, name := range served {
		if !slices.Contains(documented, name) {
			t.Errorf("%s is served but not in docs/metrics.md", name)
		}
	}
}

// TestEveryReasonHasAZeroSeries checks a fresh server shows zeros for
// every leave reason, not "no data".
func TestEveryReasonHasAZeroSeries(t *testing.T) {
	body := scrape(t, newMetrics(t))
	for _, r := range room.Reasons() {
		want := `switchyard_leaves_total{reason="` + string(r) + `"} 0` + "\n"
		if !strings.Contains(body, want) {
			t.Errorf("missing %q", want)
		}
		delay := `switchyard_leave_detection_delay_seconds_count{reason="` + string(r) + `"} 0` + "\n"
		if got := strings.Contains(body, delay); got != r.Detected() {
			t.Errorf("detection-delay series for %s present=%v, want %v", r, got, r.Detected())
		}
	}
}

// TestRoomSeries: a room's adaptive-video series start at zero with its
// first subscriber, are labelled with its name, and go with its last.
func TestRoomSeries(t *testing.T) {
	m, engine := newMetricsEngine(t)
	if body := scrape(t, m); strings.Contains(body, "switchyard_room_") {
		t.Fatalf("per-room series with no subscriber:\n%s", body)
	}
	sub := subscribeIn(t, engine, "r1")
	body := scrape(t, m)
	for _, want := range []string{
		`switchyard_room_video_subscriptions{layer="f",room="r1"} 0`,
		`switchyard_room_video_subscriptions{layer="paused",room="r1"} 0`,
		`switchyard_room_video_layer_switches_up_total{room="r1"} 0`,
		`switchyard_room_video_layer_switches_down_total{room="r1"} 0`,
		`switchyard_room_video_probes_total{room="r1"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %q", want)
		}
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if body := scrape(t, m); strings.Contains(body, `room="r1"`) {
		t.Errorf("room r1's series outlived its last subscriber")
	}
}
