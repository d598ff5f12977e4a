package servertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/room"
)

func TestRecorderWaitsForEvents(t *testing.T) {
	r := NewRecorder()
	got := make(chan Left, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l, err := r.WaitLeft(ctx, "p2")
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	r.Joined(room.JoinEvent{ParticipantID: "p1", ResumedFrom: "p0"})
	r.Left(room.LeaveEvent{JoinEvent: room.JoinEvent{ParticipantID: "p1"}, Reason: room.ReasonLeave})
	r.Left(room.LeaveEvent{JoinEvent: room.JoinEvent{ParticipantID: "p2"}, Reason: room.ReasonKicked})
	if l := <-got; l.Reason != room.ReasonKicked || l.At.IsZero() {
		t.Fatalf("waited for p2 and got %+v", l)
	}
	if r.JoinedCount() != 1 || r.LeftCount() != 2 || len(r.LeavesOf("p1")) != 1 {
		t.Fatal("counts are wrong")
	}
	j, err := r.WaitJoin(context.Background(), func(e room.JoinEvent) bool { return e.ResumedFrom == "p0" })
	if err != nil || j.ParticipantID != "p1" {
		t.Fatalf("WaitJoin = %+v, %v", j, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.WaitLeft(ctx, "nobody"); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitLeft for nobody: %v", err)
	}
}
