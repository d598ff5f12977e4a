package sessionlog

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// base is a day in four sessions, minutes from t0:
//
//	a/A  0 ---------- 5                 leave
//	a/B     1 ---------- 6              ping-timeout
//	b/C        2 ------------- 8        tab-closed
//	a/D                 5 ------------ 10 server-shutdown
//
// A's leave is written before D's join at minute 5, so they never overlap.
func base() []Record {
	m := func(minutes float64) float64 { return minutes * 60 }
	return []Record{
		join(m(0), "a", "A"),
		join(m(1), "a", "B"),
		join(m(2), "b", "C"),
		leave(m(5), "a", "A", "leave", 300),
		join(m(5), "a", "D"),
		leave(m(6), "a", "B", "ping-timeout", 300),
		leave(m(8), "b", "C", "tab-closed", 360),
		leave(m(10), "a", "D", "server-shutdown", 300),
	}
}

func TestSummarize(t *testing.T) {
	minute := func(m float64) time.Time { return at(m * 60) }
	type want struct {
		current        int
		present        []string // participant ids, in Present order
		peak           int
		peakAt         time.Time
		joins, leaves  int
		reasons        map[string]int
		dur            DurationStats
		rooms          map[string]RoomSummary // checked when not nil
		dup, orphan    int
		unknownEvents  int
		checkNoRoomMap bool
	}
	swapped := base()
	swapped[3], swapped[4] = swapped[4], swapped[3] // D's join written before A's leave
	shuffled := base()
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	// Shuffling may put A's leave after D's join, which changes the answer;
	// sort the minute-5 pair back into the base order to isolate sorting.
	i3, i4 := slices.IndexFunc(shuffled, func(r Record) bool { return r.ParticipantID == "A" && r.Event == EventLeave }),
		slices.IndexFunc(shuffled, func(r Record) bool { return r.ParticipantID == "D" && r.Event == EventJoin })
	if i3 > i4 {
		shuffled[i3], shuffled[i4] = shuffled[i4], shuffled[i3]
	}
	allReasons := map[string]int{"leave": 1, "ping-timeout": 1, "tab-closed": 1, "server-shutdown": 1}
	allDur := DurationStats{Count: 4, P50: 300, P90: 360, P99: 360, Max: 360}

	cases := []struct {
		name    string
		records []Record
		opt     SummaryOptions
		want    want
	}{
		{
			name: "whole log", records: base(),
			want: want{peak: 3, peakAt: minute(2), joins: 4, leaves: 4, reasons: allReasons, dur: allDur, present: []string{},
				rooms: map[string]RoomSummary{
					"a": {Peak: 2, PeakTime: minute(1), Joins: 3, Leaves: 3},
					"b": {Peak: 1, PeakTime: minute(2), Joins: 1, Leaves: 1},
				}},
		},
		{
			name: "same-instant join before leave overlaps", records: swapped,
			want: want{peak: 4, peakAt: minute(5), joins: 4, leaves: 4, reasons: allReasons, dur: allDur,
				rooms: map[string]RoomSummary{
					"a": {Peak: 3, PeakTime: minute(5), Joins: 3, Leaves: 3},
					"b": {Peak: 1, PeakTime: minute(2), Joins: 1, Leaves: 1},
				}},
		},
		{
			name: "file order not time order", records: shuffled,
			want: want{peak: 3, peakAt: minute(2), joins: 4, leaves: 4, reasons: allReasons, dur: allDur},
		},
		{
			name: "sessions open at From count at From", records: base(), opt: SummaryOptions{From: minute(3)},
			want: want{peak: 3, peakAt: minute(3), joins: 1, leaves: 4, reasons: allReasons, dur: allDur,
				rooms: map[string]RoomSummary{
					"a": {Peak: 2, PeakTime: minute(3), Joins: 1, Leaves: 3},
					"b": {Peak: 1, PeakTime: minute(3), Joins: 0, Leaves: 1},
				}},
		},
		{
			name: "From and To inside", records: base(), opt: SummaryOptions{From: minute(3), To: minute(6)},
			want: want{current: 2, present: []string{"D", "C"}, peak: 3, peakAt: minute(3), joins: 1, leaves: 2,
				reasons: map[string]int{"leave": 1, "ping-timeout": 1},
				dur:     DurationStats{Count: 2, P50: 300, P90: 300, P99: 300, Max: 300},
				rooms: map[string]RoomSummary{
					"a": {Current: 1, Peak: 2, PeakTime: minute(3), Joins: 1, Leaves: 2},
					"b": {Current: 1, Peak: 1, PeakTime: minute(3)},
				}},
		},
		{
			// Bounds are inclusive: the join at minute 2 is in range and
			// lifts the count from the 2 present at From.
			name: "From on an event", records: base(), opt: SummaryOptions{From: minute(2), To: minute(2)},
			want: want{current: 3, present: []string{"A", "B", "C"}, peak: 3, peakAt: minute(2), joins: 1, reasons: map[string]int{}},
		},
		{
			name: "To on the first event", records: base(), opt: SummaryOptions{To: minute(0)},
			want: want{current: 1, present: []string{"A"}, peak: 1, peakAt: minute(0), joins: 1, reasons: map[string]int{}},
		},
		{
			name: "range after the log", records: base(), opt: SummaryOptions{From: minute(20)},
			want: want{reasons: map[string]int{}, rooms: map[string]RoomSummary{}},
		},
		{
			name: "range before the log", records: base(), opt: SummaryOptions{To: minute(-1)},
			want: want{reasons: map[string]int{}},
		},
		{
			name: "To before From is empty", records: base(), opt: SummaryOptions{From: minute(6), To: minute(3)},
			want: want{current: 3, present: []string{"A", "B", "C"}, reasons: map[string]int{}},
		},
		{
			name: "one room", records: base(), opt: SummaryOptions{Room: "a"},
			want: want{peak: 2, peakAt: minute(1), joins: 3, leaves: 3,
				reasons:        map[string]int{"leave": 1, "ping-timeout": 1, "server-shutdown": 1},
				dur:            DurationStats{Count: 3, P50: 300, P90: 300, P99: 300, Max: 300},
				checkNoRoomMap: true},
		},
		{
			name: "one room, sessions open at From", records: base(), opt: SummaryOptions{Room: "b", From: minute(7), To: minute(9)},
			want: want{peak: 1, peakAt: minute(7), leaves: 1, reasons: map[string]int{"tab-closed": 1},
				dur: DurationStats{Count: 1, P50: 360, P90: 360, P99: 360, Max: 360}, checkNoRoomMap: true},
		},
		{
			name: "id that rejoins is two sessions",
			records: []Record{
				join(0, "a", "p"), leave(10, "a", "p", "switched-room", 10),
				join(10, "a", "p"), join(20, "a", "q"), leave(30, "a", "p", "leave", 20),
			},
			want: want{current: 1, present: []string{"q"}, peak: 2, peakAt: at(20), joins: 3, leaves: 2,
				reasons: map[string]int{"switched-room": 1, "leave": 1},
				dur:     DurationStats{Count: 2, P50: 10, P90: 20, P99: 20, Max: 20}},
		},
		{
			name: "same id in two rooms at once",
			records: []Record{
				join(0, "a", "p"), join(1, "b", "p"), leave(2, "a", "p", "leave", 2),
			},
			want: want{current: 1, present: []string{"p"}, peak: 2, peakAt: at(1), joins: 2, leaves: 1,
				reasons: map[string]int{"leave": 1}, dur: DurationStats{Count: 1, P50: 2, P90: 2, P99: 2, Max: 2}},
		},
		{
			name: "duplicate join and orphan leave change no presence",
			records: []Record{
				join(0, "a", "p"), join(5, "a", "p"), leave(10, "a", "p", "leave", 0),
				leave(11, "a", "p", "kicked", 4), leave(12, "a", "ghost", "leave", 0),
				{Time: at(13), Event: "heartbeat", Room: "a", ParticipantID: "p"},
			},
			want: want{peak: 1, peakAt: at(0), joins: 2, leaves: 3,
				reasons: map[string]int{"leave": 2, "kicked": 1},
				// p's leave has no duration: from its (first) join, 10s.
				dur: DurationStats{Count: 3, P50: 4, P90: 10, P99: 10, Max: 10},
				dup: 1, orphan: 2, unknownEvents: 1},
		},
		{
			name: "leave without reason",
			records: []Record{
				join(0, "a", "p"), {Time: at(1), Event: EventLeave, Room: "a", ParticipantID: "p"},
			},
			want: want{peak: 1, peakAt: at(0), joins: 1, leaves: 1, reasons: map[string]int{"unknown": 1},
				dur: DurationStats{Count: 1, P50: 1, P90: 1, P99: 1, Max: 1}},
		},
		{
			name: "zero-length session still counts",
			records: []Record{
				join(0, "a", "p"), join(5, "a", "q"), leave(5, "a", "q", "pc-failed", 0),
			},
			want: want{current: 1, present: []string{"p"}, peak: 2, peakAt: at(5), joins: 2, leaves: 1,
				reasons: map[string]int{"pc-failed": 1}, dur: DurationStats{Count: 1}},
		},
		{
			name: "percentiles are nearest rank",
			records: func() []Record {
				var rs []Record
				for i := 1; i <= 100; i++ {
					id := fmt.Sprint(i)
					rs = append(rs, join(0, "a", id), leave(float64(i), "a", id, "leave", float64(i)))
				}
				return rs
			}(),
			want: want{peak: 100, peakAt: at(0), joins: 100, leaves: 100, reasons: map[string]int{"leave": 100},
				dur: DurationStats{Count: 100, P50: 50, P90: 90, P99: 99, Max: 100}},
		},
		{
			name: "empty log", records: nil,
			want: want{reasons: map[string]int{}, present: []string{}, rooms: map[string]RoomSummary{}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Summarize(c.records, c.opt)
			w := c.want
			if s.Current != w.current || s.Peak != w.peak || !s.PeakTime.Equal(w.peakAt) {
				t.Errorf("current %d, peak %d at %v; want %d, %d at %v", s.Current, s.Peak, s.PeakTime, w.current, w.peak, w.peakAt)
			}
			if s.Joins != w.joins || s.Leaves != w.leaves {
				t.Errorf("joins %d, leaves %d; want %d, %d", s.Joins, s.Leaves, w.joins, w.leaves)
			}
			if w.reasons != nil && !maps.Equal(s.LeavesByReason, w.reasons) {
				t.Errorf("leaves by reason %v, want %v", s.LeavesByReason, w.reasons)
			}
			if s.Duration != w.dur {
				t.Errorf("durations %+v, want %+v", s.Duration, w.dur)
			}
			if s.DuplicateJoins != w.dup || s.OrphanLeaves != w.orphan || s.UnknownEvents != w.unknownEvents {
				t.Errorf("anomalies dup %d orphan %d unknown %d; want %d %d %d", s.DuplicateJoins, s.OrphanLeaves, s.UnknownEvents, w.dup, w.orphan, w.unknownEvents)
			}
			if w.present != nil {
				ids := []string{}
				for _, p := range s.Present {
					ids = append(ids, p.ParticipantID)
				}
				if !slices.Equal(ids, w.present) {
					t.Errorf("present %v, want %v", ids, w.present)
				}
			}
			if len(s.Present) != s.Current {
				t.Errorf("%d present listed, current %d", len(s.Present), s.Current)
			}
			if w.rooms != nil && !reflect.DeepEqual(s.Rooms, w.rooms) {
				t.Errorf("rooms:\n got %+v\nwant %+v", s.Rooms, w.rooms)
			}
			if w.checkNoRoomMap && s.Rooms != nil {
				t.Errorf("per-room figures for a one-room summary: %v", s.Rooms)
			}
		})
	}
}

// TestSummarizePeakProperty checks the sweep against a brute-force count
// of open sessions at every moment, on random logs with many same-second
// events in random file order.
func TestSummarizePeakProperty(t *testing.T) {
	rooms := []string{"r0", "r1", "r2"}
	iterations := 60
	if testing.Short() {
		iterations = 10
	}
	for iter := range iterations {
		seed := uint64(iter)
		rng := rand.New(rand.NewPCG(seed, 99))
		records, sessions := randomLog(rng, 150+rng.IntN(200), rooms)
		opt := SummaryOptions{}
		// A third unbounded, else whole seconds inside the window, so the
		// bounds land on event times often.
		if rng.IntN(3) > 0 {
			opt.From = at(float64(rng.IntN(240)) - 20)
		}
		if rng.IntN(3) > 0 {
			opt.To = at(float64(rng.IntN(240)) - 20)
			if !opt.From.IsZero() && opt.To.Before(opt.From) {
				opt.From, opt.To = opt.To, opt.From
			}
		}

		s := Summarize(records, opt)
		peak, peakAt, current := bruteForce(sessions, "", opt)
		if s.Peak != peak || !s.PeakTime.Equal(peakAt) || s.Current != current {
			t.Fatalf("seed %d, %+v: sweep peak %d at %v, current %d; brute force %d at %v, current %d",
				seed, opt, s.Peak, s.PeakTime, s.Current, peak, peakAt, current)
		}
		for _, room := range rooms {
			peak, peakAt, current := bruteForce(sessions, room, opt)
			rs := s.Rooms[room]
			if rs.Peak != peak || !rs.PeakTime.Equal(peakAt) || rs.Current != current {
				t.Fatalf("seed %d, %+v, room %s: per-room peak %d at %v, current %d; brute force %d at %v, current %d",
					seed, opt, room, rs.Peak, rs.PeakTime, rs.Current, peak, peakAt, current)
			}
			o := opt
			o.Room = room
			if one := Summarize(records, o); one.Peak != peak || !one.PeakTime.Equal(peakAt) || one.Current != current {
				t.Fatalf("seed %d, %+v: peak %d at %v, current %d; brute force %d at %v, current %d",
					seed, o, one.Peak, one.PeakTime, one.Current, peak, peakAt, current)
			}
		}
	}
}

// event is a record's time and its position in the file.
type event struct {
	t   time.Time
	pos int
}

// notAfter reports whether a is replayed no later than b: earlier time,
// or same time and not later in the file.
func (a event) notAfter(b event) bool {
	return a.t.Before(b.t) || (a.t.Equal(b.t) && a.pos <= b.pos)
}

type session struct {
	room        string
	join, leave event
	left        bool
}

// randomLog makes sessions with unique ids on a 200-second grid, so many
// events share a time, and writes them in a random file order in which
// each session's join still precedes its leave.
func randomLog(rng *rand.Rand, n int, rooms []string) ([]Record, []session) {
	type ev struct {
		r       Record
		session int
	}
	var evs []ev
	sessions := make([]session, n)
	for i := range sessions {
		room := rooms[rng.IntN(len(rooms))]
		id := fmt.Sprintf("s%d", i)
		start := float64(rng.IntN(200))
		sessions[i].room = room
		evs = append(evs, ev{join(start, room, id), i})
		if rng.IntN(5) > 0 {
			end := start + float64(rng.IntN(40))
			evs = append(evs, ev{leave(end, room, id, "leave", end-start), i})
			sessions[i].left = true
		}
	}
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	joinPos := map[int]int{}
	for i, e := range evs {
		if e.r.Event == EventJoin {
			joinPos[e.session] = i
		}
	}
	for i, e := range evs {
		if j := joinPos[e.session]; e.r.Event == EventLeave && j > i {
			evs[i], evs[j] = evs[j], evs[i]
		}
	}
	records := make([]Record, len(evs))
	for i, e := range evs {
		records[i] = e.r
		s := &sessions[e.session]
		if e.r.Event == EventJoin {
			s.join = event{e.r.Time, i}
		} else {
			s.leave = event{e.r.Time, i}
		}
	}
	return records, sessions
}

// bruteForce counts, for the moment at From and the moment after every
// event in range, how many sessions of room ("" = all) are open, straight
// from the definition, and returns the maximum, the time it was first
// reached, and the number open at To (or at the end).
func bruteForce(sessions []session, room string, opt SummaryOptions) (peak int, peakAt time.Time, current int) {
	var mine []session
	for _, s := range sessions {
		if room == "" || s.room == room {
			mine = append(mine, s)
		}
	}
	var peakEv *event // nil while the peak is the From moment
	if !opt.From.IsZero() {
		for _, s := range mine {
			if s.join.t.Before(opt.From) && !(s.left && s.leave.t.Before(opt.From)) {
				peak++
			}
		}
		if peak > 0 {
			peakAt = opt.From
		}
	}
	inRange := func(t time.Time) bool {
		return (opt.From.IsZero() || !t.Before(opt.From)) && (opt.To.IsZero() || !t.After(opt.To))
	}
	var moments []event
	for _, s := range mine {
		moments = append(moments, s.join)
		if s.left {
			moments = append(moments, s.leave)
		}
	}
	for _, m := range moments {
		if !inRange(m.t) {
			continue
		}
		n := 0
		for _, s := range mine {
			if s.join.notAfter(m) && !(s.left && s.leave.notAfter(m)) {
				n++
			}
		}
		if n > peak || (n == peak && n > 0 && peakEv != nil && m.notAfter(*peakEv)) {
			peak, peakAt, peakEv = n, m.t, &m
		}
	}
	for _, s := range mine {
		if (opt.To.IsZero() || !s.join.t.After(opt.To)) && !(s.left && (opt.To.IsZero() || !s.leave.t.After(opt.To))) {
			current++
		}
	}
	return peak, peakAt, current
}
