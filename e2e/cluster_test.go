package e2e

import (
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/switchyard-sfu/switchyard/config"
)

// The web client follows a cluster redirect by itself: a page opened on
// node A for a room that lives on node B ends up joined on B, with the
// participant already there, and A hosts nobody.
func TestPageFollowsClusterRedirect(t *testing.T) {
	needBrowser(t)
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(ns.Shutdown) // registered before the servers, so it runs after their shutdown
	node := func(id string) *e2eServer {
		return startServerWith(t, func(c *config.Config) {
			c.Cluster.NATSURL, c.Cluster.NodeID = ns.ClientURL(), id
			c.Signaling.AllowedOrigins = []string{"*"} // the page of node a talks to node b
		})
	}
	a, b := node("a"), node("b")
	bs := launchBrowsers(t, "R", 2)
	first, err := bs[0].join(b.base, "spread") // b hosts it: a tie goes to the node asked
	if err != nil {
		t.Fatal(err)
	}
	second, err := bs[1].join(a.base, "spread")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.inRoom("spread"); !got[first] || !got[second] {
		t.Fatalf("b's room holds %v, want both %s and %s", got, first, second)
	}
	if n := a.participants(); n != 0 {
		t.Fatalf("a hosts %d participants, want 0", n)
	}
	if _, err := bs[1].waitPlaying(map[string]string{first: bs[0].name}, false, 0.2); err != nil {
		t.Fatal(err)
	}
}
