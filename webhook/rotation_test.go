package webhook_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/webhooktest"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/webhook"
)

// The log rotates many times while events are delivered and while the
// dispatcher is stopped, so a saved cursor points into a file that has
// since been renamed: every event still arrives exactly once, in order.
func TestDeliveryFollowsTheLogAcrossRotations(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "sessions.jsonl")
	log, _, err := sessionlog.OpenRotating(logPath, nil, sessionlog.Rotation{MaxBytes: 2000})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	churn(t, log, 0, 5) // history: replayed for state, not sent
	r := webhooktest.New(t, testKey, 0.2)
	d := newTestDispatcher(t, dir, logPath, r.URL())
	want := churn(t, log, 100, 30)
	r.Down() // the cursor stays behind while the log rotates on
	want += churn(t, log, 200, 20)
	closeDispatcher(t, d)
	saved := savedCursorSeq(t, dir)
	want += churn(t, log, 300, 20) // more rotations while nothing delivers
	files, err := sessionlog.Files(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(files)) <= saved+1 {
		t.Fatalf("saved cursor in segment %d and only %d segments: no rotation passed under it", saved, len(files))
	}
	r.Up()
	d = newTestDispatcher(t, dir, logPath, r.URL())
	want += churn(t, log, 400, 10)
	events := r.Wait(want, 30*time.Second)
	closeDispatcher(t, d)
	t.Logf("%d segments, cursor saved in segment %d, %d events", len(files), saved, len(events))
	checkDelivered(t, r, events, want)
}

// checkDelivered fails unless the receiver has exactly want distinct
// events, saw no problem, and every room's events follow sessionOrder.
func checkDelivered(t *testing.T, r *webhooktest.Receiver, events []webhook.Event, want int) {
	t.Helper()
	if len(events) != want {
		t.Fatalf("receiver has %d distinct events, want exactly %d", len(events), want)
	}
	for _, b := range r.Problems() {
		t.Error(b)
	}
	for roomName, list := range webhooktest.CheckOrder(t, events) {
		for i, ev := range list {
			if wantType := sessionOrder[i%len(sessionOrder)]; ev.Type != wantType {
				t.Fatalf("room %s event %d is %s, want %s", roomName, i, ev.Type, wantType)
			}
		}
	}
}

// savedCursorSeq reads the one cursor file's segment number.
func savedCursorSeq(t *testing.T, dir string) int64 {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "webhook-*.cursor.json"))
	if len(names) != 1 {
		t.Fatalf("cursor files %v, want one", names)
	}
	b, err := os.ReadFile(names[0])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Seq int64 `json:"seq"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Seq == 0 || !strings.Contains(string(b), `"seq"`) {
		t.Fatalf("cursor %s: %v (want a segment number)", b, err)
	}
	return c.Seq
}

// With retention on, a receiver that is down keeps the segment its cursor
// is in (and every later one): once it is back, every event still arrives
// once, in order; after that, retention deletes what it has delivered.
func TestRetentionKeepsWhatALaggingDeliveryNeeds(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "sessions.jsonl")
	const keep = 2
	log, _, err := sessionlog.OpenRotating(logPath, nil, sessionlog.Rotation{MaxBytes: 2000, MaxSegments: keep})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	r := webhooktest.New(t, testKey, 0)
	d := newTestDispatcher(t, dir, logPath, r.URL())
	log.Retain(d.OldestSegment)
	r.Down()
	want := churn(t, log, 0, 40) // many rotations while nothing is delivered
	files, err := sessionlog.Files(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) <= keep+2 || !strings.HasSuffix(files[0], ".000001") {
		t.Fatalf("segments %v: retention deleted what the lagging receiver needs", files)
	}
	r.Up()
	checkDelivered(t, r, r.Wait(want, 30*time.Second), want)
	// Delivered: the next rotations let the old segments go.
	want += churn(t, log, 100, 10)
	r.Wait(want, 30*time.Second)
	after, err := sessionlog.Files(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) > keep+2 { // the kept ones, the live one, and one the cursor may still be in
		t.Fatalf("after delivery: segments %v, want about %d", after, keep+1)
	}
	closeDispatcher(t, d)
}
