package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"go.uber.org/zap"
)

// reap tries to win the lost node p: the CAS from the revision we saw to
// a lost record names one reaper. The winner closes the node's open
// sessions and frees its rooms, then deletes the record. If the winner
// dies half-way, the lost record stands still and the next scan reaps it
// again; closing is idempotent, since each leave is guarded by its
// session's last sequence.
func (n *Node) reap(p peer) {
	lastSeen := p.created
	if p.rec.State == StateLost && !p.rec.LastSeen.IsZero() {
		lastSeen = p.rec.LastSeen
	}
	rec := p.rec
	rec.State, rec.ReapedBy, rec.LastSeen = StateLost, n.opts.NodeID, lastSeen.UTC()
	ctx, cancel := context.WithTimeout(context.Background(), 4*n.opts.LostTimeout)
	defer cancel()
	rev, err := n.nodes.Update(ctx, rec.Node, encode(rec), p.rev)
	if err != nil {
		n.log.Debug("another node reaps, or the node came back", zap.String("lost", rec.Node), zap.Error(err))
		return
	}
	detected := time.Since(lastSeen)
	n.stats.reaps.Add(1)
	closed, err := n.closeSessions(ctx, rec.Node, rec.Incarnation, lastSeen)
	if err != nil {
		n.log.Error("closing a lost node's sessions", zap.String("lost", rec.Node), zap.Error(err))
		return // the record stays lost; a later scan tries again
	}
	freed, err := n.freeRooms(ctx, rec.Node, rec.Incarnation)
	if err != nil {
		n.log.Error("freeing a lost node's rooms", zap.String("lost", rec.Node), zap.Error(err))
		return
	}
	if err := n.nodes.Delete(ctx, rec.Node, jetstream.LastRevision(rev)); err != nil {
		n.log.Debug("lost record changed meanwhile", zap.String("lost", rec.Node), zap.Error(err))
	}
	n.log.Warn("node lost and reaped", zap.String("lost", rec.Node), zap.Uint64("incarnation", rec.Incarnation),
		zap.Time("last_seen", lastSeen), zap.Duration("since_last_seen", detected),
		zap.Int("sessions_closed", closed), zap.Int("rooms_freed", freed))
}

// closeSessions writes a node-lost leave, dated at, for every session of
// node's incarnation that has a join and no leave in the stream.
func (n *Node) closeSessions(ctx context.Context, node string, inc uint64, at time.Time) (int, error) {
	open, err := n.openSessions(ctx, node, inc)
	if err != nil {
		return 0, err
	}
	closed := 0
	for _, o := range open {
		// A session that joined after the last heartbeat ends at its join.
		end := at
		if o.join.Time.After(end) {
			end = o.join.Time
		}
		leave := o.join
		leave.Time, leave.Event, leave.Reason = end.UTC(), sessionlog.EventLeave, string(room.ReasonNodeLost)
		leave.DurationSec = end.Sub(o.join.Time).Seconds()
		_, err := n.js.Publish(ctx, o.subject, encode(leave),
			jetstream.WithMsgID(o.join.ParticipantID+":leave"), jetstream.WithExpectLastSequencePerSubject(o.seq))
		switch {
		case err == nil:
			closed++
		case isWrongSequence(err):
			// closed meanwhile: by the node itself, or another reaper
		default:
			return closed, fmt.Errorf("close %s: %w", o.subject, err)
		}
	}
	n.stats.reapedSessions.Add(int64(closed))
	return closed, nil
}

type openSession struct {
	subject string
	seq     uint64
	join    sessionlog.Record
}

// openSessions lists the sessions of node's incarnation still open in
// the stream: subjects holding exactly one message, a join.
func (n *Node) openSessions(ctx context.Context, node string, inc uint64) ([]openSession, error) {
	filter := fmt.Sprintf("%s.%s.%d.*", sessionSubject, node, inc)
	info, err := n.stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("stream info: %w", err)
	}
	var open []openSession
	for subject, count := range info.State.Subjects {
		if count != 1 {
			continue
		}
		msg, err := n.stream.GetLastMsgForSubject(ctx, subject)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", subject, err)
		}
		var r sessionlog.Record
		if err := json.Unmarshal(msg.Data, &r); err != nil || r.Event != sessionlog.EventJoin {
			continue
		}
		open = append(open, openSession{subject: subject, seq: msg.Sequence, join: r})
	}
	return open, nil
}

// freeRooms deletes node's claims of incarnation inc (by CAS, so a claim
// someone else already took over stays).
func (n *Node) freeRooms(ctx context.Context, node string, inc uint64) (int, error) {
	freed := 0
	err := n.eachClaim(ctx, func(key string, c claim, e jetstream.KeyValueEntry) {
		if c.Node == node && c.Incarnation == inc &&
			n.rooms.Delete(ctx, key, jetstream.LastRevision(e.Revision())) == nil {
			freed++
		}
	})
	return freed, err
}

// eachClaim calls fn for every room claim.
func (n *Node) eachClaim(ctx context.Context, fn func(key string, c claim, e jetstream.KeyValueEntry)) error {
	lister, err := n.rooms.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for key := range lister.Keys() {
		e, err := n.rooms.Get(ctx, key)
		if err != nil {
			continue
		}
		var c claim
		if json.Unmarshal(e.Value(), &c) != nil || strings.TrimSpace(c.Node) == "" {
			continue
		}
		fn(key, c, e)
	}
	return ctx.Err()
}
