package signal

import "github.com/switchyard-sfu/switchyard/room"

// TypeICERestart (server → client) asks the client to restart ICE on one
// of its peer connections: for "publish", send a new offer created with
// iceRestart. The subscribe PC's restart comes as the server's own offer,
// so this is not sent for it. See docs/protocol.md#ice-restart.
const TypeICERestart = "ice-restart"

// ICERestart is the ice-restart message.
type ICERestart struct {
	Type string `json:"type"`
	PC   string `json:"pc"`
}

// RestartICE makes a WebSocket session a room.ICERestarter: ICE that
// fails while the socket lives is restarted, not ended.
func (m *membership) RestartICE(pc room.PC) {
	m.s.send(ICERestart{Type: TypeICERestart, PC: string(pc)})
}

var _ room.ICERestarter = (*membership)(nil)
