package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envQlabDump names a file that receives every lab sample as a JSON line
// (the subscriber's stats and, each second, the publisher's per layer),
// for reading a freeze or a slow recovery beside the server's own log.
const envQlabDump = "SWITCHYARD_QLAB_DUMP"

// envQlabChromiumLog names a file that receives the subscriber's whole
// Chromium log, with WebRTC's receive path (packet buffer, frame
// reference finder, frame buffer, SRTP) at verbose level 1: what a
// decoder that stops with no packet lost was waiting for.
const envQlabChromiumLog = "SWITCHYARD_QLAB_CHROMIUM_LOG"

// qlChromiumLog returns the subscriber's extra flags and log writer, or
// nothing when envQlabChromiumLog is unset.
func qlChromiumLog(t *testing.T) ([]string, io.Writer) {
	f := createFromEnv(t, envQlabChromiumLog)
	if f == nil {
		return nil, nil
	}
	return []string{"--enable-logging=stderr", "--vmodule=*video_coding*=1,*rtp_video_stream_receiver*=1,*srtp*=1,*video_receive_stream*=1,*rtp_vp8*=1"}, f
}

// createFromEnv creates the file env names, closed when t ends; nil when
// env is unset.
func createFromEnv(t *testing.T, env string) *os.File {
	path := os.Getenv(env)
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// qlDump writes lab samples; a nil one writes nothing.
type qlDump struct {
	enc     *json.Encoder
	metrics string // the server's /metrics URL
}

func openQlDump(t *testing.T, metricsURL string) *qlDump {
	f := createFromEnv(t, envQlabDump)
	if f == nil {
		return nil
	}
	t.Logf("lab samples go to %s", f.Name())
	return &qlDump{enc: json.NewEncoder(f), metrics: metricsURL}
}

type qlDumpLine struct {
	At       string       `json:"t"`
	Scenario string       `json:"scenario"`
	Layer    int          `json:"layer"`
	Sub      qlStats      `json:"sub"`
	Pub      []qlPubLayer `json:"pub,omitempty"`
	// Server is the server's RTP and probe counters, with the publisher's.
	Server map[string]float64 `json:"srv,omitempty"`
}

func (d *qlDump) write(scenario string, s qlSampleAt, pub []qlPubLayer) {
	if d == nil {
		return
	}
	// Best effort: a failed diagnostic write must not fail the lab.
	line := qlDumpLine{At: time.Now().UTC().Format("15:04:05.000"), Scenario: scenario, Layer: s.layer, Sub: s.st, Pub: pub}
	if pub != nil {
		line.Server = d.serverCounters()
	}
	_ = d.enc.Encode(line)
}

// serverCounters reads the unlabelled RTP and probe series of /metrics.
func (d *qlDump) serverCounters() map[string]float64 {
	resp, err := http.Get(d.metrics)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !(strings.HasPrefix(name, "switchyard_rtp_") || strings.HasPrefix(name, "switchyard_video_")) {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[strings.TrimPrefix(name, "switchyard_")] = v
		}
	}
	return out
}
