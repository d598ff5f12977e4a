package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestClusterValidate(t *testing.T) {
	tests := []struct {
		name string
		set  func(*ClusterConfig)
		want string // substring of the one problem; "" = valid
	}{
		{"default is a single node", func(*ClusterConfig) {}, ""},
		{"a full cluster config", func(c *ClusterConfig) {
			c.NATSURL, c.NodeID, c.AdvertiseURL = "nats://127.0.0.1:4222,nats://10.0.0.2:4222", "a-1", "wss://a.example.com/v1/rtc"
		}, ""},
		{"bad nats url", func(c *ClusterConfig) { c.NATSURL = "http://x" }, "cluster.nats_url"},
		{"node id with a dot", func(c *ClusterConfig) { c.NodeID = "a.b" }, "cluster.node_id"},
		{"advertise url not ws", func(c *ClusterConfig) { c.AdvertiseURL = "http://a:1/v1/rtc" }, "cluster.advertise_url"},
		{"heartbeat too fast", func(c *ClusterConfig) { c.HeartbeatInterval = time.Millisecond }, "cluster.heartbeat_interval"},
		{"lost timeout too short", func(c *ClusterConfig) { c.LostTimeout = 300 * time.Millisecond }, "cluster.lost_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.set(&cfg.Cluster)
			err := cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.HasPrefix(ve.Problems[0], tt.want+":") {
				t.Fatalf("Validate() = %v, want one problem about %s", err, tt.want)
			}
		})
	}
}
