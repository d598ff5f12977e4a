package room

import "go.uber.org/zap"

// ICERestarter is a Client that can renegotiate ICE on a live session
// (docs/protocol.md#ice-restart): the WebSocket client can, an HTTP
// (WHIP/WHEP) one cannot, so its ICE failure still ends the session at
// once with pc-failed.
type ICERestarter interface {
	// RestartICE asks the client to send a new offer with fresh ICE
	// credentials for pc. Only the publish PC needs it: for the subscribe
	// PC the server's own offer carries the restart.
	RestartICE(pc PC)
}

// iceRestarts returns, per PC, what the media layer calls on each ICE
// failure of a session that can restart ICE, or nil for one that cannot.
// A participant whose ICE is not back within the engine's restart limit
// leaves with pc-failed.
func (m *Manager) iceRestarts(p *Participant, client Client) func(PC) func() {
	if _, ok := client.(ICERestarter); !ok {
		return func(PC) func() { return nil }
	}
	return func(role PC) func() {
		return func() {
			m.log.Info("ice restart", zap.String("participant", p.id), zap.String("pc", string(role)))
			if role == PCPublish {
				if r, ok := p.client.(ICERestarter); ok {
					r.RestartICE(role)
				}
			}
		}
	}
}
