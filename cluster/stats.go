package cluster

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// stats are the node's cluster counters, exported by Collector.
type stats struct {
	registrations, fences, reaps, reapedSessions atomic.Int64
	claims, takeovers, redirects                 atomic.Int64
	written, queued, duplicates, superseded      atomic.Int64

	mu         sync.Mutex
	writeCount int64
	writeSum   time.Duration
}

func (s *stats) observeWrite(d time.Duration) {
	s.mu.Lock()
	s.writeCount++
	s.writeSum += d
	s.mu.Unlock()
}

// Stats is a snapshot of the node's cluster counters.
type Stats struct {
	Registrations, Fences, Reaps, ReapedSessions int64
	Claims, Takeovers, Redirects                 int64
	Written, Queued, Duplicates, Superseded      int64
	// MeanWrite is the mean time a join or leave waited for the stream's
	// ack on the synchronous path.
	MeanWrite time.Duration
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	s := &n.stats
	out := Stats{
		Registrations: s.registrations.Load(), Fences: s.fences.Load(), Reaps: s.reaps.Load(), ReapedSessions: s.reapedSessions.Load(),
		Claims: s.claims.Load(), Takeovers: s.takeovers.Load(), Redirects: s.redirects.Load(),
		Written: s.written.Load(), Queued: s.queued.Load(), Duplicates: s.duplicates.Load(), Superseded: s.superseded.Load(),
	}
	s.mu.Lock()
	if s.writeCount > 0 {
		out.MeanWrite = s.writeSum / time.Duration(s.writeCount)
	}
	s.mu.Unlock()
	return out
}

// Collector exposes cluster figures to Prometheus: this node's counters
// and, from the latest heartbeats, the whole cluster's nodes and load.
func (n *Node) Collector() prometheus.Collector { return collector{n} }

type collector struct{ n *Node }

var (
	descNodes        = prometheus.NewDesc("switchyard_cluster_nodes", "Cluster nodes by state, from the latest heartbeats.", []string{"state"}, nil)
	descParticipants = prometheus.NewDesc("switchyard_cluster_participants", "Participants on all cluster nodes, from the latest heartbeats.", nil, nil)
	descRooms        = prometheus.NewDesc("switchyard_cluster_rooms", "Rooms on all cluster nodes, from the latest heartbeats.", nil, nil)
	descFenced       = prometheus.NewDesc("switchyard_cluster_fenced", "1 while this node is fenced (refuses joins), else 0.", nil, nil)
	descPending      = prometheus.NewDesc("switchyard_cluster_log_pending", "Joins and leaves not yet stored in the cluster log.", nil, nil)
	descCounter      = prometheus.NewDesc("switchyard_cluster_events_total", "This node's cluster events by kind.", []string{"kind"}, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNodes, descParticipants, descRooms, descFenced, descPending, descCounter} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	byState := map[string]int{StateServing: 0, StateDraining: 0, StateLost: 0}
	participants, rooms := 0, 0
	for _, r := range c.n.Peers() {
		byState[r.State]++
		if r.State != StateLost {
			participants += r.Load.Participants
			rooms += r.Load.Rooms
		}
	}
	for state, v := range byState {
		ch <- prometheus.MustNewConstMetric(descNodes, prometheus.GaugeValue, float64(v), state)
	}
	ch <- prometheus.MustNewConstMetric(descParticipants, prometheus.GaugeValue, float64(participants))
	ch <- prometheus.MustNewConstMetric(descRooms, prometheus.GaugeValue, float64(rooms))
	fenced := 0.0
	if c.n.Fenced() {
		fenced = 1
	}
	ch <- prometheus.MustNewConstMetric(descFenced, prometheus.GaugeValue, fenced)
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(c.n.out.len()))
	s := c.n.Stats()
	for kind, v := range map[string]int64{
		"registration": s.Registrations, "fence": s.Fences, "reap": s.Reaps, "reaped_session": s.ReapedSessions,
		"claim": s.Claims, "takeover": s.Takeovers, "redirect": s.Redirects,
		"log_written": s.Written, "log_queued": s.Queued, "log_duplicate": s.Duplicates, "log_superseded": s.Superseded,
	} {
		ch <- prometheus.MustNewConstMetric(descCounter, prometheus.CounterValue, float64(v), kind)
	}
}
