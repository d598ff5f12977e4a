package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/signal"
)

const testSecret = "0123456789abcdef0123456789abcdef"

// The admin API on node A lists and kicks on node B (request/reply to
// the owner), and A's /metrics has the cluster figures.
func TestAdminAcrossNodes(t *testing.T) {
	nats := startNATS(t)
	a := startNode(t, nats, "a", "--auth.secret", testSecret)
	b := startNode(t, nats, "b", "--auth.secret", testSecret)
	obs := observe(t, nats.url)
	for _, id := range []string{"a", "b"} {
		eventually(t, 10*time.Second, id+" registered", func() bool { _, ok := obs.node(t, id); return ok })
	}
	authority, err := auth.New([]byte(testSecret), nil)
	if err != nil {
		t.Fatal(err)
	}
	join, _ := authority.Issue(auth.Grant{Room: "ops", Identity: "u1", Permissions: auth.Permissions{Publish: true, Subscribe: true}}, time.Hour)
	admin, _ := authority.Issue(auth.Grant{Room: auth.AnyRoom, Identity: "op", Permissions: auth.Permissions{Admin: true}}, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := joinVia(ctx, t, newAPI(t), b.ws, "ops", "u1", join)

	call := func(method, path string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, method, a.http+path, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	var listed struct {
		Nodes []struct {
			Node  string `json:"node"`
			Rooms []struct {
				Room         string `json:"room"`
				Participants []struct {
					ID string `json:"id"`
				} `json:"participants"`
			} `json:"rooms"`
		} `json:"nodes"`
	}
	eventually(t, 5*time.Second, "a lists b's room", func() bool {
		code, body := call("GET", "/v1/admin/cluster/rooms")
		if code != http.StatusOK || json.Unmarshal([]byte(body), &listed) != nil {
			return false
		}
		for _, n := range listed.Nodes {
			for _, r := range n.Rooms {
				if n.Node == "b" && r.Room == "ops" && len(r.Participants) == 1 && r.Participants[0].ID == m.joined.ParticipantID {
					return true
				}
			}
		}
		return false
	})
	code, body := call("POST", "/v1/admin/cluster/rooms/ops/participants/"+m.joined.ParticipantID+"/kick")
	if code != http.StatusOK || !strings.Contains(body, m.joined.ParticipantID) {
		t.Fatalf("kick through a: %d %s", code, body)
	}
	msg, _, err := m.c.WaitType(ctx, 0, signal.TypeLeft)
	if err != nil || !strings.Contains(string(msg.Raw), "kicked") {
		t.Fatalf("the participant on b was not kicked: %v %s", err, msg.Raw)
	}
	if code, _ := call("POST", "/v1/admin/cluster/rooms/nowhere/close"); code != http.StatusNotFound {
		t.Errorf("closing a room no node hosts: %d, want 404", code)
	}
	resp, err := http.Get(a.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `switchyard_cluster_nodes{state="serving"} 2`) {
		t.Errorf("/metrics lacks the cluster's two serving nodes")
	}
}
