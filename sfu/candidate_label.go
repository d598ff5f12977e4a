package sfu

import (
	"strings"

	"github.com/pion/webrtc/v3"
)

// labelled gives a local candidate the m-section and ICE generation it
// belongs to. pion v3's ICECandidate.ToJSON leaves sdpMid empty and
// usernameFragment unset, which a client written from the protocol
// document cannot apply as documented (browsers reject an unknown mid, and
// after an ICE restart only the ufrag tells generations apart). Every
// m-section of ours shares one BUNDLE transport, so the first mid is right
// for all. The local description is set before candidates are handed out.
func (p *peer) labelled(c *webrtc.ICECandidateInit) *webrtc.ICECandidateInit {
	if c == nil {
		return nil
	}
	desc := p.pc.LocalDescription()
	if desc == nil {
		return c
	}
	mid, ufrag := firstMidAndUfrag(desc.SDP)
	out := *c
	if mid != "" {
		index := uint16(0)
		out.SDPMid, out.SDPMLineIndex = &mid, &index
	}
	if ufrag != "" {
		out.UsernameFragment = &ufrag
	}
	return &out
}

// firstMidAndUfrag reads the first a=mid and a=ice-ufrag of an SDP.
func firstMidAndUfrag(sdp string) (mid, ufrag string) {
	for line := range strings.Lines(sdp) {
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(line, "a=mid:"); ok && mid == "" {
			mid = v
		}
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok && ufrag == "" {
			ufrag = v
		}
		if mid != "" && ufrag != "" {
			break
		}
	}
	return mid, ufrag
}
