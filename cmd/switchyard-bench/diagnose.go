package main

import (
	"fmt"
	"strings"
)

// noteFailures records sessions the server ended during the step and
// publishers whose sending failed: either explains missing packets.
func (r *stepResult) noteFailures(runs []*roomRun) {
	ended := map[string]int{}
	failedPubs := 0
	var firstErr error
	for _, run := range runs {
		for _, p := range run.all() {
			if reason := p.endedBy(); reason != "" {
				ended[reason]++
			}
			if p.pub != nil {
				if err := p.pub.failed.Load(); err != nil {
					failedPubs++
					firstErr = *err
				}
			}
		}
	}
	if len(ended) > 0 {
		r.EndedByServer = ended
		r.Notes = append(r.Notes, fmt.Sprintf("the server ended sessions during the step: %v", ended))
	}
	if failedPubs > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d publishers stopped on a write error, e.g. %v", failedPubs, firstErr))
	}
}

// describeMissing says, for streams that never arrived, whether the
// server had offered them on the subscriber's PC at all, to tell a
// signaling problem from a media one.
func describeMissing(runs []*roomRun, m mediaSettings) string {
	offered, notOffered := map[string]int{}, map[string]int{}
	var clues []string
	for _, r := range runs {
		for _, p := range r.receivers() {
			sdp := p.client.SubscribeSDP()
			missing := false
			for _, k := range r.expected(p, m) {
				if p.hasReceived(k) {
					continue
				}
				missing = true
				if sdpOffers(sdp, k) {
					offered[k.kind]++
				} else {
					notOffered[k.kind]++
				}
			}
			if missing && len(clues) < 3 {
				clues = append(clues, signalingClue(p))
			}
		}
	}
	return fmt.Sprintf("offered on the subscribe PC but no packet %v; never offered %v; e.g. %s",
		offered, notOffered, strings.Join(clues, "; "))
}

// signalingClue summarises what one participant was told: how many
// messages of each type, and the first error its client hit (or how its
// socket closed).
func signalingClue(p *participant) string {
	counts := map[string]int{}
	firstErr := ""
	for _, msg := range p.client.Messages() {
		key := msg.Type
		if msg.Type == "offer" || msg.Type == "answer" || msg.Type == "candidate" {
			var sdp struct {
				PC string `json:"pc"`
			}
			_ = msg.Decode(&sdp)
			key += "/" + sdp.PC
		}
		counts[key]++
		if (msg.Type == "client-error" || msg.Type == "error" || msg.Type == "socket-closed") && firstErr == "" {
			firstErr = string(msg.Raw)
		}
	}
	return fmt.Sprintf("%s got %v first error %s", p.id, counts, firstErr)
}

// sdpOffers reports whether an SDP has a media section of k's kind whose
// msid names k's publisher.
func sdpOffers(sdp string, k streamKey) bool {
	for _, section := range strings.Split(sdp, "\nm=")[1:] {
		if strings.HasPrefix(section, k.kind) && strings.Contains(section, "a=msid:"+k.publisher+" ") {
			return true
		}
	}
	return false
}

// noteLeaves records participants the server saw leave between the
// baseline and the end of the window; the bench makes nobody leave then,
// so any leave there is the server's (or the starved client's) doing.
func (r *stepResult) noteLeaves(base, end snapshot) {
	left := map[string]int{}
	for reason, n := range end.metrics.leaves {
		if d := int(n - base.metrics.leaves[reason]); d > 0 {
			left[reason] = d
		}
	}
	if len(left) > 0 {
		r.ServerLeaves = left
		r.Notes = append(r.Notes, fmt.Sprintf("participants left during the step, by the server's reason: %v", left))
	}
}
