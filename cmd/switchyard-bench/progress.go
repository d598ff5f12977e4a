package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// progress draws one status line on stderr, redrawn in place on a
// terminal; elsewhere (CI logs) it prints only phase changes.
type progress struct {
	w   io.Writer
	tty bool
}

func newProgress(w *os.File) *progress {
	info, err := w.Stat()
	return &progress{w: w, tty: err == nil && info.Mode()&os.ModeCharDevice != 0}
}

// phase announces a new stage of the run.
func (p *progress) phase(format string, args ...any) {
	if p.tty {
		p.tick(format, args...)
		return
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// tick redraws the status line; ignored off a terminal.
func (p *progress) tick(format string, args ...any) {
	if !p.tty {
		return
	}
	line := fmt.Sprintf(format, args...)
	if len(line) > 110 {
		line = line[:110]
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

// clear ends the status line before the table is printed.
func (p *progress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// bar renders fraction f as a fixed-width bar.
func bar(f float64, width int) string {
	f = min(max(f, 0), 1)
	full := int(f * float64(width))
	return "[" + strings.Repeat("#", full) + strings.Repeat(".", width-full) + "]"
}
