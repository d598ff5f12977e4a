package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// ClusterConfig joins this server to a cluster on NATS JetStream
// (docs/cluster.md). With NATSURL empty the server is a single node,
// exactly as without a cluster, and needs no NATS.
type ClusterConfig struct {
	// NATSURL is the NATS server (nats://host:4222; several comma-separated).
	NATSURL string `yaml:"nats_url"`
	// NodeID names this node in the cluster; "" generates one per run.
	NodeID string `yaml:"node_id"`
	// AdvertiseURL is the signaling WebSocket URL clients reach this node
	// at (ws://host:port/v1/rtc or wss://...); "" derives it from listen.
	AdvertiseURL string `yaml:"advertise_url"`
	// HeartbeatInterval is how often the node refreshes its record.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// LostTimeout is how long a node may miss heartbeats before the others
	// declare it lost, and its own lease: a node that cannot heartbeat for
	// this long fences itself.
	LostTimeout time.Duration `yaml:"lost_timeout"`
}

// Enabled reports whether the server is a cluster node.
func (c ClusterConfig) Enabled() bool { return c.NATSURL != "" }

var clusterNodeID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (c ClusterConfig) validate(p *problems) {
	for i, u := range strings.Split(c.NATSURL, ",") {
		if c.NATSURL == "" {
			break
		}
		parsed, err := url.Parse(strings.TrimSpace(u))
		if err != nil || parsed.Host == "" || (parsed.Scheme != "nats" && parsed.Scheme != "tls") {
			p.add("cluster.nats_url: URL %d %q must be nats://host:port or tls://host:port", i+1, u)
		}
	}
	if c.NodeID != "" && !clusterNodeID.MatchString(c.NodeID) {
		p.add("cluster.node_id: %q must be 1-64 letters, digits, '-' or '_' (it is part of NATS subjects)", c.NodeID)
	}
	if c.AdvertiseURL != "" {
		u, err := url.Parse(c.AdvertiseURL)
		if err != nil || u.Host == "" || (u.Scheme != "ws" && u.Scheme != "wss") {
			p.add("cluster.advertise_url: %q must be ws://host:port/v1/rtc or wss://host/v1/rtc", c.AdvertiseURL)
		}
	}
	if c.HeartbeatInterval < 10*time.Millisecond {
		p.add("cluster.heartbeat_interval: %s must be at least 10ms", c.HeartbeatInterval)
	}
	if c.LostTimeout < 2*c.HeartbeatInterval {
		p.add("cluster.lost_timeout: %s must be at least twice cluster.heartbeat_interval %s", c.LostTimeout, c.HeartbeatInterval)
	}
}
