package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// transcriptLine is one message of docs/protocol.md's example transcript.
type transcriptLine struct {
	who      string // "Ann" or "Bob"
	toServer bool
	raw      string
}

// readTranscript parses the example transcript's messages, joining the
// indented continuation lines of long ones.
func readTranscript(t *testing.T) []transcriptLine {
	t.Helper()
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Example transcript\n")
	if !ok {
		t.Fatal(`docs/protocol.md has no "## Example transcript"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var lines []transcriptLine
	for line := range strings.Lines(section) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "       ") && len(lines) > 0 {
			lines[len(lines)-1].raw += strings.TrimSpace(line)
			continue
		}
		who, rest, ok := strings.Cut(line, " ")
		if !ok || (who != "Ann" && who != "Bob") {
			continue
		}
		arrow, body, _ := strings.Cut(rest, " ")
		if arrow != "→" && arrow != "←" {
			continue
		}
		lines = append(lines, transcriptLine{who: who, toServer: arrow == "→", raw: body})
	}
	if len(lines) < 20 {
		t.Fatalf("read only %d transcript messages: the format changed", len(lines))
	}
	return lines
}

// shape describes a JSON value's structure: object keys, value kinds,
// and the shape of an array's first element, but no values.
func shape(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + shape(v[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + shape(v[0]) + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// key names a message by its type and, where it has one, its pc.
func key(v map[string]any) string {
	k, _ := v["type"].(string)
	if pc, ok := v["pc"].(string); ok {
		k += "/" + pc
	}
	return k
}

// TestTranscriptMatchesTheRealServer plays the document's example session
// against the real server. Every message the document shows the server
// sending must have the shape of one the server really sent to that
// person (same keys, same kinds of values), every message it shows a
// client sending must decode into the server's own structs with no field
// unknown, and every kind of message the server sent must appear in it.
func TestTranscriptMatchesTheRealServer(t *testing.T) {
	doc := readTranscript(t)

	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	ann, ja := h.joined(ctx, "r1", "Ann")
	defer publishMedia(ctx, t, ann, ja.ParticipantID)()
	if _, _, err := ann.WaitType(ctx, 0, signal.TypePublished); err != nil {
		t.Fatal(err)
	}
	bob, jb := h.joined(ctx, "r1", "Bob")
	collect(ctx, t, jb.ParticipantID, bob, atLeast(5, ja.ParticipantID))
	defer publishMedia(ctx, t, bob, jb.ParticipantID)()
	collect(ctx, t, ja.ParticipantID, ann, atLeast(5, jb.ParticipantID))

	from := len(ann.Messages())
	if err := ann.Send(signal.SDP{Type: signal.TypeAnswer, PC: signal.PCSubscribe, SDP: "v=0\r\n"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ann.WaitType(ctx, from, signal.TypeError); err != nil {
		t.Fatal(err)
	}
	from = len(ann.Messages())
	if err := bob.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := bob.WaitType(ctx, 0, signal.TypeLeft); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ann.WaitFor(ctx, from, func(m testclient.Message) bool {
		return m.Type == signal.TypeOffer && bytes.Contains(m.Raw, []byte(`"subscribe"`))
	}); err != nil {
		t.Fatal(err)
	}

	real := map[string]map[string][]string{} // who → message key → shapes
	for who, c := range map[string]*testclient.Client{"Ann": ann, "Bob": bob} {
		real[who] = map[string][]string{}
		for _, m := range c.Messages() {
			var v map[string]any
			if json.Unmarshal(m.Raw, &v) != nil {
				continue // the client's own socket-closed marker
			}
			real[who][key(v)] = append(real[who][key(v)], shape(v))
		}
	}

	documented := map[string]bool{}
	for _, line := range doc {
		var v map[string]any
		if err := json.Unmarshal([]byte(line.raw), &v); err != nil {
			t.Errorf("%s: not JSON: %v\n%s", line.who, err, line.raw)
			continue
		}
		if line.toServer {
			checkClientMessage(t, line)
			continue
		}
		documented[key(v)] = true
		if got := real[line.who][key(v)]; !slices.Contains(got, shape(v)) {
			t.Errorf("%s ← %s: the document shows\n  %s\nthe server sent\n  %s", line.who, key(v), shape(v), strings.Join(got, "\n  "))
		}
	}
	for _, who := range []string{"Ann", "Bob"} {
		for k := range real[who] {
			if !documented[k] {
				t.Errorf("the server sent %s %s, which the transcript never shows", who, k)
			}
		}
	}
}

// checkClientMessage decodes a client's message of the transcript into
// the struct the server reads it with, refusing unknown fields.
func checkClientMessage(t *testing.T, line transcriptLine) {
	t.Helper()
	var env signal.Envelope
	if err := json.Unmarshal([]byte(line.raw), &env); err != nil {
		t.Errorf("%s →: %v", line.who, err)
		return
	}
	into := map[string]any{
		signal.TypeJoin:      &signal.Join{},
		signal.TypeOffer:     &signal.SDP{},
		signal.TypeAnswer:    &signal.SDP{},
		signal.TypeCandidate: &signal.Candidate{},
		signal.TypeLeave:     &signal.Leave{},
	}[env.Type]
	if into == nil {
		t.Errorf("%s → %s: the test has no struct for this type", line.who, env.Type)
		return
	}
	dec := json.NewDecoder(strings.NewReader(line.raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Errorf("%s → %s: %v\n%s", line.who, env.Type, err, line.raw)
	}
}
