package printable

import (
	"errors"
	"unicode"
	"unicode/utf8"
)

// blank are printable runes that render as nothing: Hangul fillers,
// the Braille blank, the Khmer vowel inherents.
var blank = map[rune]bool{0x115F: true, 0x1160: true, 0x3164: true, 0xFFA0: true, 0x2800: true, 0x17B4: true, 0x17B5: true}

// visible reports whether c draws something: not a space, not a format
// character, not a combining mark on its own, not a known blank.
func visible(c rune) bool {
	return !unicode.IsSpace(c) && !unicode.In(c, unicode.Cf, unicode.Mn, unicode.Me) && !blank[c]
}

// hasVisible reports whether any rune of s draws something, so that a
// name cannot look empty in the participant list.
func hasVisible(s string) bool {
	for _, c := range s {
		if visible(c) {
			return true
		}
	}
	return false
}

// bidiControl are the embedding, override and isolate controls that
// reorder the text around them (the "Trojan Source" characters).
func bidiControl(c rune) bool {
	return c >= 0x202A && c <= 0x202E || c >= 0x2066 && c <= 0x2069
}

// CheckText accepts free text (chat): valid UTF-8 with no control
// characters other than newline and tab, and no bidi overrides or
// isolates, which could make a message display as something else.
func CheckText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, c := range s {
		if c == '\n' || c == '\t' {
			continue
		}
		if unicode.IsControl(c) || bidiControl(c) {
			return errors.New("contains a control or bidi-override character")
		}
	}
	return nil
}
