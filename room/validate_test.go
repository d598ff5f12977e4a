package room

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateJoin(t *testing.T) {
	cases := []struct {
		room, name string
		want       error
	}{
		{"main", "Ann", nil},
		{"a.b-c_9", "Zoë 🎥", nil},
		{strings.Repeat("r", 64), strings.Repeat("é", 64), nil},
		{"", "Ann", ErrBadRoomName},
		{strings.Repeat("r", 65), "Ann", ErrBadRoomName},
		{"with space", "Ann", ErrBadRoomName},
		{"slash/room", "Ann", ErrBadRoomName},
		{"main", "", ErrBadName},
		{"main", strings.Repeat("n", 65), ErrBadName},
		{"main", "tab\tname", ErrBadName},
		{"main", "bad\xffutf8", ErrBadName},
	}
	for _, tc := range cases {
		if err := ValidateJoin(tc.room, tc.name); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("ValidateJoin(%q, %q) = %v, want %v", tc.room, tc.name, err, tc.want)
		}
	}
}

func TestOnlyDetectedLeavesHaveADetectionDelay(t *testing.T) {
	detected := map[Reason]bool{
		ReasonLeave: false, ReasonSocketClosed: true, ReasonPingTimeout: true, ReasonPCFailed: true,
		ReasonPCClosed: true, ReasonTabClosed: false, ReasonSwitchedRoom: false, ReasonKicked: false, ReasonServerShutdown: false,
	}
	for r, want := range detected {
		if r.Detected() != want {
			t.Errorf("%s.Detected() = %v, want %v", r, !want, want)
		}
	}
}
