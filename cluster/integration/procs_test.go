package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/switchyard-sfu/switchyard/internal/waitfor"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/cluster"
	"github.com/switchyard-sfu/switchyard/sessionlog"
)

// Cluster timings of the test nodes: the defaults of configs/switchyard.yaml.
const (
	heartbeat = 250 * time.Millisecond
	lease     = time.Second
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a child process this test started; only these are ever killed.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	w := &lockedWriter{b: p.out}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.signal(syscall.SIGCONT)
		p.signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, w.String())
		}
	})
	return p
}

func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

type lockedWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// natsProc is a real nats-server with JetStream, its store in dir.
type natsProc struct {
	*proc
	port int
	dir  string
	url  string
}

func natsBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("NATS_SERVER")
	if bin == "" {
		bin, _ = exec.LookPath("nats-server")
	}
	if bin == "" {
		if os.Getenv("SWITCHYARD_REQUIRE_NATS") != "" {
			t.Fatal("nats-server not found (set NATS_SERVER or put it on PATH; .ci/run installs it)")
		}
		t.Skip("nats-server not found; set NATS_SERVER or SWITCHYARD_REQUIRE_NATS=1 to require it")
	}
	return bin
}

func startNATS(t *testing.T) *natsProc {
	t.Helper()
	n := &natsProc{port: freePort(t), dir: t.TempDir()}
	n.url = fmt.Sprintf("nats://127.0.0.1:%d", n.port)
	n.restart(t)
	return n
}

func (n *natsProc) restart(t *testing.T) {
	t.Helper()
	n.proc = startProc(t, "nats-server", natsBinary(t), "-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-js", "-sd", n.dir)
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", n.port))
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// node is one Switchyard process of the cluster.
type node struct {
	*proc
	id   string
	http string // http://127.0.0.1:port
	ws   string // ws://127.0.0.1:port/v1/rtc
}

func startNode(t *testing.T, nats *natsProc, id string, extra ...string) *node {
	t.Helper()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"--listen", addr, "--ice.interfaces", "lo", "--ice.udp_listen", "127.0.0.1:0", "--ice.tcp_listen=",
		"--ice.udp4_only", "--ice.detect_public_ip=false", "--session_log.path=", "--log.format", "json",
		"--cluster.nats_url", nats.url, "--cluster.node_id", id,
		"--cluster.heartbeat_interval", heartbeat.String(), "--cluster.lost_timeout", lease.String()}
	p := startProc(t, "switchyard-"+id, switchyardBin, append(args, extra...)...)
	n := &node{proc: p, id: id, http: "http://" + addr, ws: "ws://" + addr + "/v1/rtc"}
	eventually(t, 20*time.Second, id+" healthy", func() bool {
		resp, err := http.Get(n.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return n
}

// rooms returns the participant ids in each room the node lists.
func (n *node) rooms(t *testing.T) map[string][]string {
	t.Helper()
	resp, err := http.Get(n.http + "/v1/rooms")
	if err != nil {
		t.Fatalf("%s rooms: %v", n.id, err)
	}
	defer resp.Body.Close()
	var body struct {
		Rooms []struct {
			Room         string `json:"room"`
			Participants []struct {
				ID string `json:"id"`
			} `json:"participants"`
		} `json:"rooms"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range body.Rooms {
		for _, p := range r.Participants {
			out[r.Room] = append(out[r.Room], p.ID)
		}
	}
	return out
}

// eventually polls cond until it holds, failing after within. The
// cluster's state lives in other processes, which send no event for it.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := waitfor.Poll(within, 25*time.Millisecond, what, cond); err != nil {
		t.Fatal(err)
	}
}

// observer reads the cluster's buckets and log from the test's own
// NATS connection.
type observer struct {
	nc *nats.Conn
	js jetstream.JetStream
}

func observe(t *testing.T, url string) *observer {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &observer{nc: nc, js: js}
}

func (o *observer) records(t *testing.T) []sessionlog.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := cluster.ReadLog(ctx, o.js)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// node returns id's registry record, if any.
func (o *observer) node(t *testing.T, id string) (cluster.Record, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := o.js.KeyValue(ctx, cluster.NodesBucket)
	if err != nil {
		return cluster.Record{}, false
	}
	e, err := kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || err != nil {
		return cluster.Record{}, false
	}
	var r cluster.Record
	_ = json.Unmarshal(e.Value(), &r)
	return r, true
}

// leavesOf returns the leave records of participant id.
func leavesOf(recs []sessionlog.Record, id string) []sessionlog.Record {
	var out []sessionlog.Record
	for _, r := range recs {
		if r.ParticipantID == id && r.Event == sessionlog.EventLeave {
			out = append(out, r)
		}
	}
	return out
}

var switchyardBin string

func buildSwitchyard() (string, func(), error) {
	dir, err := os.MkdirTemp("", "switchyard-cluster-it-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "switchyard")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/switchyard-sfu/switchyard/cmd/switchyard")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
