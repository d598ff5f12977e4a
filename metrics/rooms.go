package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// roomCollector reports the adaptive-video figures per room, read from
// the engine's groups (room passes the room name as the group) at scrape
// time. A room's series exist while it has subscribers: its counters
// start at zero with its first and go with its last, as the engine keeps
// them.
type roomCollector struct {
	engine                 *sfu.Engine
	subs, up, down, probes *prometheus.Desc
}

func newRoomCollector(engine *sfu.Engine) *roomCollector {
	room := []string{"room"}
	return &roomCollector{
		engine: engine,
		subs: prometheus.NewDesc("switchyard_room_video_subscriptions",
			"Simulcast subscriptions in a room by the layer forwarded (q, h, f), or paused.", []string{"room", "layer"}, nil),
		up: prometheus.NewDesc("switchyard_room_video_layer_switches_up_total",
			"Simulcast layer switches to a higher layer in a room, counted at the keyframe.", room, nil),
		down: prometheus.NewDesc("switchyard_room_video_layer_switches_down_total",
			"Simulcast layer switches to a lower layer in a room, counted at the keyframe.", room, nil),
		probes: prometheus.NewDesc("switchyard_room_video_probes_total",
			"Times a subscriber in a room started probing its bandwidth with padding for a higher layer.", room, nil),
	}
}

func (c *roomCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.subs
	ch <- c.up
	ch <- c.down
	ch <- c.probes
}

func (c *roomCollector) Collect(ch chan<- prometheus.Metric) {
	for name, s := range c.engine.GroupStats() {
		for i, layer := range sfu.LayerNames() {
			ch <- prometheus.MustNewConstMetric(c.subs, prometheus.GaugeValue, float64(s.SubscriptionsByLayer[i]), name, layer)
		}
		ch <- prometheus.MustNewConstMetric(c.subs, prometheus.GaugeValue, float64(s.SubscriptionsPaused), name, "paused")
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.CounterValue, float64(s.LayerSwitchesUp), name)
		ch <- prometheus.MustNewConstMetric(c.down, prometheus.CounterValue, float64(s.LayerSwitchesDown), name)
		ch <- prometheus.MustNewConstMetric(c.probes, prometheus.CounterValue, float64(s.Probes), name)
	}
}
