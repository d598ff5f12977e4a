package waitfor

import (
	"strings"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	n := 0
	if err := Poll(time.Second, time.Millisecond, "third call", func() bool { n++; return n == 3 }); err != nil || n != 3 {
		t.Fatalf("Poll = %v after %d calls, want nil after 3", err, n)
	}
	err := Poll(20*time.Millisecond, time.Millisecond, "never", func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "never") {
		t.Fatalf("Poll of a false condition = %v, want an error naming it", err)
	}
}
