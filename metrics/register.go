package metrics

import "github.com/prometheus/client_golang/prometheus"

// Register adds another part's collector (e.g. the cluster's figures)
// to the same /metrics.
func (m *Metrics) Register(c prometheus.Collector) error { return m.registry.Register(c) }
