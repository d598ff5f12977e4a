package sfu

import "testing"

func TestCanonicalMimeType(t *testing.T) {
	cases := []struct{ in, want string }{
		{"audio/OPUS", "audio/opus"},
		{"audio/opus", "audio/opus"},
		{"video/vp8", "video/VP8"},
		{"VIDEO/H264", "video/H264"},
		{"video/av1", "video/AV1"},
		{"audio/x-unknown", "audio/x-unknown"},
	}
	for _, c := range cases {
		if got := canonicalMimeType(c.in); got != c.want {
			t.Errorf("canonicalMimeType(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
