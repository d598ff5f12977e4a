package e2e

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The quality lab's network (LAB.md §2, §3), names and subnets its own:
//
//	syq-pub [syqpc 10.122.1.2] ── veth ── [syqps 10.122.1.1] test's namespace (server)
//	syq-sub [syqsc 10.122.2.2] ── veth ── [syqrb] syq-rly [syqra] ── veth ── [syqss 10.122.2.1] (tbf)
//
// syq-rly holds no address: qlabRelay bridges its two ends in user space
// (delay, loss), since this kernel has no netem. The rate limit is a tbf on
// syqss, the server's egress toward the subscriber.
const (
	qlPubNS    = "syq-pub"
	qlSubNS    = "syq-sub"
	qlRelayNS  = "syq-rly"
	qlPubSrv   = "syqps"
	qlPubCli   = "syqpc"
	qlSubSrv   = "syqss"
	qlRelaySrv = "syqra"
	qlRelaySub = "syqrb"
	qlSubCli   = "syqsc"
	qlPubSrvIP = "10.122.1.1"
	qlPubIP    = "10.122.1.2"
	qlSubSrvIP = "10.122.2.1"
	qlSubIP    = "10.122.2.2"
)

// setupQlabNet creates the three namespaces and the veth pairs, with
// offloads off wherever the relay reads or writes frames (it must see
// each packet as it is on the wire: checksummed, at most one MTU).
// Cleanup deletes the namespaces, which removes every pair.
func setupQlabNet(t *testing.T) {
	t.Helper()
	var undo [][]string
	for _, ns := range []string{qlPubNS, qlSubNS, qlRelayNS} {
		undo = append(undo, []string{"netns", "del", ns})
	}
	steps := [][]string{
		{"netns", "add", qlPubNS},
		{"netns", "add", qlSubNS},
		{"netns", "add", qlRelayNS},
	}
	steps = append(steps, vethInto(qlPubNS, qlPubSrv, qlPubCli, qlPubSrvIP, qlPubIP)...)
	ipLab(t, undo, append(steps, [][]string{
		{"link", "add", qlSubSrv, "type", "veth", "peer", "name", qlRelaySrv, "netns", qlRelayNS},
		{"-n", qlRelayNS, "link", "add", qlRelaySub, "type", "veth", "peer", "name", qlSubCli, "netns", qlSubNS},
		{"addr", "add", qlSubSrvIP + "/24", "dev", qlSubSrv},
		{"link", "set", qlSubSrv, "up"},
		{"-n", qlRelayNS, "link", "set", qlRelaySrv, "promisc", "on", "up"},
		{"-n", qlRelayNS, "link", "set", qlRelaySub, "promisc", "on", "up"},
		{"-n", qlSubNS, "addr", "add", qlSubIP + "/24", "dev", qlSubCli},
		{"-n", qlSubNS, "link", "set", qlSubCli, "up"},
		{"-n", qlSubNS, "link", "set", "lo", "up"},
	}...))
	for ns, devs := range map[string][]string{"": {qlSubSrv}, qlRelayNS: {qlRelaySrv, qlRelaySub}, qlSubNS: {qlSubCli}} {
		for _, dev := range devs {
			if err := inNetns(ns, func() error { return offloadsOff(dev) }); err != nil {
				t.Fatalf("offloads off on %s: %v", dev, err)
			}
		}
	}
}

// inNetns runs f on a thread in namespace ns ("" is this one). Sockets f
// opens stay in ns.
func inNetns(ns string, f func() error) error {
	if ns == "" {
		return f()
	}
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer own.Close()
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := setns(target); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := f()
	if err := setns(own); err != nil {
		// Wrong namespace now: let the thread die with the goroutine.
		return err
	}
	runtime.UnlockOSThread()
	return ferr
}

// offloadsOff is `ethtool -K dev rx off tx off sg off tso off gso off gro
// off` through the legacy ethtool ioctls (Debian's ethtool is not
// installed here, and the kernel still answers these).
func offloadsOff(dev string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	type ethtoolValue struct{ cmd, data uint32 }
	type ifreq struct {
		name [unix.IFNAMSIZ]byte
		data unsafe.Pointer
		_    [16]byte
	}
	for _, cmd := range []uint32{unix.ETHTOOL_SGRO, unix.ETHTOOL_SGSO, unix.ETHTOOL_STSO, unix.ETHTOOL_SSG, unix.ETHTOOL_STXCSUM, unix.ETHTOOL_SRXCSUM} {
		v := ethtoolValue{cmd: cmd}
		var ifr ifreq
		copy(ifr.name[:], dev)
		ifr.data = unsafe.Pointer(&v)
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
			return fmt.Errorf("ethtool ioctl %#x: %w", cmd, errno)
		}
		runtime.KeepAlive(&v)
	}
	return nil
}

// setRateLimit puts a tbf of rate (e.g. "600kbit") on the server's egress
// toward the subscriber; "" removes it.
func setRateLimit(rate string) error {
	args := []string{"qdisc", "del", "dev", qlSubSrv, "root"}
	if rate != "" {
		args = []string{"qdisc", "replace", "dev", qlSubSrv, "root", "tbf", "rate", rate, "burst", "16kb", "latency", "50ms"}
	}
	if out, err := exec.Command("tc", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("tc %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// forwardDevTools makes a DevTools URL inside namespace ns reachable from
// here: a listener on this namespace's loopback whose connections are
// piped to the browser's. It returns the URL to dial instead.
func forwardDevTools(t *testing.T, ns, wsURL string, logf func(string)) (string, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return "", fmt.Errorf("DevTools URL %q: %w", wsURL, err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by the cleanup below
			}
			track(c)
			inner, err := dialInNetns(ns, target)
			if err != nil {
				logf(fmt.Sprintf("DevTools forward to %s in %s: %v", target, ns, err))
				_ = c.Close()
				continue
			}
			track(inner)
			wg.Go(func() { _, _ = io.Copy(inner, c); _ = inner.Close() })
			wg.Go(func() { _, _ = io.Copy(c, inner); _ = c.Close() })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	u.Host = ln.Addr().String()
	return u.String(), nil
}
