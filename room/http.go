package room

import (
	"context"
	"fmt"
)

// HTTP signaling (WHIP/WHEP, package whip) has no channel to trickle on:
// the answer carries every candidate, so these wait for gathering to end.

// PublishOffer applies an offer to the publish PC and returns the answer
// with all local candidates in it, waiting for gathering within ctx. The
// answer also reaches the Client through Answer, as for any offer.
func (p *Participant) PublishOffer(ctx context.Context, sdp string) (string, error) {
	if err := p.HandleOffer(sdp); err != nil {
		return "", err
	}
	return p.gathered(ctx, p.pub.GatheringDone(), p.pub.LocalSDP)
}

// WatchOffer answers a WHEP viewer's offer on its subscribe PC with the
// tracks of one publisher: the participant whose id, identity or name is
// source, or when source is "" the earliest-joined participant that is
// publishing anything. It is a snapshot: tracks published later are not
// added (WHEP cannot renegotiate); a track that ends stops.
func (p *Participant) WatchOffer(ctx context.Context, sdp, source string) (string, error) {
	if p.hasLeft() {
		return "", ErrLeft
	}
	tracks, err := p.room.sourceTracks(p, source)
	if err != nil {
		return "", err
	}
	if err := p.sub.AnswerOffer(sdp, tracks); err != nil {
		return "", err
	}
	return p.gathered(ctx, p.sub.GatheringDone(), p.sub.LocalSDP)
}

func (p *Participant) gathered(ctx context.Context, done <-chan struct{}, sdp func() string) (string, error) {
	select {
	case <-done:
	case <-ctx.Done():
		return "", fmt.Errorf("gathering candidates: %w", ctx.Err())
	}
	return sdp(), nil
}

// sourceTracks picks what a WHEP viewer plays; see WatchOffer.
func (r *Room) sourceTracks(viewer *Participant, source string) ([]Track, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.othersThan(viewer) {
		named := source != "" && (o.id == source || o.identity == source || o.name == source)
		if named || source == "" && len(o.tracks) > 0 {
			if len(o.tracks) == 0 {
				return nil, fmt.Errorf("%w: %s publishes nothing yet", ErrNoSource, source)
			}
			return o.sortedTracks(), nil
		}
	}
	if source != "" {
		return nil, fmt.Errorf("%w: nobody called %q in room %s", ErrNoSource, source, r.name)
	}
	return nil, fmt.Errorf("%w: nobody publishes in room %s yet", ErrNoSource, r.name)
}

// RemoteSDP is the remote description of one of p's PCs: the offer an
// ICE restart re-applies with new credentials.
func (p *Participant) RemoteSDP(pc PC) string {
	if pc == PCSubscribe {
		return p.sub.RemoteSDP()
	}
	return p.pub.RemoteSDP()
}

// LocalSDP is the local description of one of p's PCs.
func (p *Participant) LocalSDP(pc PC) string {
	if pc == PCSubscribe {
		return p.sub.LocalSDP()
	}
	return p.pub.LocalSDP()
}
