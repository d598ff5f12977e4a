package ids

import (
	"strings"
	"testing"
)

func TestNewIsPrefixedAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := New("p_")
		if !strings.HasPrefix(id, "p_") || len(id) != 2+16 {
			t.Fatalf("New(p_) = %q, want p_ and 16 base32 characters", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	if s := Secret(); len(s) != 32 {
		t.Fatalf("Secret() length %d, want 32", len(s))
	}
}
