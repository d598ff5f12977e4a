package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// vethInto is the steps that link this namespace to namespace ns (which
// must exist) by a veth pair, hostDev at hostIP here and nsDev at nsIP
// there (both /24), and bring up ns's loopback.
func vethInto(ns, hostDev, nsDev, hostIP, nsIP string) [][]string {
	return [][]string{
		{"link", "add", hostDev, "type", "veth", "peer", "name", nsDev, "netns", ns},
		{"addr", "add", hostIP + "/24", "dev", hostDev},
		{"link", "set", hostDev, "up"},
		{"-n", ns, "addr", "add", nsIP + "/24", "dev", nsDev},
		{"-n", ns, "link", "set", nsDev, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	}
}

// ipLab builds a test's network with `ip` steps. undo removes it — the
// namespaces or links the steps create — and runs first (a killed run
// may have left them) and again at cleanup; its errors are ignored.
func ipLab(t *testing.T, undo, steps [][]string) {
	t.Helper()
	runUndo := func() {
		for _, u := range undo {
			_ = exec.Command("ip", u...).Run()
		}
	}
	runUndo()
	t.Cleanup(runUndo)
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
}
