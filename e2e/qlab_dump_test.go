package e2e

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// envQlabDump names a file that receives every lab sample as a JSON line
// (the subscriber's stats and, each second, the publisher's per layer),
// for reading a freeze or a slow recovery beside the server's own log.
const envQlabDump = "SWITCHYARD_QLAB_DUMP"

// qlDump writes lab samples; a nil one writes nothing.
type qlDump struct{ enc *json.Encoder }

func openQlDump(t *testing.T) *qlDump {
	path := os.Getenv(envQlabDump)
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("%s: %v", envQlabDump, err)
	}
	t.Cleanup(func() { f.Close() })
	t.Logf("lab samples go to %s", path)
	return &qlDump{enc: json.NewEncoder(f)}
}

type qlDumpLine struct {
	At       string       `json:"t"`
	Scenario string       `json:"scenario"`
	Layer    int          `json:"layer"`
	Sub      qlStats      `json:"sub"`
	Pub      []qlPubLayer `json:"pub,omitempty"`
}

func (d *qlDump) write(scenario string, s qlSampleAt, pub []qlPubLayer) {
	if d == nil {
		return
	}
	// Best effort: a failed diagnostic write must not fail the lab.
	_ = d.enc.Encode(qlDumpLine{At: time.Now().UTC().Format("15:04:05.000"), Scenario: scenario, Layer: s.layer, Sub: s.st, Pub: pub})
}
