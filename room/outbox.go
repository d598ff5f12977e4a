package room

import (
	"sync"

	"github.com/pion/webrtc/v3"
)

// outbox puts everything a room tells its members, and what its Observer
// learns, in one order: the order of the room's critical sections. A join
// or leave posts a barrier, its journal Commit, and nothing posted after
// it is delivered before the record is durable — so nobody is told of an
// event the log could lose, while the room lock is held only to post,
// never across the fsync. Each barrier's poster then delivers the queue
// up to its own entries (deliverThrough); when no barrier waits, a post
// is delivered at once, so the rest of the time nothing is delayed.
//
// Entries run with mu held, one at a time, so they must return at once
// (Client methods only queue). Lock order: Room.mu before outbox.mu;
// nothing run under outbox.mu takes a room or sfu lock.
type outbox struct {
	mu        sync.Mutex
	queue     []outboxEntry
	posted    uint64 // entries ever posted
	delivered uint64 // entries ever run; the queue holds the rest
}

type outboxEntry struct {
	commit Commit // nil, or what must be durable before this entry runs
	run    func()
}

func ready(c Commit) bool {
	if c == nil {
		return true
	}
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// post queues run behind everything posted before, to run once commit
// (may be nil) is done, and returns the entry's sequence number.
func (o *outbox) post(commit Commit, run func()) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.posted++
	if len(o.queue) == 0 && ready(commit) {
		o.delivered++
		run()
		return o.posted
	}
	o.queue = append(o.queue, outboxEntry{commit, run})
	return o.posted
}

// last is the sequence number of the newest entry.
func (o *outbox) last() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.posted
}

// deliverThrough runs queued entries in order, waiting for each barrier's
// commit, until entry seq has run.
func (o *outbox) deliverThrough(seq uint64) {
	for {
		o.mu.Lock()
		for len(o.queue) > 0 && ready(o.queue[0].commit) {
			e := o.queue[0]
			o.queue[0] = outboxEntry{} // let the closure go
			o.queue = o.queue[1:]
			o.delivered++
			e.run()
		}
		if o.delivered >= seq || len(o.queue) == 0 {
			o.mu.Unlock()
			return
		}
		wait := o.queue[0].commit.Done()
		o.mu.Unlock()
		<-wait
	}
}

// orderedClient is how the room reaches a member: every call goes through
// the room's outbox, in order behind any join or leave not yet durable.
type orderedClient struct {
	out *outbox
	c   Client
}

func (o orderedClient) send(run func()) { o.out.post(nil, run) }

func (o orderedClient) Joined(info JoinInfo) { o.send(func() { o.c.Joined(info) }) }
func (o orderedClient) ParticipantJoined(p ParticipantInfo) {
	o.send(func() { o.c.ParticipantJoined(p) })
}
func (o orderedClient) ParticipantLeft(id string, reason Reason) {
	o.send(func() { o.c.ParticipantLeft(id, reason) })
}
func (o orderedClient) TrackPublished(id string, t TrackInfo) {
	o.send(func() { o.c.TrackPublished(id, t) })
}
func (o orderedClient) TrackUnpublished(id string, t TrackInfo) {
	o.send(func() { o.c.TrackUnpublished(id, t) })
}
func (o orderedClient) Offer(sdp string)  { o.send(func() { o.c.Offer(sdp) }) }
func (o orderedClient) Answer(sdp string) { o.send(func() { o.c.Answer(sdp) }) }
func (o orderedClient) Candidate(pc PC, c *webrtc.ICECandidateInit) {
	o.send(func() { o.c.Candidate(pc, c) })
}
func (o orderedClient) Left(reason Reason) { o.send(func() { o.c.Left(reason) }) }
func (o orderedClient) Published(t TrackInfo, mid string) {
	o.send(func() { o.c.Published(t, mid) })
}
func (o orderedClient) TrackMuted(id string, t TrackInfo) {
	o.send(func() { o.c.TrackMuted(id, t) })
}
func (o orderedClient) ActiveSpeakers(s []Speaker) { o.send(func() { o.c.ActiveSpeakers(s) }) }
func (o orderedClient) Chat(msg ChatMessage)       { o.send(func() { o.c.Chat(msg) }) }
func (o orderedClient) RestartICE(pc PC) {
	if r, ok := o.c.(ICERestarter); ok {
		o.send(func() { r.RestartICE(pc) })
	}
}
