package whip

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// checkOffer refuses, before anyone sees a join, offers that cannot
// possibly be applied: not SDP, no media, no ICE credentials or DTLS
// fingerprint.
func checkOffer(offer string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return fmt.Errorf("malformed SDP offer: %w", err)
	}
	if len(d.MediaDescriptions) == 0 {
		return errors.New("the SDP offer has no media section (m=)")
	}
	if iceCredentials(offer) == (credentials{}) {
		return errors.New("the SDP offer has no a=ice-ufrag / a=ice-pwd")
	}
	if !strings.Contains(offer, "a=fingerprint:") {
		return errors.New("the SDP offer has no a=fingerprint (DTLS is required)")
	}
	return nil
}

// credentials are one ICE session's username fragment and password.
type credentials struct{ ufrag, pwd string }

// iceCredentials finds the first a=ice-ufrag and a=ice-pwd in an SDP or
// SDP fragment; with BUNDLE every section has the same.
func iceCredentials(text string) credentials {
	var c credentials
	for _, line := range sdpLines(text) {
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok && c.ufrag == "" {
			c.ufrag = v
		}
		if v, ok := strings.CutPrefix(line, "a=ice-pwd:"); ok && c.pwd == "" {
			c.pwd = v
		}
	}
	return c
}

func sdpLines(text string) []string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// etag names the server's ICE session (RFC 9725 §4.3.1): it changes with
// every ICE restart.
func etag(answer string) string { return `"` + iceCredentials(answer).ufrag + `"` }

// fragment is a parsed application/trickle-ice-sdpfrag body (RFC 8840).
type fragment struct {
	creds      credentials
	candidates []fragCandidate
}

type fragCandidate struct {
	mid  string
	line string // "candidate:..." without the "a="
}

func parseFragment(text string) (fragment, error) {
	var f fragment
	f.creds = iceCredentials(text)
	mid := ""
	for _, line := range sdpLines(text) {
		switch {
		case strings.HasPrefix(line, "m="):
			mid = ""
		case strings.HasPrefix(line, "a=mid:"):
			mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a=candidate:"):
			f.candidates = append(f.candidates, fragCandidate{mid: mid, line: strings.TrimPrefix(line, "a=")})
		case strings.HasPrefix(line, "a=ice-ufrag:"), strings.HasPrefix(line, "a=ice-pwd:"),
			strings.HasPrefix(line, "a=end-of-candidates"), strings.HasPrefix(line, "a=ice-options:"),
			strings.HasPrefix(line, "a=group:"):
		default:
			return f, fmt.Errorf("unexpected line in trickle-ice-sdpfrag: %q", line)
		}
	}
	if (f.creds.ufrag == "") != (f.creds.pwd == "") {
		return f, errors.New("an ICE restart needs both a=ice-ufrag and a=ice-pwd")
	}
	return f, nil
}

// withCredentials rewrites an offer for an ICE restart: new credentials,
// and none of the old session's candidates.
func withCredentials(offer string, c credentials) string {
	var b strings.Builder
	for _, line := range sdpLines(offer) {
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			line = "a=ice-ufrag:" + c.ufrag
		case strings.HasPrefix(line, "a=ice-pwd:"):
			line = "a=ice-pwd:" + c.pwd
		case strings.HasPrefix(line, "a=candidate:"), line == "a=end-of-candidates":
			continue
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	return b.String()
}

// answerFragment is the 200 body of an ICE restart: the server's new
// credentials and candidates.
func answerFragment(answer string) string {
	var b strings.Builder
	c := iceCredentials(answer)
	fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", c.ufrag, c.pwd)
	seen := map[string]bool{}
	for _, line := range sdpLines(answer) {
		if strings.HasPrefix(line, "a=candidate:") && !seen[line] {
			seen[line] = true
			b.WriteString(line + "\r\n")
		}
	}
	return b.String()
}
