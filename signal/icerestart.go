package signal

import "github.com/switchyard-sfu/switchyard/room"

// RestartICE makes a WebSocket session a room.ICERestarter: ICE that
// fails while the socket lives is restarted, not ended.
func (m *roomClient) RestartICE(pc room.PC) {
	m.s.send(ICERestart{Type: TypeICERestart, PC: string(pc)})
}

var _ room.ICERestarter = (*roomClient)(nil)
