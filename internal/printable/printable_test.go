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
		{"   ", false},
		{"\u3164", false},
		{"\u200b\u200b", false},
		{"\u2800 ", false},
		{" a ", true},
	}
	for _, c := range cases {
		if err := Check(c.in, 8); (err == nil) != c.ok {
			t.Errorf("Check(%q, 8) = %v, want ok=%v", c.in, err, c.ok)
		}
	}
}

func TestCheckText(t *testing.T) {
	for in, ok := range map[string]bool{
		"hello\nworld\tok": true,
		"zoë 🎤":            true,
		"esc\x1b[2J":       false,
		"nul\x00":          false,
		"c1\u009b":         false,
		"bidi\u202eevil":   false,
		"isolate\u2066x":   false,
		"bad\xff":          false,
	} {
		if err := CheckText(in); (err == nil) != ok {
			t.Errorf("CheckText(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}
