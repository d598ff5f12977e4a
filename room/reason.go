package room

// Reason says why a participant left. Every way of leaving has one, and
// the session log and metrics count by it.
type Reason string

// Leave reasons.
const (
	ReasonLeave          Reason = "leave"           // the client sent leave
	ReasonSocketClosed   Reason = "socket-closed"   // the WebSocket closed or broke
	ReasonPingTimeout    Reason = "ping-timeout"    // nothing heard within the ping timeout
	ReasonPCFailed       Reason = "pc-failed"       // a peer connection's ICE or DTLS failed
	ReasonPCClosed       Reason = "pc-closed"       // a peer connection closed under us
	ReasonTabClosed      Reason = "tab-closed"      // the page's leave beacon arrived
	ReasonSwitchedRoom   Reason = "switched-room"   // the client joined another room
	ReasonKicked         Reason = "kicked"          // an operator removed the participant
	ReasonRoomClosed     Reason = "room-closed"     // an operator closed the room, so everyone in it left
	ReasonServerShutdown Reason = "server-shutdown" // the server is stopping
	ReasonReconnected    Reason = "reconnected"     // the client came back on a new socket before the old one was noticed gone
	// WHIP/WHEP (package whip): the HTTP session was deleted, or its
	// first offer could not be applied after the join.
	ReasonDeleted       Reason = "deleted"        // the WHIP/WHEP client sent DELETE
	ReasonOfferRejected Reason = "offer-rejected" // a WHIP/WHEP offer failed to apply
)

// Reasons lists every leave reason, in the order docs/protocol.md's table
// gives them; metrics start a zero series for each, so a dashboard shows
// zeros rather than "no data" before the first leave of a kind.
func Reasons() []Reason {
	return []Reason{
		ReasonLeave, ReasonSocketClosed, ReasonPingTimeout, ReasonPCFailed, ReasonPCClosed,
		ReasonTabClosed, ReasonSwitchedRoom, ReasonKicked, ReasonRoomClosed, ReasonServerShutdown,
		ReasonReconnected, ReasonDeleted, ReasonOfferRejected, ReasonNodeLost, ReasonClusterLost,
	}
}

// Detected reports whether the server had to notice the leave itself,
// rather than being told; only these have a meaningful detection delay.
func (r Reason) Detected() bool {
	switch r {
	case ReasonSocketClosed, ReasonPingTimeout, ReasonPCFailed, ReasonPCClosed, ReasonReconnected:
		return true
	}
	return false
}
