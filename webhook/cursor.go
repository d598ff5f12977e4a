package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/switchyard-sfu/switchyard/sessionlog"
)

// cursor is how far one URL's deliveries have got: the log offset just
// past the last record whose events were all delivered, and the room
// state those records imply (sequence numbers, who is present).
type cursor struct {
	URL string `json:"url"`
	// Seq is the log segment Offset is in (sessionlog.Position): a
	// rotation renames the file under the cursor without moving it. 0,
	// as in cursors saved before rotation, means the live file.
	Seq    int64                 `json:"seq,omitempty"`
	Offset int64                 `json:"offset"`
	Rooms  map[string]*roomState `json:"rooms"`
}

func (c *cursor) pos() sessionlog.Position {
	return sessionlog.Position{Seq: c.Seq, Offset: c.Offset}
}

func (c *cursor) moveTo(p sessionlog.Position) { c.Seq, c.Offset = p.Seq, p.Offset }

// cursorPath names url's cursor file in dir: one file per URL, so adding
// or removing a URL leaves the others' progress alone.
func cursorPath(dir, url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(dir, "webhook-"+hex.EncodeToString(sum[:6])+".cursor.json")
}

func loadCursor(path string) (*cursor, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("webhook cursor: %w", err)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, false, fmt.Errorf("webhook cursor %s is corrupt (delete it to start from the log's end): %w", path, err)
	}
	if c.Rooms == nil {
		c.Rooms = map[string]*roomState{}
	}
	return &c, true, nil
}

// save replaces the cursor file atomically (write, rename). durable also
// fsyncs, for Close; in between, a crash of the process keeps the page
// cache and only a power loss can take the cursor back — which means
// redelivery, never loss.
func (c *cursor) save(path string, durable bool) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("webhook cursor: %w", err)
	}
	_, err = f.Write(b)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("webhook cursor: %w", err)
	}
	return nil
}
