package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

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
