package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-sfu/switchyard/signal"
)

// TestMetricsAgreeWithWhatHappened joins three, makes two leave in two
// ways, and checks /metrics and /v1/rooms tell the same story.
func TestMetricsAgreeWithWhatHappened(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	a, ja := h.joined(ctx, "m", "Ann")
	b, jb := h.joined(ctx, "m", "Bob")
	h.joined(ctx, "m", "Cid")
	if err := a.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
		t.Fatal(err)
	}
	if err := b.DropSocket(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ja.ParticipantID, jb.ParticipantID} {
		if _, err := h.recorder.waitLeft(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	body := get(t, "http://"+h.srv.Addr().String()+"/metrics")
	for _, want := range []string{
		"switchyard_participants 1\n",
		"switchyard_participants_peak 3\n",
		"switchyard_rooms 1\n",
		"switchyard_joins_total 3\n",
		`switchyard_leaves_total{reason="leave"} 1` + "\n",
		`switchyard_leaves_total{reason="socket-closed"} 1` + "\n",
		`switchyard_leave_detection_delay_seconds_count{reason="socket-closed"} 1` + "\n",
		"switchyard_session_duration_seconds_count 2\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	rooms := get(t, "http://"+h.srv.Addr().String()+"/v1/rooms")
	if strings.Count(rooms, `"name":`) != 1 || !strings.Contains(rooms, `"name":"Cid"`) {
		t.Errorf("/v1/rooms = %s, want only Cid", rooms)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}
