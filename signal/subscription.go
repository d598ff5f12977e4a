package signal

// maxSubscriptionSize bounds the width and height a client may ask for;
// no camera sends more.
const maxSubscriptionSize = 16384

func (s *session) handleSubscription(data []byte) error {
	var msg Subscription
	if err := decode(data, &msg); err != nil {
		return err
	}
	if msg.Track == "" {
		return badMessage("missing track")
	}
	if msg.Width < 0 || msg.Height < 0 || msg.Width > maxSubscriptionSize || msg.Height > maxSubscriptionSize {
		return badMessage("width and height must be between 0 and %d", maxSubscriptionSize)
	}
	p, err := s.joined()
	if err != nil {
		return err
	}
	return p.SetSubscription(msg.Track, msg.Width, msg.Height)
}
