package webhook_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/webhooktest"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	. "github.com/switchyard-sfu/switchyard/webhook"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testKey = []byte("webhook-test-key-0123456789abcdef")

func TestSignatureVerifiesAndRejectsTamperingAndReplay(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1"}`)
	sig := Sign(testKey, "evt_1", now, body)
	ts := fmt.Sprint(now.Unix())
	cases := []struct {
		name        string
		id, ts, sig string
		body        []byte
		at          time.Time
		want        error
	}{
		{"valid", "evt_1", ts, sig, body, now, nil},
		{"valid among others", "evt_1", ts, "v1,AAAA " + sig, body, now.Add(time.Minute), nil},
		{"body changed", "evt_1", ts, sig, []byte(`{"id":"evt_2"}`), now, ErrBadSignature},
		{"id changed", "evt_2", ts, sig, body, now, ErrBadSignature},
		{"timestamp changed", "evt_1", fmt.Sprint(now.Unix() + 1), sig, body, now, ErrBadSignature},
		{"replayed later", "evt_1", ts, sig, body, now.Add(10 * time.Minute), ErrStale},
		{"garbage timestamp", "evt_1", "soon", sig, body, now, ErrBadSignature},
	}
	for _, c := range cases {
		if err := Verify(testKey, c.id, c.ts, c.sig, c.body, c.at, 5*time.Minute); err != c.want {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
	if !strings.HasPrefix(sig, "v1,") {
		t.Errorf("signature %q lacks the v1, prefix", sig)
	}
}

// churn appends n sessions spread over rooms, interleaved so rooms start
// and finish several times, and returns how many events they must
// produce. Each session publishes a track; every other one unpublishes
// it before leaving, the rest leave with it (the leave unpublishes it).
func churn(t *testing.T, log *sessionlog.Log, from, n int) (events int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		roomName := fmt.Sprintf("room%d", i%3)
		id := fmt.Sprintf("p_%04d", i)
		track := &sessionlog.Track{ID: fmt.Sprintf("t_%04d", i), Kind: "video", Mime: "video/VP8", Layers: []string{"q", "h", "f"}}
		records := []sessionlog.Record{
			{Event: sessionlog.EventJoin, Room: roomName, ParticipantID: id, Name: "n"},
			{Event: sessionlog.EventTrackPublished, Room: roomName, ParticipantID: id, Name: "n", Track: track},
		}
		if i%2 == 0 {
			records = append(records, sessionlog.Record{Event: sessionlog.EventTrackUnpublished, Room: roomName, ParticipantID: id, Name: "n", Track: track})
		}
		records = append(records, sessionlog.Record{Event: sessionlog.EventLeave, Room: roomName, ParticipantID: id, Name: "n", Reason: "leave", DurationSec: 0.01})
		for _, r := range records {
			if err := log.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		// Alone in the room each time: started, joined, track published,
		// track unpublished, left, finished.
		events += len(sessionOrder)
	}
	return events
}

var sessionOrder = []string{TypeRoomStarted, TypeParticipantJoined, TypeTrackPublished, TypeTrackUnpublished, TypeParticipantLeft, TypeRoomFinished}

func newTestDispatcher(t *testing.T, dir, logPath string, urls ...string) *Dispatcher {
	t.Helper()
	d, err := New(Options{URLs: urls, Key: testKey, LogPath: logPath, StateDir: dir, Poll: 20 * time.Millisecond,
		Timeout: time.Second, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	return d
}

// closeDispatcher closes d within 5 s; pending deliveries are saved for
// the next dispatcher.
func closeDispatcher(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestEveryEventArrivesOnceInOrderThroughFailuresOutageAndRestart(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "sessions.jsonl")
	log, _, err := sessionlog.Open(logPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	// History from before the subscription is not sent: it starts at the end.
	churn(t, log, 0, 5)
	r := webhooktest.New(t, testKey, 0.3)
	d := newTestDispatcher(t, dir, logPath, r.URL())

	want := churn(t, log, 100, 40)
	r.Down()
	want += churn(t, log, 200, 30) // all while the receiver is down
	closeDispatcher(t, d)          // restart while events are pending
	want += churn(t, log, 300, 30) // while nothing delivers
	r.Up()
	d = newTestDispatcher(t, dir, logPath, r.URL())
	want += churn(t, log, 400, 30)
	events := r.Wait(want, 30*time.Second)
	closeDispatcher(t, d)

	if len(events) != want {
		t.Fatalf("receiver has %d distinct events, want exactly %d", len(events), want)
	}
	for _, b := range r.Problems() {
		t.Error(b)
	}
	byRoom := webhooktest.CheckOrder(t, events)
	for roomName, list := range byRoom {
		for i, ev := range list {
			wantType := sessionOrder[i%len(sessionOrder)]
			if ev.Type != wantType {
				t.Fatalf("room %s event %d is %s, want %s", roomName, i, ev.Type, wantType)
			}
			if wantType == TypeTrackPublished || wantType == TypeTrackUnpublished {
				n := strings.TrimPrefix(ev.Participant.ID, "p_")
				if ev.Track == nil || ev.Track.ID != "t_"+n || ev.Track.Kind != "video" || strings.Join(ev.Track.Layers, ",") != "q,h,f" {
					t.Fatalf("room %s event %d has track %+v, want t_%s with three layers", roomName, i, ev.Track, n)
				}
				// Odd sessions left with the track: the leave unpublished it.
				if byLeave := n[len(n)-1]%2 == 1; wantType == TypeTrackUnpublished && (ev.Reason == "leave") != byLeave {
					t.Fatalf("room %s: %s unpublished with reason %q, by the leave: %v", roomName, ev.Track.ID, ev.Reason, byLeave)
				}
			}
			if ev.Participant != nil && strings.HasPrefix(ev.Participant.ID, "p_000") {
				t.Fatalf("history from before the subscription was delivered: %+v", ev)
			}
		}
	}
	if n := r.Attempts(); n <= want {
		t.Fatalf("%d attempts for %d events: the failures were never exercised", n, want)
	}
}
