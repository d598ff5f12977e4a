package room

import (
	"fmt"

	"github.com/switchyard-sfu/switchyard/internal/printable"
)

const maxNameLength = 64

// validateRoomName allows 1–64 of [A-Za-z0-9_.-]: safe in URLs, logs and
// metric labels without escaping.
func validateRoomName(name string) error {
	if name == "" || len(name) > maxNameLength {
		return fmt.Errorf("%w: must be 1 to %d characters", ErrBadRoomName, maxNameLength)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%w: %q is not one of A-Z a-z 0-9 _ . -", ErrBadRoomName, c)
		}
	}
	return nil
}

// validateDisplayName allows 1–64 printable characters.
func validateDisplayName(name string) error {
	if err := printable.Check(name, maxNameLength); err != nil {
		return fmt.Errorf("%w: %v", ErrBadName, err)
	}
	return nil
}

// ValidateJoin checks a join request's names without joining, so a client
// switching rooms keeps its current one when the request is malformed.
func ValidateJoin(roomName, name string) error {
	if err := validateRoomName(roomName); err != nil {
		return err
	}
	return validateDisplayName(name)
}
