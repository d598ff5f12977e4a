package whip

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v3"
)

func TestParseFragment(t *testing.T) {
	f, err := parseFragment("a=ice-ufrag:abcd\r\na=ice-pwd:secret\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host\r\na=end-of-candidates\r\n")
	if err != nil || f.creds != (credentials{"abcd", "secret"}) || len(f.candidates) != 1 || f.candidates[0].mid != "0" ||
		f.candidates[0].line != "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host" {
		t.Fatalf("parseFragment = %+v, %v", f, err)
	}
	for _, bad := range []string{"hello", "a=ice-ufrag:only\r\n", "v=0\r\n"} {
		if _, err := parseFragment(bad); err == nil {
			t.Errorf("parseFragment(%q) accepted", bad)
		}
	}
}

func TestWithCredentialsReplacesICESessionAndDropsCandidates(t *testing.T) {
	offer := "v=0\r\na=ice-ufrag:old\r\na=ice-pwd:oldpwd\r\na=candidate:1 1 udp 1 1.2.3.4 5 typ host\r\na=end-of-candidates\r\na=mid:0\r\n"
	got := withCredentials(offer, credentials{"new", "newpwd"})
	if strings.Contains(got, "old") || strings.Contains(got, "candidate") || !strings.Contains(got, "a=ice-ufrag:new\r\na=ice-pwd:newpwd\r\n") {
		t.Fatalf("withCredentials = %q", got)
	}
	if frag := answerFragment("a=ice-ufrag:u\r\na=ice-pwd:p\r\na=candidate:x\r\na=candidate:x\r\n"); frag != "a=ice-ufrag:u\r\na=ice-pwd:p\r\na=candidate:x\r\n" {
		t.Fatalf("answerFragment = %q", frag)
	}
}

func TestLinkHeaders(t *testing.T) {
	got := linkHeaders([]webrtc.ICEServer{
		{URLs: []string{"stun:stun.example.com:3478"}},
		{URLs: []string{"turn:turn.example.com:3478?transport=udp"}, Username: "u", Credential: "p"},
	})
	want := []string{
		`<stun:stun.example.com:3478>; rel="ice-server"`,
		`<turn:turn.example.com:3478?transport=udp>; rel="ice-server"; username="u"; credential="p"; credential-type="password"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("linkHeaders = %q, want %q", got, want)
	}
}
