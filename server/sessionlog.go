package server

import (
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"go.uber.org/zap"
)

// sessionRecorder writes every join and leave to the durable session log.
// It appends (and fsyncs) synchronously, under the room lock: a join or
// leave in that room waits about one fsync, and in exchange no record a
// participant was told about can be lost to a crash.
type sessionRecorder struct {
	log *sessionlog.Log
	zap *zap.Logger
}

func (s *sessionRecorder) Joined(e room.JoinEvent) {
	s.append(sessionlog.Record{
		Time: e.Time, Event: sessionlog.EventJoin, Room: e.Room, ParticipantID: e.ParticipantID, Name: e.Name,
		Identity: e.Identity, ResumedFrom: e.ResumedFrom,
	})
}

func (s *sessionRecorder) Left(e room.LeaveEvent) {
	s.append(sessionlog.Record{
		Time: e.Time, Event: sessionlog.EventLeave, Room: e.Room, ParticipantID: e.ParticipantID, Name: e.Name,
		Identity: e.Identity, Reason: string(e.Reason), DurationSec: e.Duration.Seconds(), DetectionDelaySec: e.DetectionDelay.Seconds(),
	})
}

func (s *sessionRecorder) append(r sessionlog.Record) {
	if err := s.log.Append(r); err != nil {
		s.zap.Error("session log append failed", zap.String("participant", r.ParticipantID), zap.String("event", r.Event), zap.Error(err))
	}
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
