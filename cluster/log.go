package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"go.uber.org/zap"
)

// event is one join or leave on its way to the stream. Each session has
// its own subject, sy.sessions.<node>.<incarnation>.<participant>: its
// join must be the subject's first message and its leave must follow
// exactly the join, which the stream enforces (expected last sequence
// per subject), so a session is closed once whoever writes first.
type event struct {
	subject string
	pid     string
	leave   bool
	inc     uint64 // the incarnation the session joined in
	data    []byte
}

// outbox keeps the events not yet stored, in order. Joins and leaves are
// written synchronously when the outbox is empty and NATS is connected;
// otherwise they queue and the flush loop writes them when it can.
type outbox struct {
	mu       sync.Mutex
	q        []event
	subjects map[string]string // participant → its session subject
	incs     map[string]uint64 // participant → incarnation it joined in
	seqs     map[string]uint64 // participant → stream sequence of its stored join
	kick     chan struct{}
}

func newOutbox() outbox {
	return outbox{subjects: map[string]string{}, incs: map[string]uint64{}, seqs: map[string]uint64{}, kick: make(chan struct{}, 1)}
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.q)
}

// Joined implements room.Observer: the join goes to the cluster log.
func (n *Node) Joined(e room.JoinEvent) {
	n.mu.Lock()
	inc := n.lastInc
	n.mu.Unlock()
	subject := fmt.Sprintf("%s.%s.%d.%s", sessionSubject, n.opts.NodeID, inc, e.ParticipantID)
	r := sessionlog.Record{Time: e.Time.UTC(), Event: sessionlog.EventJoin, Room: e.Room, ParticipantID: e.ParticipantID,
		Name: e.Name, Identity: e.Identity}
	n.out.mu.Lock()
	n.out.subjects[e.ParticipantID] = subject
	n.out.incs[e.ParticipantID] = inc
	n.out.mu.Unlock()
	n.send(event{subject: subject, pid: e.ParticipantID, inc: inc, data: encode(r)})
}

// Left implements room.Observer.
func (n *Node) Left(e room.LeaveEvent) {
	n.out.mu.Lock()
	subject := n.out.subjects[e.ParticipantID]
	inc := n.out.incs[e.ParticipantID]
	delete(n.out.subjects, e.ParticipantID)
	delete(n.out.incs, e.ParticipantID)
	n.out.mu.Unlock()
	if subject == "" {
		return // joined before the node was attached; never logged
	}
	r := sessionlog.Record{Time: e.Time.UTC(), Event: sessionlog.EventLeave, Room: e.Room, ParticipantID: e.ParticipantID,
		Name: e.Name, Identity: e.Identity, Reason: string(e.Reason), DurationSec: e.Duration.Seconds(),
		DetectionDelaySec: e.DetectionDelay.Seconds()}
	n.send(event{subject: subject, pid: e.ParticipantID, leave: true, inc: inc, data: encode(r)})
}

func (n *Node) send(ev event) {
	start := time.Now()
	n.out.mu.Lock()
	defer n.out.mu.Unlock()
	if len(n.out.q) == 0 && n.canWrite() {
		ctx, cancel := n.timeout()
		err := n.publish(ctx, ev)
		cancel()
		if err == nil {
			n.stats.observeWrite(time.Since(start))
			return
		}
		n.log.Warn("cluster log write failed; queued", zap.String("subject", ev.subject), zap.Error(err))
	}
	n.out.q = append(n.out.q, ev)
	n.stats.queued.Add(1)
	select {
	case n.out.kick <- struct{}{}:
	default:
	}
}

// publish stores ev and waits for the stream's ack; callers hold out.mu.
// A rejected expectation is success of a kind: a leave someone else
// already wrote (the reaper's node-lost), or a join already stored.
func (n *Node) publish(ctx context.Context, ev event) error {
	n.mu.Lock()
	drop := ev.inc != 0 && ev.inc == n.dropInc
	n.mu.Unlock()
	if drop {
		delete(n.out.seqs, ev.pid)
		n.stats.superseded.Add(1)
		return nil // a reaper closes this incarnation's sessions
	}
	msgID := ev.pid + ":join"
	expect := uint64(0)
	if ev.leave {
		msgID = ev.pid + ":leave"
		expect = n.out.seqs[ev.pid]
	}
	ack, err := n.js.Publish(ctx, ev.subject, ev.data, jetstream.WithMsgID(msgID), jetstream.WithExpectLastSequencePerSubject(expect))
	switch {
	case err == nil:
		if ack.Duplicate {
			n.stats.duplicates.Add(1)
		}
		if ev.leave {
			delete(n.out.seqs, ev.pid)
		} else {
			n.out.seqs[ev.pid] = ack.Sequence
		}
		n.stats.written.Add(1)
		return nil
	case isWrongSequence(err) && ev.leave:
		delete(n.out.seqs, ev.pid)
		n.stats.superseded.Add(1)
		return nil
	case isWrongSequence(err):
		// A retried join whose first attempt was stored after all.
		msg, gerr := n.stream.GetLastMsgForSubject(ctx, ev.subject)
		if gerr != nil {
			return gerr
		}
		n.out.seqs[ev.pid] = msg.Sequence
		n.stats.duplicates.Add(1)
		return nil
	}
	return err
}

func (n *Node) flushLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-n.out.kick:
		case <-t.C:
		}
		ctx, cancel := n.timeout()
		_ = n.flush(ctx)
		cancel()
	}
}

// flush writes queued events in order until one fails.
func (n *Node) flush(ctx context.Context) error {
	n.out.mu.Lock()
	defer n.out.mu.Unlock()
	for len(n.out.q) > 0 {
		if !n.canWrite() {
			return nats.ErrConnectionClosed
		}
		if err := n.publish(ctx, n.out.q[0]); err != nil {
			return fmt.Errorf("cluster log: %d events unwritten: %w", len(n.out.q), err)
		}
		n.out.q = n.out.q[1:]
	}
	return nil
}

func (n *Node) connected() bool { return n.nc != nil && n.nc.Status() == nats.CONNECTED }

// canWrite reports whether log events may be written now: connected, and
// not between a fence and its reclaim.
func (n *Node) canWrite() bool {
	n.mu.Lock()
	ok := n.writable
	n.mu.Unlock()
	return ok && n.connected()
}
