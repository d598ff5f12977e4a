package cpulock

import (
	"path/filepath"
	"testing"
	"time"
)

// The test uses a lock file of its own: the machine-wide one may be held
// by the browser tests for minutes.
func TestSecondHolderWaitsForTheFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	release, err := acquireAt(path)
	if err != nil {
		t.Fatal(err)
	}
	acquired := make(chan func())
	go func() {
		r, err := acquireAt(path)
		if err != nil {
			t.Error(err)
			r = func() {}
		}
		acquired <- r
	}()
	select {
	case r := <-acquired:
		r()
		t.Fatal("a second holder got the lock while the first held it")
	case <-time.After(200 * time.Millisecond):
	}
	release()
	select {
	case r := <-acquired:
		r()
	case <-time.After(10 * time.Second):
		t.Fatal("the second holder did not get the lock after the first released it")
	}
}
