package sessionlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A rotating log is a sequence of segments: PATH.000001, PATH.000002, …
// (rotated, oldest first) and PATH itself, the live segment. A segment
// keeps its number for good: PATH becomes PATH.<n> when it rotates, and
// the live one's number is one more than the newest rotated one's, so a
// Position names the same records before and after a rotation.

// rotatedName is the name segment seq gets when it rotates.
func rotatedName(path string, seq int64) string { return fmt.Sprintf("%s.%06d", path, seq) }

// rotatedSeqs lists the numbers of path's rotated segments, ascending.
func rotatedSeqs(path string) ([]int64, error) {
	names, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("sessionlog: %w", err)
	}
	prefix := filepath.Base(path) + "."
	var seqs []int64
	for _, e := range names {
		digits, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || len(digits) < 6 || strings.Trim(digits, "0123456789") != "" {
			continue
		}
		if n, err := strconv.ParseInt(digits, 10, 64); err == nil && n > 0 {
			seqs = append(seqs, n)
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

// Files lists every segment of the log at path in order, oldest first:
// the rotated ones, then path itself if it exists.
func Files(path string) ([]string, error) {
	seqs, err := rotatedSeqs(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, s := range seqs {
		files = append(files, rotatedName(path, s))
	}
	if _, err := os.Stat(path); err == nil {
		files = append(files, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sessionlog: %w", err)
	}
	return files, nil
}

// ReadAll is ReadFile across every segment, in order. A missing log (no
// segment at all) is fs.ErrNotExist, as for ReadFile.
func ReadAll(path string) (records []Record, skipped int, err error) {
	files, err := Files(path)
	if err != nil {
		return nil, 0, err
	}
	if len(files) == 0 {
		return ReadFile(path) // no log at all: the open error, naming path
	}
	for _, f := range files {
		r, s, err := ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) && f == path {
			break // the live segment rotated away since the listing; its records are in the last rotated one
		}
		if err != nil {
			return records, skipped, err
		}
		records, skipped = append(records, r...), skipped+s
	}
	return records, skipped, nil
}

// Position is a place in a rotating log: a segment and a byte offset in
// it. The zero Seq means the live segment, whatever its number (cursors
// saved before rotation existed).
type Position struct {
	Seq    int64 `json:"seq,omitempty"`
	Offset int64 `json:"offset"`
}

// Start is the position of the log's first record: the oldest segment
// there is.
func Start(path string) (Position, error) {
	seqs, err := rotatedSeqs(path)
	if err != nil || len(seqs) == 0 {
		return Position{Seq: 1}, err // no rotation yet: the live segment is 1
	}
	return Position{Seq: seqs[0]}, nil
}

// ReadAt is ReadFrom across segments: up to max committed records (max <=
// 0: all) from pos, stepping from a rotated segment's end into the next
// segment. Each Entry's Pos is the position after it; next is where to go
// on. It is ErrShrunk when the live segment is shorter than pos (replaced
// by hand), and fs.ErrNotExist while there is no log at all.
func ReadAt(path string, pos Position, max int) (entries []Entry, next Position, err error) {
	for {
		f, seq, live, err := openSegment(path, pos.Seq)
		if err != nil {
			return entries, pos, err
		}
		if seq != pos.Seq && pos.Seq != 0 && seq > pos.Seq {
			pos = Position{Seq: seq} // the cursor's segment was deleted: the oldest left, from its start
		}
		pos.Seq = seq
		got, off, eof, err := readEntries(f, pos.Offset, max-len(entries), max <= 0)
		f.Close()
		for _, e := range got {
			e.Pos = Position{Seq: seq, Offset: e.End}
			entries = append(entries, e)
		}
		pos.Offset = off
		if err != nil || live || !eof || (max > 0 && len(entries) >= max) {
			return entries, pos, err
		}
		pos = Position{Seq: seq + 1} // a rotated segment never grows: on to the next
	}
}

// openSegment opens segment seq (0: the live one) and says which number
// it has and whether it is the live segment. A rotated file is final; the
// live one is checked against a rotation racing the open: if PATH.<seq>
// appeared meanwhile, what was opened may be the segment after it.
func openSegment(path string, seq int64) (f *os.File, got int64, live bool, err error) {
	for {
		seqs, err := rotatedSeqs(path)
		if err != nil {
			return nil, 0, false, err
		}
		liveSeq := int64(1)
		if len(seqs) > 0 {
			liveSeq = seqs[len(seqs)-1] + 1
		}
		if seq != 0 && seq < liveSeq {
			i, found := slices.BinarySearch(seqs, seq)
			if !found {
				if i == len(seqs) {
					seq = liveSeq
				} else {
					seq = seqs[i] // deleted: the next one there is
				}
			}
			if seq < liveSeq {
				f, err := os.Open(rotatedName(path, seq))
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted meanwhile
				}
				return f, seq, false, err
			}
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, false, err
		}
		if _, err := os.Stat(rotatedName(path, liveSeq)); err == nil {
			f.Close()
			continue // rotated between the listing and the open
		}
		return f, liveSeq, true, nil
	}
}
