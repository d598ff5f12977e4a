package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Node states in a record.
const (
	StateServing  = "serving"
	StateDraining = "draining" // keeps its rooms, gets no new ones
	StateLost     = "lost"     // written by the reaper that won the node
)

// Record is a node's entry in the sy-nodes bucket, rewritten (by CAS on
// its revision) at every heartbeat.
type Record struct {
	Node        string    `json:"node"`
	Incarnation uint64    `json:"incarnation"`
	State       string    `json:"state"`
	URL         string    `json:"url"`
	Load        Load      `json:"load"`
	At          time.Time `json:"at"` // the node's clock at the heartbeat
	// ReapedBy and LastSeen are set on a lost record: who is closing its
	// sessions, and the server time of the node's last heartbeat.
	ReapedBy string    `json:"reaped_by,omitempty"`
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// peer is the last record seen for a node, and when (local monotonic
// clock) it last changed: liveness is judged on this node's own clock, so
// clock skew between nodes cannot declare anyone lost.
type peer struct {
	rec     Record
	rev     uint64
	created time.Time // NATS server time of that revision
	changed time.Time
}

// Node is this process's membership of the cluster. It is a
// room.Placement (placement.go) and a room.Observer (log.go).
type Node struct {
	opts Options
	log  *zap.Logger

	nc     *nats.Conn
	js     jetstream.JetStream
	nodes  jetstream.KeyValue
	rooms  jetstream.KeyValue
	stream jetstream.Stream
	host   Host

	mu      sync.Mutex
	inc     uint64 // current incarnation; 0 while fenced or not yet registered
	lastInc uint64 // the latest incarnation, also while fenced
	rev     uint64 // revision of our own record
	lastOK  time.Time
	peers   map[string]*peer
	// writable is false from a fence until the node has either reclaimed
	// its old record (so no reaper can win it) or learnt that a reaper
	// did; dropInc is an incarnation whose remaining log events a reaper
	// owns, so they are never written.
	writable bool
	dropInc  uint64

	placeMu sync.Mutex
	held    map[string]*held // rooms that live here, by room name

	out outbox

	stats stats

	stop    chan struct{}
	rewatch chan struct{} // the registry watcher must be made again
	wg      sync.WaitGroup
	adm     *nats.Subscription
}

// New checks opts; Start connects.
func New(opts Options) (*Node, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	return &Node{
		opts:    opts,
		log:     opts.Log.With(zap.String("node", opts.NodeID)),
		peers:   map[string]*peer{},
		held:    map[string]*held{},
		out:     newOutbox(),
		stop:    make(chan struct{}),
		rewatch: make(chan struct{}, 1),
	}, nil
}

// ID is this node's id.
func (n *Node) ID() string { return n.opts.NodeID }

// SetAdvertiseURL sets the URL given to redirected clients, for a server
// that learns its address only once it listens. Call before Start.
func (n *Node) SetAdvertiseURL(u string) { n.opts.AdvertiseURL = u }

// AdvertiseURL is the URL clients are redirected to for this node.
func (n *Node) AdvertiseURL() string { return n.opts.AdvertiseURL }

// Start connects to NATS, makes sure the buckets and the stream exist,
// registers this node and starts its heartbeat, watch and log loops.
// host is the node's room manager (for fencing and the admin API).
func (n *Node) Start(ctx context.Context, host Host) error {
	n.host = host
	nc, err := nats.Connect(n.opts.URL,
		nats.Name("switchyard-"+n.opts.NodeID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond),
		nats.Timeout(n.opts.LostTimeout),
		nats.PingInterval(n.opts.Heartbeat*4),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			if c.IsClosed() {
				return // our own Close
			}
			n.log.Warn("cluster connection lost", zap.Error(err))
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			n.log.Info("cluster connection back")
			n.forgiveAll()
		}),
	)
	if err != nil {
		return fmt.Errorf("cluster: connect to %s: %w", n.opts.URL, err)
	}
	n.nc = nc
	if err := n.setup(ctx); err != nil {
		nc.Close()
		return err
	}
	if err := n.register(ctx); err != nil {
		nc.Close()
		return fmt.Errorf("cluster: register: %w", err)
	}
	if err := n.serveAdmin(); err != nil {
		nc.Close()
		return err
	}
	n.wg.Add(3)
	go n.heartbeatLoop()
	go n.watchLoop()
	go n.flushLoop()
	n.log.Info("cluster node registered", zap.Uint64("incarnation", n.incarnation()), zap.String("url", n.opts.AdvertiseURL))
	return nil
}

// setup creates (or binds to) the buckets and the stream.
func (n *Node) setup(ctx context.Context) error {
	js, err := jetstream.New(n.nc)
	if err != nil {
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	n.js = js
	// History 1: only the latest record matters. No TTL: a lost node's
	// record must stay until a reaper has closed its sessions.
	if n.nodes, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: NodesBucket, Description: "Switchyard nodes: heartbeat records", History: 1, Storage: jetstream.FileStorage,
	}); err != nil {
		return fmt.Errorf("cluster: bucket %s: %w", NodesBucket, err)
	}
	if n.rooms, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: RoomsBucket, Description: "Switchyard room placement claims", History: 1, Storage: jetstream.FileStorage,
	}); err != nil {
		return fmt.Errorf("cluster: bucket %s: %w", RoomsBucket, err)
	}
	if n.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Switchyard cluster session log: one join and one leave per session",
		Subjects:    []string{sessionSubject + ".>"},
		Storage:     jetstream.FileStorage,
		Duplicates:  dedupWindow,
	}); err != nil {
		return fmt.Errorf("cluster: stream %s: %w", StreamName, err)
	}
	return nil
}

// Close leaves the cluster gracefully: it writes what the log still
// holds, withdraws the node's record and claims, and disconnects. The
// room manager should have shut down first, so every leave is queued.
func (n *Node) Close(ctx context.Context) error {
	select {
	case <-n.stop:
		return nil
	default:
	}
	close(n.stop)
	n.wg.Wait()
	if n.nc == nil {
		return nil
	}
	var errs []error
	if err := n.flush(ctx); err != nil {
		errs = append(errs, err)
	}
	n.placeMu.Lock()
	for name, h := range n.held {
		_ = n.rooms.Delete(ctx, roomKey(name), jetstream.LastRevision(h.rev))
		delete(n.held, name)
	}
	n.placeMu.Unlock()
	n.mu.Lock()
	rev, registered := n.rev, n.inc != 0
	n.inc = 0
	n.mu.Unlock()
	if registered {
		if err := n.nodes.Delete(ctx, n.opts.NodeID, jetstream.LastRevision(rev)); err != nil {
			errs = append(errs, fmt.Errorf("cluster: withdraw record: %w", err))
		}
	}
	if n.adm != nil {
		_ = n.adm.Unsubscribe()
	}
	n.nc.Close()
	return errors.Join(errs...)
}

func (n *Node) incarnation() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.inc
}

// live reports the incarnation while this node holds its lease: it
// heartbeat successfully within the lost timeout and was not fenced.
func (n *Node) live() (uint64, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.inc == 0 || time.Since(n.lastOK) > n.opts.LostTimeout {
		return 0, false
	}
	return n.inc, true
}

func (n *Node) record(inc uint64, now time.Time) Record {
	r := Record{Node: n.opts.NodeID, Incarnation: inc, State: StateServing, URL: n.opts.AdvertiseURL, At: now.UTC()}
	if n.opts.Draining != nil && n.opts.Draining() {
		r.State = StateDraining
	}
	if n.opts.Load != nil {
		r.Load = n.opts.Load()
	}
	return r
}

// forgiveAll restarts every peer's lost timer: while we were cut off we
// saw nobody, which says nothing about them.
func (n *Node) forgiveAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	for _, p := range n.peers {
		p.changed = now
	}
	select {
	case n.rewatch <- struct{}{}:
	default:
	}
}

func (n *Node) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), n.opts.LostTimeout/2)
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are encoded
	}
	return b
}

// isWrongSequence reports a CAS conflict: a KV update or a publish whose
// expected last sequence was not the subject's.
func isWrongSequence(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		return api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}
