// Package sessionlog is Switchyard's durable record of presence: a
// JSON-lines file with one line per join and one per leave, each leave
// saying why it happened, and one per track a participant published or
// unpublished while in the room.
//
// The format's one rule: a record exists if and only if its line ends in
// a newline and parses. The newline is the commit marker. A writer killed
// mid-write leaves a line without one (or, after power loss, garbage);
// readers skip it and Open cuts it off before appending, so every reader
// and every later writer agrees on the same set of records. Whole lines
// are written in one write call per batch and fsynced before any of them
// is reported done (group commit, commit.go), so a record whose Append
// returned nil, or whose Submit result is Done with no error, is in that
// set for good.
//
// Open also repairs what a crash leaves behind in meaning, not only in
// bytes: sessions that joined but never left get one leave with reason
// server-crash, so the log never claims that someone is still present on
// a server that died.
package sessionlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Event kinds.
const (
	EventJoin  = "join"
	EventLeave = "leave"
	// A track published or unpublished while its participant stays. A
	// leave (server-crash ones included) ends every track still open, so
	// it is never preceded by the leaver's unpublished records: readers
	// close the tracks themselves. Logs from before these kinds have none.
	EventTrackPublished   = "track_published"
	EventTrackUnpublished = "track_unpublished"
)

// ReasonServerCrash is the leave reason Open writes for sessions left open
// by a run that died without writing their leaves. The other reasons are
// the room package's (leave, socket-closed, ping-timeout, ...); the log
// stores whatever reason it is given.
const ReasonServerCrash = "server-crash"

// timeLayout is RFC 3339 with all nine fractional digits, always in UTC.
// Fixed width (unlike time.RFC3339Nano, which drops trailing zeros) makes
// the text of the time sort the same way as the time itself, so the file
// can be sorted, grepped and compared with ordinary tools.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Record is one line of the log: a join, a leave, or a track event.
type Record struct {
	Time          time.Time `json:"time"`  // RFC 3339 with nanoseconds (UTC)
	Event         string    `json:"event"` // one of the Event kinds
	Room          string    `json:"room"`
	ParticipantID string    `json:"participant_id"`
	Name          string    `json:"name"`
	Identity      string    `json:"identity,omitempty"` // the join token's, when auth is on
	// ResumedFrom, on a join, is the participant id of the earlier session
	// this one continues: the same person reconnecting (a broken socket, a
	// navigation that did not unload the page). Join only.
	ResumedFrom string `json:"resumed_from,omitempty"`
	// Reason says why a leave happened: leave, socket-closed,
	// ping-timeout, pc-failed, pc-closed, tab-closed, switched-room,
	// kicked, room-closed, server-shutdown or server-crash. Leave only.
	Reason string `json:"reason,omitempty"`
	// DurationSec is the session's length in seconds. Leave only.
	DurationSec float64 `json:"duration_s,omitempty"`
	// DetectionDelaySec is, for deaths the server had to detect, the time
	// between the client last being heard and the leave. For server-crash
	// leaves it is the time between the last known alive moment and the
	// recovery that wrote the leave. Leave only.
	DetectionDelaySec float64 `json:"detection_delay_s,omitempty"`
	// Track is the track published or unpublished. Track events only.
	Track *Track `json:"track,omitempty"`
}

// Track describes a published track in a track record.
type Track struct {
	ID   string `json:"id"`   // server-assigned, unique on the server
	Kind string `json:"kind"` // "audio" or "video"
	Mime string `json:"mime,omitempty"`
	// Layers are the simulcast rids the publisher declared, lowest first;
	// empty for a single-layer track.
	Layers []string `json:"layers,omitempty"`
}

// IsTrackEvent reports whether event is a track record's kind.
func IsTrackEvent(event string) bool {
	return event == EventTrackPublished || event == EventTrackUnpublished
}

// MarshalJSON writes Time in the fixed-width UTC layout; everything else
// is the default encoding. Decoding needs no counterpart: time.Time parses
// any RFC 3339 time.
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record // no methods, so no recursion
	return json.Marshal(struct {
		Time string `json:"time"` // shallower, so it replaces plain.Time
		plain
	}{r.Time.UTC().Format(timeLayout), plain(r)})
}

// Duration is DurationSec as a time.Duration.
func (r Record) Duration() time.Duration { return secondsToDuration(r.DurationSec) }

func secondsToDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// validate rejects records that would make the log lie or be ambiguous.
func (r Record) validate() error {
	track := IsTrackEvent(r.Event)
	switch {
	case r.Event != EventJoin && r.Event != EventLeave && !track:
		return fmt.Errorf("sessionlog: event %q is not %q, %q, %q or %q", r.Event, EventJoin, EventLeave, EventTrackPublished, EventTrackUnpublished)
	case r.ParticipantID == "":
		return errors.New("sessionlog: record has no participant id")
	case r.Event == EventLeave && r.Reason == "":
		return errors.New("sessionlog: leave has no reason")
	case r.Event == EventJoin && (r.Reason != "" || r.DurationSec != 0 || r.DetectionDelaySec != 0):
		return errors.New("sessionlog: join carries leave-only fields")
	case r.DurationSec < 0 || r.DetectionDelaySec < 0:
		return errors.New("sessionlog: negative duration")
	case track && (r.Track == nil || r.Track.ID == "" || r.Track.Kind == ""):
		return errors.New("sessionlog: track record has no track id or kind")
	case track && (r.Reason != "" || r.DurationSec != 0 || r.DetectionDelaySec != 0 || r.ResumedFrom != ""):
		return errors.New("sessionlog: track record carries join or leave fields")
	case !track && r.Track != nil:
		return errors.New("sessionlog: join or leave carries a track")
	}
	return nil
}

// parseLine decodes one line, which must include its terminating newline:
// an unterminated line is by definition uncommitted (see the package doc),
// even if the JSON before the cut happens to be complete.
func parseLine(line []byte) (Record, bool) {
	if len(line) == 0 || line[len(line)-1] != '\n' {
		return Record{}, false
	}
	body := bytes.TrimSpace(line)
	// Only objects are records; json.Unmarshal would accept "null" or a
	// bare number into a struct without complaint.
	if len(body) == 0 || body[0] != '{' {
		return Record{}, false
	}
	var r Record
	if err := json.Unmarshal(body, &r); err != nil {
		return Record{}, false
	}
	return r, true
}

// scanLines calls fn for every line of r, in order, with the line's byte
// offset. Lines include their newline; the last may lack one. Unlike
// bufio.Scanner it has no line-length limit, so one oversized line can't
// hide the rest of the file.
func scanLines(r io.Reader, fn func(off int64, line []byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			fn(off, line)
			off += int64(len(line))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Read returns every record in r, in file order. Lines that are not whole
// records (a torn last line, garbage) are skipped and counted, never
// returned in part. Blank lines count as skipped too: the writer never
// produces them.
func Read(r io.Reader) (records []Record, skipped int, err error) {
	err = scanLines(r, func(_ int64, line []byte) {
		if rec, ok := parseLine(line); ok {
			records = append(records, rec)
		} else {
			skipped++
		}
	})
	return records, skipped, err
}

// ReadFile is Read on the file at path. It only reads: unlike Open it
// neither takes the writer's lock nor repairs anything, so it is safe to
// run against the log of a live server.
func ReadFile(path string) (records []Record, skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return Read(f)
}
