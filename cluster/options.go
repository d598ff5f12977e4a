package cluster

import (
	"fmt"
	"regexp"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/ids"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// Names in NATS; docs/cluster.md describes each.
const (
	NodesBucket    = "sy-nodes"
	RoomsBucket    = "sy-rooms"
	StreamName     = "SWITCHYARD_SESSIONS"
	sessionSubject = "sy.sessions" // .<node>.<incarnation>.<participant>
	adminSubject   = "sy.admin"    // .<node>
	// dedupWindow is how long the stream remembers message ids. Leaves are
	// also guarded by the subject's last sequence, which never expires.
	dedupWindow = 2 * time.Minute
)

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidNodeID reports whether id can name a node (it is part of NATS
// subjects and KV keys).
func ValidNodeID(id string) bool { return nodeIDPattern.MatchString(id) }

// NewNodeID makes a node id for a node whose config names none.
func NewNodeID() string { return ids.New("n-") }

// Load is what a node reports about itself with each heartbeat.
type Load struct {
	Participants int     `json:"participants"`
	Rooms        int     `json:"rooms"`
	ForwardedPPS float64 `json:"forwarded_pps"`
	CPU          float64 `json:"cpu"` // process CPU, cores busy
}

// Host is the node's own room manager, as the cluster needs it.
type Host interface {
	// LeaveAll makes everyone leave with reason (fencing).
	LeaveAll(reason room.Reason) int
	// Rooms lists this node's rooms (the admin API across nodes).
	Rooms() []room.Info
	Kick(roomName, who string) ([]string, error)
	CloseRoom(roomName string) (int, error)
	Mute(roomName, who, trackID string, muted bool) error
}

// Options configure a Node.
type Options struct {
	URL          string // NATS server URL(s), comma-separated
	NodeID       string
	AdvertiseURL string // clients' signaling URL for this node (ws://host:port/v1/rtc)
	// Heartbeat is how often the node refreshes its record; LostTimeout is
	// how long a record may stay unchanged before its node is lost, and
	// also the node's own lease: past it without a heartbeat, it fences.
	Heartbeat   time.Duration
	LostTimeout time.Duration
	Log         *zap.Logger
	// Load and Draining are read at each heartbeat; either may be nil.
	Load     func() Load
	Draining func() bool
	// Now is the clock for record times; nil means time.Now.
	Now func() time.Time
}

func (o *Options) check() error {
	if !ValidNodeID(o.NodeID) {
		return fmt.Errorf("%w: %q", ErrBadNodeID, o.NodeID)
	}
	if o.Heartbeat <= 0 || o.LostTimeout <= o.Heartbeat {
		return fmt.Errorf("cluster: lost timeout %s must exceed heartbeat %s", o.LostTimeout, o.Heartbeat)
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}
