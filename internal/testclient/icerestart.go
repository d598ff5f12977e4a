package testclient

import (
	"fmt"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/signal"
)

// restartPublish answers the server's ice-restart for the publish PC as a
// browser does: a new offer created with iceRestart. pion gathers the new
// generation inside CreateOffer, so the publish PC's candidates wait on
// offerMu until the offer carrying its credentials is sent.
func (c *Client) restartPublish(m Message) error {
	var msg signal.ICERestart
	if err := m.Decode(&msg); err != nil {
		return err
	}
	if msg.PC != signal.PCPublish {
		return fmt.Errorf("ice-restart for %q, which the server restarts by its own offer", msg.PC)
	}
	pc := c.publishPC()
	if pc == nil {
		return fmt.Errorf("ice-restart without a publish PC")
	}
	c.offerMu.Lock()
	defer c.offerMu.Unlock()
	offer, err := pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		return err
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	c.ICERestarts.Add(1)
	return c.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: offer.SDP})
}

// awaitRestartOffer returns once no publish restart offer is being made.
func (c *Client) awaitRestartOffer() {
	c.offerMu.Lock()
	defer c.offerMu.Unlock()
}
