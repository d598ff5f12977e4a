// Package printable checks text that other people will see and logs will
// record: display names, token identities.
package printable

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Check accepts 1 to max characters of valid UTF-8, all printable. Its
// errors read as the end of a sentence naming the field: "must be 1 to 64
// characters of valid UTF-8", "contains an unprintable character".
func Check(s string, max int) error {
	if n := utf8.RuneCountInString(s); n == 0 || n > max || !utf8.ValidString(s) {
		return fmt.Errorf("must be 1 to %d characters of valid UTF-8", max)
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return errors.New("contains an unprintable character")
		}
	}
	if !hasVisible(s) {
		return errors.New("shows nothing (only spaces or invisible characters)")
	}
	return nil
}
