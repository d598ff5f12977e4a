package sessionlog

import (
	"cmp"
	"slices"
	"time"
)

// SummaryOptions select what Summarize looks at.
type SummaryOptions struct {
	// From and To bound the range, both inclusive; zero means unbounded.
	From, To time.Time
	// Room restricts the summary to one room; empty means all rooms.
	Room string
}

// Summary is what a range of the log says about presence. Durations are
// in seconds; times are UTC.
type Summary struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	Room string    `json:"room,omitempty"`

	// Current is how many sessions are open at To (or the end of the log);
	// Present lists them.
	Current int        `json:"current"`
	Present []Presence `json:"present"`

	// Peak is the most sessions open at once within the range, counting
	// sessions already open at From; PeakTime is the first moment it was
	// reached (From itself if it was reached there). Zero if nobody was
	// ever present in the range.
	Peak     int       `json:"peak"`
	PeakTime time.Time `json:"peak_time,omitzero"`

	// Joins and Leaves count records in range; LeavesByReason splits
	// Leaves ("unknown" for a leave without a reason).
	Joins          int            `json:"joins"`
	Leaves         int            `json:"leaves"`
	LeavesByReason map[string]int `json:"leaves_by_reason"`
	// Resumes counts the joins in range that continue an earlier session
	// (resumed_from set); People is Joins - Resumes: the arrivals of
	// people, where Joins counts sessions.
	Resumes int `json:"resumes"`
	People  int `json:"people"`

	// TracksPublished and TracksUnpublished count track records in range.
	// They change no presence: a track event is never a session.
	TracksPublished   int `json:"tracks_published"`
	TracksUnpublished int `json:"tracks_unpublished"`

	// Duration describes the sessions that ended in range.
	Duration DurationStats `json:"duration_s"`

	// Rooms has per-room figures when Room is empty: every room with a
	// record in range or a session open at From.
	Rooms map[string]RoomSummary `json:"rooms,omitempty"`

	// Anomalies in range, which a correct writer never produces: a join
	// for a (room, participant) that is already open (ignored: it stays
	// one session, from the first join), a leave with no open join (it
	// counts as a leave but changes no presence), and unknown events.
	DuplicateJoins int `json:"duplicate_joins"`
	OrphanLeaves   int `json:"orphan_leaves"`
	UnknownEvents  int `json:"unknown_events"`

	// SkippedLines is for the caller that read the records (see Read);
	// Summarize leaves it zero.
	SkippedLines int `json:"skipped_lines"`
}

// Presence is one open session.
type Presence struct {
	Room          string    `json:"room"`
	ParticipantID string    `json:"participant_id"`
	Name          string    `json:"name"`
	Since         time.Time `json:"since"`
}

// DurationStats are nearest-rank percentiles, so each is a duration some
// session actually had, never an interpolation.
type DurationStats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// RoomSummary is one room's share of a Summary.
type RoomSummary struct {
	Current  int       `json:"current"`
	Peak     int       `json:"peak"`
	PeakTime time.Time `json:"peak_time,omitzero"`
	Joins    int       `json:"joins"`
	Leaves   int       `json:"leaves"`
}

// Summarize computes s over records, exactly: it replays every event from
// the start of the log in time order, so the state at From is known, and
// takes the peak over the state at From and after each event in range.
//
// Events with the same time are replayed in slice (file) order, which is
// the order the writer committed them: a join written before a leave at
// the same nanosecond means both people were there at once, and counts.
// Sessions are keyed by (room, participant id), so an id that leaves and
// rejoins, or is in two rooms, is handled as separate sessions.
func Summarize(records []Record, opt SummaryOptions) Summary {
	s := Summary{
		From:           utc(opt.From),
		To:             utc(opt.To),
		Room:           opt.Room,
		Present:        []Presence{},
		LeavesByReason: map[string]int{},
	}
	perRoom := opt.Room == ""
	if perRoom {
		s.Rooms = map[string]RoomSummary{}
	}
	emptyRange := !opt.From.IsZero() && !opt.To.IsZero() && opt.To.Before(opt.From)

	order := make([]int, 0, len(records))
	for i, r := range records {
		if opt.Room == "" || r.Room == opt.Room {
			order = append(order, i)
		}
	}
	// Stable, so equal times keep file order.
	slices.SortStableFunc(order, func(a, b int) int { return records[a].Time.Compare(records[b].Time) })

	type key struct{ room, id string }
	open := map[key]Record{}
	roomCount := map[string]int{}
	var durations []float64
	inRange := false

	// begin starts the range with the state at From as its first moment.
	begin := func() {
		inRange = true
		if n := len(open); n > 0 {
			s.Peak, s.PeakTime = n, s.From
		}
		for room, n := range roomCount {
			if perRoom && n > 0 {
				s.Rooms[room] = RoomSummary{Peak: n, PeakTime: s.From}
			}
		}
	}

	for _, i := range order {
		r := records[i]
		if !opt.To.IsZero() && r.Time.After(opt.To) {
			break
		}
		if !inRange && !emptyRange && (opt.From.IsZero() || !r.Time.Before(opt.From)) {
			begin()
		}
		k := key{r.Room, r.ParticipantID}
		var rs RoomSummary
		if inRange && perRoom {
			rs = s.Rooms[r.Room]
		}
		switch r.Event {
		case EventJoin:
			_, dup := open[k]
			if !dup {
				open[k] = r
				roomCount[r.Room]++
			}
			if !inRange {
				continue
			}
			s.Joins++
			rs.Joins++
			if r.ResumedFrom != "" {
				s.Resumes++
			}
			if dup {
				s.DuplicateJoins++
			}
		case EventLeave:
			j, matched := open[k]
			if matched {
				delete(open, k)
				roomCount[r.Room]--
			}
			if !inRange {
				continue
			}
			s.Leaves++
			rs.Leaves++
			reason := r.Reason
			if reason == "" {
				reason = "unknown"
			}
			s.LeavesByReason[reason]++
			if !matched {
				s.OrphanLeaves++
			}
			durations = append(durations, leaveDuration(r, j, matched))
		case EventTrackPublished, EventTrackUnpublished:
			if inRange && r.Event == EventTrackPublished {
				s.TracksPublished++
			} else if inRange {
				s.TracksUnpublished++
			}
			continue // no presence changed, so no peak to take
		default:
			if inRange {
				s.UnknownEvents++
			}
			continue
		}
		// Strictly greater, so PeakTime is the first time the peak is hit.
		if n := len(open); n > s.Peak {
			s.Peak, s.PeakTime = n, utc(r.Time)
		}
		if perRoom {
			if n := roomCount[r.Room]; n > rs.Peak {
				rs.Peak, rs.PeakTime = n, utc(r.Time)
			}
			s.Rooms[r.Room] = rs
		}
	}
	if !inRange && !emptyRange {
		begin() // no event in range: the state at From is the only moment
	}

	s.Current = len(open)
	for _, j := range open {
		s.Present = append(s.Present, Presence{Room: j.Room, ParticipantID: j.ParticipantID, Name: j.Name, Since: utc(j.Time)})
		if perRoom {
			rs := s.Rooms[j.Room]
			rs.Current++
			s.Rooms[j.Room] = rs
		}
	}
	slices.SortFunc(s.Present, func(a, b Presence) int {
		return cmp.Or(cmp.Compare(a.Room, b.Room), a.Since.Compare(b.Since), cmp.Compare(a.ParticipantID, b.ParticipantID))
	})
	s.Duration = durationStats(durations)
	s.People = s.Joins - s.Resumes
	return s
}

// leaveDuration trusts the duration the server wrote; it falls back to the
// join it closes only when the leave has none.
func leaveDuration(leave, join Record, matched bool) float64 {
	if leave.DurationSec > 0 || !matched {
		return leave.DurationSec
	}
	return max(leave.Time.Sub(join.Time).Seconds(), 0)
}

func durationStats(d []float64) DurationStats {
	if len(d) == 0 {
		return DurationStats{}
	}
	slices.Sort(d)
	// Nearest rank, ceil(p/100 * n), in integers: float p*n can land a
	// hair above a whole number and pick the next rank.
	rank := func(p int) float64 {
		i := (p*len(d)+99)/100 - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return DurationStats{Count: len(d), P50: rank(50), P90: rank(90), P99: rank(99), Max: d[len(d)-1]}
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
