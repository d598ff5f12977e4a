package server

import (
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
)

// sessionRecorder is the rooms' Journal: it queues every join and leave
// to the durable session log, which group-commits them (one fsync for
// all records queued meanwhile). The room tells nobody of an event until
// its record is on disk, so no record a participant was told about can be
// lost to a crash, and the room lock is never held across an fsync.
type sessionRecorder struct {
	log *sessionlog.Log
}

func (s *sessionRecorder) RecordJoin(e room.JoinEvent) room.Commit {
	return s.log.Submit(sessionlog.Record{
		Time: e.Time, Event: sessionlog.EventJoin, Room: e.Room, ParticipantID: e.ParticipantID, Name: e.Name,
		Identity: e.Identity, ResumedFrom: e.ResumedFrom,
	})
}

func (s *sessionRecorder) RecordLeave(e room.LeaveEvent) room.Commit {
	return s.log.Submit(sessionlog.Record{
		Time: e.Time, Event: sessionlog.EventLeave, Room: e.Room, ParticipantID: e.ParticipantID, Name: e.Name,
		Identity: e.Identity, Reason: string(e.Reason), DurationSec: e.Duration.Seconds(), DetectionDelaySec: e.DetectionDelay.Seconds(),
	})
}

func (s *sessionRecorder) RecordTrack(e room.TrackEvent) room.Commit {
	event := sessionlog.EventTrackUnpublished
	if e.Published {
		event = sessionlog.EventTrackPublished
	}
	return s.log.Submit(sessionlog.Record{
		Time: e.Time, Event: event, Room: e.Room, ParticipantID: e.ParticipantID, Name: e.Name, Identity: e.Identity,
		Track: &sessionlog.Track{ID: e.Track.ID, Kind: e.Track.Kind, Mime: e.Track.Codec, Layers: e.Layers},
	})
}

// observers fans room events out to several observers in order.
type observers []room.Observer

func (o observers) Joined(e room.JoinEvent) {
	for _, x := range o {
		x.Joined(e)
	}
}

func (o observers) Left(e room.LeaveEvent) {
	for _, x := range o {
		x.Left(e)
	}
}

// TrackChanged passes track events on to the observers that take them.
func (o observers) TrackChanged(e room.TrackEvent) {
	for _, x := range o {
		if t, ok := x.(room.TrackObserver); ok {
			t.TrackChanged(e)
		}
	}
}
