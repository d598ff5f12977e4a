package whip

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/room"
)

// patch is trickle ICE (204) or, with new credentials, an ICE restart
// (200 with the server's new fragment), per RFC 9725 §4.3.
func (h *Handler) patch(kind Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := h.servePatch(w, r, kind); e != nil {
			writeError(w, e)
		}
	}
}

func (h *Handler) servePatch(w http.ResponseWriter, r *http.Request, kind Kind) *httpError {
	s, e := h.lookup(r, kind)
	if e != nil {
		return e
	}
	body, e := readBody(w, r, contentSDPFrag)
	if e != nil {
		return e
	}
	frag, err := parseFragment(body)
	if err != nil {
		return fail(http.StatusBadRequest, CodeBadSDP, err.Error())
	}
	p := s.participant
	pc := room.PCPublish
	if kind == WHEP {
		pc = room.PCSubscribe
	}
	current := p.RemoteSDP(pc)
	restart := frag.creds != (credentials{}) && frag.creds != iceCredentials(current)
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != etag(p.LocalSDP(pc)) {
		return fail(http.StatusPreconditionFailed, CodePrecondition, "If-Match names another ICE session")
	}
	if restart {
		if kind == WHEP {
			return fail(http.StatusUnprocessableEntity, CodeBadSDP, "ICE restart is not supported for WHEP; POST again")
		}
		ctx, cancel := context.WithTimeout(r.Context(), gatherTimeout)
		defer cancel()
		answer, err := p.PublishOffer(ctx, withCredentials(current, frag.creds))
		if err != nil {
			return fail(http.StatusBadRequest, CodeBadSDP, fmt.Sprintf("ICE restart failed: %v", err))
		}
		if err := addCandidates(p, pc, frag); err != nil {
			return fail(http.StatusBadRequest, CodeBadSDP, err.Error())
		}
		w.Header().Set("Content-Type", contentSDPFrag)
		w.Header().Set("ETag", etag(answer))
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, answerFragment(answer))
		return nil
	}
	if err := addCandidates(p, pc, frag); err != nil {
		return fail(http.StatusBadRequest, CodeBadSDP, err.Error())
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func addCandidates(p *room.Participant, pc room.PC, f fragment) error {
	for _, c := range f.candidates {
		init := webrtc.ICECandidateInit{Candidate: c.line}
		if c.mid != "" {
			init.SDPMid = &c.mid
		}
		if err := p.AddCandidate(pc, &init); err != nil {
			return fmt.Errorf("candidate %q: %w", c.line, err)
		}
	}
	return nil
}
