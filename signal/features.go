package signal

import (
	"github.com/switchyard-sfu/switchyard/room"
)

// Room notices (room.Notices) as wire messages.

func (m *roomClient) Published(t room.TrackInfo, mid string) {
	m.s.send(Published{Type: TypePublished, Track: wireTrack(t), Mid: mid})
}

func (m *roomClient) TrackMuted(id string, t room.TrackInfo) {
	m.s.send(TrackMuted{Type: TypeTrackMuted, ParticipantID: id, TrackID: t.ID, Kind: t.Kind, Muted: t.Muted})
}

func (m *roomClient) ActiveSpeakers(speakers []room.Speaker) {
	m.s.send(ActiveSpeakers{Type: TypeActiveSpeakers, Speakers: wireSpeakers(speakers)})
}

func (m *roomClient) Chat(c room.ChatMessage) {
	m.s.send(ChatRelay{Type: TypeChat, From: c.From, Name: c.Name, Text: c.Text, Time: c.Time})
}

func (s *session) handleMute(data []byte) error {
	var msg Mute
	if err := decode(data, &msg); err != nil {
		return err
	}
	if msg.Track == "" || msg.Muted == nil {
		return badMessage("mute needs track and muted")
	}
	p, err := s.joined()
	if err != nil {
		return err
	}
	return p.SetTrackMuted(msg.Track, *msg.Muted)
}

func (s *session) handleChat(data []byte) error {
	var msg Chat
	if err := decode(data, &msg); err != nil {
		return err
	}
	p, err := s.joined()
	if err != nil {
		return err
	}
	return p.SendChat(msg.Text)
}
