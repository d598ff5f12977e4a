package signal

import "github.com/switchyard-sfu/switchyard/room"

// Conversions from room's descriptions to the wire's: field by field, so
// the protocol changes only when wire.go does.

func wireTrack(t room.TrackInfo) TrackInfo {
	return TrackInfo{ID: t.ID, Kind: t.Kind, StreamID: t.StreamID, Codec: t.Codec, Muted: t.Muted}
}

func wireParticipant(p room.ParticipantInfo) ParticipantInfo {
	w := ParticipantInfo{ID: p.ID, Identity: p.Identity, Name: p.Name, JoinedAt: p.JoinedAt,
		Tracks: make([]TrackInfo, 0, len(p.Tracks)), ResumedFrom: p.ResumedFrom}
	for _, t := range p.Tracks {
		w.Tracks = append(w.Tracks, wireTrack(t))
	}
	return w
}

func wireParticipants(ps []room.ParticipantInfo) []ParticipantInfo {
	w := make([]ParticipantInfo, 0, len(ps))
	for _, p := range ps {
		w = append(w, wireParticipant(p))
	}
	return w
}

func wireSpeakers(ss []room.Speaker) []Speaker {
	w := make([]Speaker, 0, len(ss))
	for _, s := range ss {
		w = append(w, Speaker{ParticipantID: s.ParticipantID, Level: s.Level})
	}
	return w
}
