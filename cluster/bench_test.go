package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/room"
)

// BenchmarkLogJoinLeave is what one session costs the node in the
// cluster log: a join and a leave, each waiting for the stream's ack
// (embedded NATS, file storage, loopback).
func BenchmarkLogJoinLeave(b *testing.B) {
	ns := startNATSB(b)
	n, err := New(Options{URL: ns.ClientURL(), NodeID: "bench", Heartbeat: 250 * time.Millisecond, LostTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Start(b.Context(), nil); err != nil {
		b.Fatal(err)
	}
	defer n.Close(b.Context())
	b.ResetTimer()
	for i := range b.N {
		j := room.JoinEvent{Time: time.Now(), Room: "r", ParticipantID: fmt.Sprintf("p_%d", i), Name: "x"}
		n.Joined(j)
		n.Left(room.LeaveEvent{JoinEvent: j, Reason: room.ReasonLeave})
	}
	b.StopTimer()
	if s := n.Stats(); s.Queued != 0 {
		b.Fatalf("%d events queued: writes failed", s.Queued)
	}
}
