package sessionlog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixture is base() plus a session still open, a second ping-timeout (so
// reasons sort by count, not name) and a torn last line.
func writeFixture(t *testing.T) string {
	t.Helper()
	recs := append(base(), join(11*60, "b", "E"), join(12*60, "c", "F"), leave(13*60, "c", "F", "ping-timeout", 60))
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	content := append(encodeLines(t, recs...), `{"time":"2024-05-01T10:12:00.000000000Z","event":"le`...)
	if err := os.WriteFile(path, content, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = RunCLI(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIText(t *testing.T) {
	path := writeFixture(t)
	code, out, errOut := runCLI("--log", path)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := strings.ReplaceAll(`log            PATH
range          start of log .. end of log
room           (all)
current        1
                 b  E  name-E  since 2024-05-01T10:11:00Z
peak           3 at 2024-05-01T10:02:00Z
joins          6
leaves         5
                 ping-timeout     2
                 leave            1
                 server-shutdown  1
                 tab-closed       1
duration       p50 5m0s  p90 6m0s  p99 6m0s  max 6m0s  (5 sessions ended)
rooms          3
                 a  current 0  peak 2 at 2024-05-01T10:01:00Z  joins 3  leaves 3
                 b  current 1  peak 1 at 2024-05-01T10:02:00Z  joins 2  leaves 1
                 c  current 0  peak 1 at 2024-05-01T10:12:00Z  joins 1  leaves 1
skipped lines  1 (torn or unparseable)
`, "PATH", path)
	if out != want {
		t.Errorf("report:\n%s\nwant:\n%s", out, want)
	}
}

func TestCLITextRangeAndRoom(t *testing.T) {
	path := writeFixture(t)
	code, out, errOut := runCLI("--log", path, "--room", "a", "--from", "2024-05-01T10:03:00Z", "--to", "2024-05-01T10:05:30Z")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"range          2024-05-01T10:03:00Z .. 2024-05-01T10:05:30Z\n",
		"room           a\n",
		"current        2\n",
		"peak           2 at 2024-05-01T10:03:00Z\n",
		"joins          1\n",
		"leaves         1\n",
		"duration       p50 5m0s  p90 5m0s  p99 5m0s  max 5m0s  (1 sessions ended)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "rooms") {
		t.Errorf("one-room report lists rooms:\n%s", out)
	}
}

func TestCLIJSON(t *testing.T) {
	path := writeFixture(t)
	code, out, errOut := runCLI("--log", path, "--json", "--from", "2024-05-01T10:03:00Z")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// Field names are an interface: check the raw keys, not only a
	// round trip through the same struct.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"from", "current", "present", "peak", "peak_time", "joins", "leaves", "leaves_by_reason",
		"duration_s", "rooms", "duplicate_joins", "orphan_leaves", "unknown_events", "skipped_lines"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q:\n%s", k, out)
		}
	}
	if _, ok := raw["to"]; ok {
		t.Errorf("unbounded --to should be omitted:\n%s", out)
	}
	var got Summary
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	records, _ := readT(t, path)
	want := Summarize(records, SummaryOptions{From: time.Date(2024, 5, 1, 10, 3, 0, 0, time.UTC)})
	want.SkippedLines = 1
	wantJSON, _ := json.MarshalIndent(want, "", "  ")
	if out != string(wantJSON)+"\n" {
		t.Errorf("JSON:\n%s\nwant:\n%s", out, wantJSON)
	}
	if got.Peak != 3 || !got.PeakTime.Equal(at(180)) || got.Current != 1 || got.SkippedLines != 1 || got.Joins != 3 ||
		got.Duration.P90 != 360 || got.LeavesByReason["tab-closed"] != 1 || got.Rooms["b"].Current != 1 {
		t.Errorf("decoded summary wrong: %+v", got)
	}
}

func TestCLIRelativeTimes(t *testing.T) {
	path := writeFixture(t)
	defer func(f func() time.Time) { cliNow = f }(cliNow)
	cliNow = fixedNow(at(24*3600 + 9*60)) // a day and nine minutes after t0
	code, out, errOut := runCLI("--log", path, "--json", "--from", "24h", "--to", "0s")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got Summary
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if !got.From.Equal(at(9*60)) || !got.To.Equal(cliNow()) {
		t.Errorf("range %v .. %v, want %v .. %v", got.From, got.To, at(9*60), cliNow())
	}
	if got.Peak != 2 || !got.PeakTime.Equal(at(12*60)) || got.Leaves != 2 || got.Joins != 2 || got.Current != 1 {
		t.Errorf("summary from 10:09: peak %d at %v, joins %d, leaves %d, current %d; want 2 at 10:12, 2, 2, 1",
			got.Peak, got.PeakTime, got.Joins, got.Leaves, got.Current)
	}
}

func TestCLIErrors(t *testing.T) {
	path := writeFixture(t)
	cases := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"unknown flag", []string{"--log", path, "--verbose"}, 2, "flag provided but not defined: -verbose"},
		{"bad from", []string{"--log", path, "--from", "yesterday"}, 2, `bad --from: "yesterday" is neither`},
		{"date without time", []string{"--log", path, "--to", "2024-05-01"}, 2, "bad --to"},
		{"negative duration", []string{"--log", path, "--from", "-2h"}, 2, "negative"},
		{"to before from", []string{"--log", path, "--from", "2024-05-02T00:00:00Z", "--to", "2024-05-01T00:00:00Z"}, 2, "is before --from"},
		{"positional argument", []string{"--log", path, "extra"}, 2, `unexpected argument "extra"`},
		{"empty log path", []string{"--log", ""}, 2, "--log must not be empty"},
		{"bool flag with value", []string{"--log", path, "--json=maybe"}, 2, "invalid boolean value"},
		{"missing file", []string{"--log", filepath.Join(t.TempDir(), "nope.jsonl")}, 1, "no such file"},
		{"directory", []string{"--log", t.TempDir()}, 1, "is a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(c.args...)
			if code != c.code || !strings.Contains(errOut, c.message) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut, c.code, c.message)
			}
			if out != "" {
				t.Errorf("stdout %q on error, want nothing", out)
			}
		})
	}
	if code, _, errOut := runCLI("-h"); code != 0 || !strings.Contains(errOut, "usage: switchyard sessions") {
		t.Errorf("-h: exit %d, stderr %q", code, errOut)
	}
}
