package sessionlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrShrunk is returned by ReadFrom when the file is shorter than the
// offset asked for: it was replaced or rotated since that offset was
// taken.
var ErrShrunk = errors.New("sessionlog: file is shorter than the cursor (replaced or rotated?)")

// Entry is one record with where its line sits in the file.
type Entry struct {
	Record
	Line []byte   // the line as stored, newline included
	End  int64    // offset just past the line: the cursor after this record
	Pos  Position // End with its segment, from ReadAt
}

// ReadFrom reads up to max committed records (max <= 0: all) starting at
// byte offset, for followers of a live log — webhooks — that keep their
// own cursor. It never returns part of a line: an unterminated last line
// is not committed yet (see the package doc) and is left for the next
// call; terminated lines that do not parse are stepped over. next is the
// cursor to pass next time. Like ReadFile it only reads, so it is safe
// against the log of a running server.
func ReadFrom(path string, offset int64, max int) (entries []Entry, next int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset, err
	}
	defer f.Close()
	entries, next, _, err = readEntries(f, offset, max, max <= 0)
	return entries, next, err
}

// readEntries is ReadFrom on an open file; eof says it read to the end
// (nothing whole is left after next). all ignores max.
func readEntries(f *os.File, offset int64, max int, all bool) (entries []Entry, next int64, eof bool, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, offset, false, err
	}
	if st.Size() < offset {
		return nil, offset, false, fmt.Errorf("%w: %s has %d bytes, cursor at %d", ErrShrunk, f.Name(), st.Size(), offset)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset, false, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	next = offset
	for all || len(entries) < max {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return entries, next, true, nil // a partial line waits for its newline
		}
		if err != nil {
			return entries, next, false, err
		}
		next += int64(len(line))
		if r, ok := parseLine(line); ok {
			entries = append(entries, Entry{Record: r, Line: line, End: next})
		}
	}
	return entries, next, false, nil
}
