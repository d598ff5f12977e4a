package sfu

import "testing"

func TestFirstMidAndUfrag(t *testing.T) {
	cases := []struct{ name, sdp, mid, ufrag string }{
		{"session-level ufrag", "v=0\r\na=ice-ufrag:AbC\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n", "0", "AbC"},
		{"media-level ufrag", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\na=ice-ufrag:xyz\r\n", "v", "xyz"},
		{"none", "v=0\r\n", "", ""},
	}
	for _, c := range cases {
		mid, ufrag := firstMidAndUfrag(c.sdp)
		if mid != c.mid || ufrag != c.ufrag {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.name, mid, ufrag, c.mid, c.ufrag)
		}
	}
}
