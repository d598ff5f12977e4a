package sessionlog

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestSummarizeCountsPeopleAndSessions: a participant who drops and
// resumes is two sessions but one person; the CLI shows both counts.
func TestSummarizeCountsPeopleAndSessions(t *testing.T) {
	resumed := join(70, "a", "A2")
	resumed.ResumedFrom = "A"
	again := join(200, "a", "A3")
	again.ResumedFrom = "A2"
	records := []Record{
		join(0, "a", "A"),
		join(10, "a", "B"),
		leave(60, "a", "A", "socket-closed", 60),
		resumed,
		leave(190, "a", "A2", "leave", 120),
		again,
	}
	s := Summarize(records, SummaryOptions{})
	if s.Joins != 4 || s.Resumes != 2 || s.People != 2 {
		t.Errorf("joins %d, resumes %d, people %d; want 4, 2, 2", s.Joins, s.Resumes, s.People)
	}
	if s.Current != 2 {
		t.Errorf("current %d, want 2 (B and A3)", s.Current)
	}

	// The field survives the file format.
	data, err := json.Marshal(resumed)
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(data, &back); err != nil || back.ResumedFrom != "A" {
		t.Errorf("round trip: %s → %+v, %v", data, back, err)
	}
	if !bytes.Contains(data, []byte(`"resumed_from":"A"`)) {
		t.Errorf("record %s lacks resumed_from", data)
	}
	plain, _ := json.Marshal(join(0, "a", "A"))
	if bytes.Contains(plain, []byte("resumed_from")) {
		t.Errorf("a fresh join writes resumed_from: %s", plain)
	}

	var out strings.Builder
	writeReport(&out, "x.jsonl", s)
	if !strings.Contains(out.String(), "people") || !strings.Contains(out.String(), "2 joins resumed") {
		t.Errorf("text report lacks the people line:\n%s", out.String())
	}
}
