package webhook_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/webhooktest"
	"github.com/switchyard-sfu/switchyard/sessionlog"
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
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
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d segments, cursor saved in segment %d, %d events", len(files), saved, len(events))
	if len(events) != want {
		t.Fatalf("receiver has %d distinct events, want exactly %d", len(events), want)
	}
	for _, b := range r.Problems() {
		t.Error(b)
	}
	for roomName, list := range webhooktest.CheckOrder(t, events) {
		for i, ev := range list {
			wantType := sessionOrder[i%len(sessionOrder)]
			if ev.Type != wantType {
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
