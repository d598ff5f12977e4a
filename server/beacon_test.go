package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
)

func TestLeaveBeacon(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, ja := h.joined(ctx, "b", "Ann")
	bob, _ := h.joined(ctx, "b", "Bob")
	url := "http://" + h.srv.Addr().String() + "/v1/leave"
	post := func(body string) int {
		t.Helper()
		resp, err := http.Post(url, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name, body string
		status     int
	}{
		{"not JSON", "{", http.StatusBadRequest},
		{"missing secret", `{"participant_id":"` + ja.ParticipantID + `"}`, http.StatusBadRequest},
		{"wrong secret", `{"participant_id":"` + ja.ParticipantID + `","leave_secret":"guess"}`, http.StatusNotFound},
		{"unknown participant", `{"participant_id":"p_nobody","leave_secret":"x"}`, http.StatusNotFound},
		{"right secret", `{"participant_id":"` + ja.ParticipantID + `","leave_secret":"` + ja.LeaveSecret + `"}`, http.StatusNoContent},
		{"again", `{"participant_id":"` + ja.ParticipantID + `","leave_secret":"` + ja.LeaveSecret + `"}`, http.StatusNotFound},
	}
	for _, tc := range cases {
		if got := post(tc.body); got != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.status)
		}
	}
	m, _, err := bob.WaitType(ctx, 0, signal.TypeParticipantLeft)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.Raw), string(room.ReasonTabClosed)) {
		t.Fatalf("Bob saw %s, want reason tab-closed", m.Raw)
	}
}
