package sessionlog

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// DefaultPath is where the server keeps its session log unless told
// otherwise.
const DefaultPath = "data/sessions.jsonl"

// cliNow is the CLI's clock, for relative --from/--to; tests replace it.
var cliNow = time.Now

// maxPresentListed caps the names the text report prints; --json has all.
const maxPresentListed = 20

// RunCLI is the "switchyard sessions" subcommand: it summarizes a session
// log. args exclude the subcommand name. It only reads the log, so it is
// safe to run against a live server's file. It returns the exit code: 0
// on success, 1 if the log can't be read, 2 for bad usage.
func RunCLI(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("switchyard sessions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("log", DefaultPath, "session log `file` (its rotated FILE.000001, … are read first)")
	fromArg := fs.String("from", "", "start of range: RFC 3339 time, or a duration like 24h meaning that long before now (default: start of log)")
	toArg := fs.String("to", "", "end of range: RFC 3339 time or a duration before now (default: end of log)")
	room := fs.String("room", "", "only this room (default: all rooms)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: switchyard sessions [flags]\n\nSummarizes who joined and left, and why, from the session log.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // flag has printed the error and usage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "switchyard sessions: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q (all options are flags)", fs.Arg(0))
	}
	if *path == "" {
		return usage("--log must not be empty")
	}
	now := cliNow()
	from, err := parseWhen(*fromArg, now)
	if err != nil {
		return usage("bad --from: %v", err)
	}
	to, err := parseWhen(*toArg, now)
	if err != nil {
		return usage("bad --to: %v", err)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return usage("--to (%s) is before --from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}

	records, skipped, err := ReadAll(*path) // every rotated segment, then the live file
	if err != nil {
		fmt.Fprintf(stderr, "switchyard sessions: %v\n", err)
		return 1
	}
	s := Summarize(records, SummaryOptions{From: from, To: to, Room: *room})
	s.SkippedLines = skipped

	if *asJSON {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "switchyard sessions: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	writeReport(stdout, *path, s)
	return 0
}

// parseWhen reads an RFC 3339 time or a non-negative duration meaning
// "that long before now". Empty means unbounded (zero time).
func parseWhen(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2006-01-02T15:04:05Z) nor a duration (24h, 90m)", v)
	}
	if d < 0 {
		return time.Time{}, fmt.Errorf("duration %q is negative; give how long ago, like 24h", v)
	}
	return now.Add(-d).UTC(), nil
}

func writeReport(out io.Writer, path string, s Summary) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	bound := func(t time.Time, none string) string {
		if t.IsZero() {
			return none
		}
		return ts(t)
	}
	fmt.Fprintf(tw, "log\t%s\n", path)
	fmt.Fprintf(tw, "range\t%s .. %s\n", bound(s.From, "start of log"), bound(s.To, "end of log"))
	room := s.Room
	if room == "" {
		room = "(all)"
	}
	fmt.Fprintf(tw, "room\t%s\n", room)
	fmt.Fprintf(tw, "current\t%d\n", s.Current)
	for i, p := range s.Present {
		if i == maxPresentListed {
			fmt.Fprintf(tw, "\t  ... and %d more\n", len(s.Present)-i)
			break
		}
		fmt.Fprintf(tw, "\t  %s\t%s\t%s\tsince %s\n", p.Room, p.ParticipantID, p.Name, ts(p.Since))
	}
	if s.Peak > 0 {
		fmt.Fprintf(tw, "peak\t%d at %s\n", s.Peak, ts(s.PeakTime))
	} else {
		fmt.Fprintf(tw, "peak\t0\n")
	}
	fmt.Fprintf(tw, "joins\t%d\n", s.Joins)
	if s.Resumes > 0 {
		// Sessions and people differ only when someone reconnected.
		fmt.Fprintf(tw, "people\t%d (%d joins resumed an earlier session)\n", s.People, s.Resumes)
	}
	fmt.Fprintf(tw, "leaves\t%d\n", s.Leaves)
	// Most common reason first; ties by name so the output is stable.
	reasons := make([]string, 0, len(s.LeavesByReason))
	for r := range s.LeavesByReason {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		return cmp.Or(cmp.Compare(s.LeavesByReason[b], s.LeavesByReason[a]), cmp.Compare(a, b))
	})
	for _, r := range reasons {
		fmt.Fprintf(tw, "\t  %s\t%d\n", r, s.LeavesByReason[r])
	}
	if s.TracksPublished+s.TracksUnpublished > 0 {
		fmt.Fprintf(tw, "tracks\t%d published, %d unpublished while their participant stayed\n", s.TracksPublished, s.TracksUnpublished)
	}
	if d := s.Duration; d.Count > 0 {
		fmt.Fprintf(tw, "duration\tp50 %s  p90 %s  p99 %s  max %s  (%d sessions ended)\n",
			fmtSec(d.P50), fmtSec(d.P90), fmtSec(d.P99), fmtSec(d.Max), d.Count)
	} else {
		fmt.Fprintf(tw, "duration\t(no sessions ended)\n")
	}
	if len(s.Rooms) > 0 {
		names := make([]string, 0, len(s.Rooms))
		for n := range s.Rooms {
			names = append(names, n)
		}
		slices.Sort(names)
		fmt.Fprintf(tw, "rooms\t%d\n", len(names))
		for _, n := range names {
			r := s.Rooms[n]
			peak := "peak 0"
			if r.Peak > 0 {
				peak = fmt.Sprintf("peak %d at %s", r.Peak, ts(r.PeakTime))
			}
			fmt.Fprintf(tw, "\t  %s\tcurrent %d\t%s\tjoins %d\tleaves %d\n", n, r.Current, peak, r.Joins, r.Leaves)
		}
	}
	var anomalies []string
	for _, a := range []struct {
		n    int
		what string
	}{{s.DuplicateJoins, "duplicate joins"}, {s.OrphanLeaves, "leaves without a join"}, {s.UnknownEvents, "unknown events"}} {
		if a.n > 0 {
			anomalies = append(anomalies, fmt.Sprintf("%d %s", a.n, a.what))
		}
	}
	if len(anomalies) > 0 {
		fmt.Fprintf(tw, "anomalies\t%s\n", strings.Join(anomalies, ", "))
	}
	fmt.Fprintf(tw, "skipped lines\t%d (torn or unparseable)\n", s.SkippedLines)
	tw.Flush()
}

// fmtSec prints seconds as a duration, to the millisecond below a minute
// and to the second above, which is all the precision a human wants here.
func fmtSec(sec float64) string {
	d := secondsToDuration(sec)
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
