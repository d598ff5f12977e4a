// Package metrics exposes Switchyard's presence and media figures to
// Prometheus. Presence figures are fed by room events (it is a
// room.Observer), so they agree exactly with the session log; media
// totals are read from the engine's counters at scrape time.
package metrics

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// Metrics is a registry of Switchyard's metrics.
type Metrics struct {
	registry *prometheus.Registry

	mu      sync.Mutex
	current int
	peak    int
	rooms   map[string]int // participants per room

	participants   prometheus.Gauge
	peakGauge      prometheus.Gauge
	roomsGauge     prometheus.Gauge
	joins          prometheus.Counter
	leaves         *prometheus.CounterVec
	detectionDelay *prometheus.HistogramVec
	sessionLength  prometheus.Histogram
}

// New registers every metric; engine supplies the media totals.
func New(engine *sfu.Engine) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		rooms:    map[string]int{},
		participants: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchyard_participants", Help: "Participants in a room right now.",
		}),
		peakGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchyard_participants_peak", Help: "Most participants present at once since the server started.",
		}),
		roomsGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchyard_rooms", Help: "Rooms with at least one participant.",
		}),
		joins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_joins_total", Help: "Participants who joined a room.",
		}),
		leaves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_leaves_total", Help: "Participants who left, by reason.",
		}, []string{"reason"}),
		detectionDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchyard_leave_detection_delay_seconds",
			Help:    "For leaves the server detected itself: time since the client was last heard.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 10, 30},
		}, []string{"reason"}),
		sessionLength: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchyard_session_duration_seconds",
			Help:    "How long participants stayed in a room.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10), // 1 s … ~3 days
		}),
	}
	stat := func(name, help string, kind prometheus.ValueType, read func(sfu.Stats) float64) prometheus.Collector {
		return &statCollector{desc: prometheus.NewDesc(name, help, nil, nil), kind: kind, read: func() float64 { return read(engine.Stats()) }}
	}
	m.registry.MustRegister(
		m.participants, m.peakGauge, m.roomsGauge, m.joins, m.leaves, m.detectionDelay, m.sessionLength,
		stat("switchyard_tracks_published", "Tracks being received from publishers.", prometheus.GaugeValue,
			func(s sfu.Stats) float64 { return float64(s.TracksPublished) }),
		stat("switchyard_rtp_packets_received_total", "RTP packets received from publishers.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.PacketsReceived) }),
		stat("switchyard_rtp_packets_forwarded_total", "RTP packets written to subscribers.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.PacketsForwarded) }),
		stat("switchyard_rtp_bytes_forwarded_total", "RTP payload bytes written to subscribers.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.BytesForwarded) }),
		stat("switchyard_rtp_packets_dropped_total", "Packets dropped because a subscriber fell behind.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.PacketsDropped) }),
		stat("switchyard_rtp_nacked_packets_total", "Packets subscribers asked to be resent.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.NACKedPackets) }),
		stat("switchyard_rtp_packets_retransmitted_total", "NACKed packets resent from the server's cache.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.PacketsRetransmitted) }),
		stat("switchyard_rtp_retransmit_misses_total", "NACKed packets not in the cache (lost on the uplink, or too old).", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.RetransmitMisses) }),
		stat("switchyard_keyframe_requests_total", "PLIs sent to publishers.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.KeyframeRequests) }),
		stat("switchyard_rtcp_sender_reports_total", "RTCP sender reports sent to subscribers.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.SenderReports) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Batched egress (issue 19): the ICE UDP mux's sends.
	m.registry.MustRegister(
		stat("switchyard_egress_packets_total", "Packets the ICE UDP mux's socket handed to the kernel.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.EgressPackets) }),
		stat("switchyard_egress_batches_total", "sendmmsg calls that carried them; packets ÷ batches is the mean batch.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.EgressBatches) }),
		stat("switchyard_egress_queue_full_total", "Writes that waited for room in the UDP mux's send queue.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.EgressWaits) }),
		stat("switchyard_egress_failed_total", "Packets the kernel refused to send from the UDP mux's socket.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.EgressFailed) }),
	)
	// Adaptive video (issue 15): what the layer allocator does.
	m.registry.MustRegister(
		stat("switchyard_video_layer_switches_up_total", "Simulcast layer switches to a higher layer, counted at the keyframe.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.LayerSwitchesUp) }),
		stat("switchyard_video_layer_switches_down_total", "Simulcast layer switches to a lower layer, counted at the keyframe.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.LayerSwitchesDown) }),
		stat("switchyard_video_probes_total", "Times a subscriber started probing its bandwidth with padding for a higher layer.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.Probes) }),
		stat("switchyard_video_probe_packets_total", "Padding-only packets sent to probe subscribers' bandwidth.", prometheus.CounterValue,
			func(s sfu.Stats) float64 { return float64(s.ProbePackets) }),
		&layerCollector{engine: engine, desc: prometheus.NewDesc("switchyard_video_subscriptions",
			"Simulcast subscriptions by the layer forwarded (q, h, f), or paused because the estimate cannot carry the lowest.", []string{"layer"}, nil)},
	)
	// The same per room (rooms.go).
	m.registry.MustRegister(newRoomCollector(engine))
	// Zero series for every reason, so a fresh dashboard shows zeros, not "no data".
	for _, r := range room.Reasons() {
		m.leaves.WithLabelValues(string(r))
		if r.Detected() {
			m.detectionDelay.WithLabelValues(string(r))
		}
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Joined implements room.Observer.
func (m *Metrics) Joined(e room.JoinEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current++
	m.rooms[e.Room]++
	m.peak = max(m.peak, m.current)
	m.joins.Inc()
	m.publish()
}

// Left implements room.Observer.
func (m *Metrics) Left(e room.LeaveEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current--
	if m.rooms[e.Room]--; m.rooms[e.Room] <= 0 {
		delete(m.rooms, e.Room)
	}
	m.leaves.WithLabelValues(string(e.Reason)).Inc()
	if e.Reason.Detected() {
		m.detectionDelay.WithLabelValues(string(e.Reason)).Observe(e.DetectionDelay.Seconds())
	}
	m.sessionLength.Observe(e.Duration.Seconds())
	m.publish()
}

// publish copies the presence figures to their gauges; callers hold mu.
func (m *Metrics) publish() {
	m.participants.Set(float64(m.current))
	m.peakGauge.Set(float64(m.peak))
	m.roomsGauge.Set(float64(len(m.rooms)))
}

// statCollector reports one engine total read at scrape time.
type statCollector struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	read func() float64
}

func (c *statCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *statCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.desc, c.kind, c.read())
}

// layerCollector reports the simulcast subscriptions per layer, read from
// the engine at scrape time.
type layerCollector struct {
	engine *sfu.Engine
	desc   *prometheus.Desc
}

func (c *layerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *layerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.engine.Stats()
	for i, name := range sfu.LayerNames() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.SubscriptionsByLayer[i]), name)
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.SubscriptionsPaused), "paused")
}
