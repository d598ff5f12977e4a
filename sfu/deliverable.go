package sfu

// A simulcast subscriber starts its layer at a keyframe it asks for. A
// keyframe that arrives before pion has bound the subscriber's track (the
// answer is applied) or before its DTLS is up is lost, and with it the
// request: the next one came only at the switch retry, 1.5–2 s later, so a
// participant resuming after a network drop saw the others' video that
// much late. So a selector asks only once a packet could be delivered,
// and the allocator is poked at the two moments that may make it so: the
// bind and the connection coming up.

// deliverable reports whether a packet written now could reach the
// subscriber.
func (s *layerSelector) deliverable() bool {
	return s.canDeliver == nil || s.canDeliver()
}

// watchDeliverable makes d's selector wait for d to be bound and the
// subscriber connected before it asks for, or starts at, a keyframe.
func (s *Subscriber) watchDeliverable(d *DownTrack) {
	d.selector.canDeliver = func() bool { return d.bound.Load() != nil && s.up.Load() }
	d.onBound = s.alloc.poke
}
