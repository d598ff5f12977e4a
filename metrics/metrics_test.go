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
	engine, err := sfu.NewEngine(sfu.EngineConfig{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	return New(engine)
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
	var served []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (switchyard_[a-z_]+) `).FindAllStringSubmatch(scrape(t, newMetrics(t)), -1) {
		served = append(served, m[1])
	}
	for _, name := range documented {
		if !slices.Contains(served, name) {
			t.Errorf("%s is documented but not served before any event", name)
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
