package printable

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{"Ann", true},
		{"Zoë 🎤", true},
		{"", false},
		{strings.Repeat("é", 8), true},
		{strings.Repeat("é", 9), false},
		{"bad\xff", false},
		{"ann\x1b[2J", false},
		{"tab\there", false},
	}
	for _, c := range cases {
		if err := Check(c.in, 8); (err == nil) != c.ok {
			t.Errorf("Check(%q, 8) = %v, want ok=%v", c.in, err, c.ok)
		}
	}
}
