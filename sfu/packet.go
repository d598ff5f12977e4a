package sfu

import (
	"sync"
	"sync/atomic"
)

// maxPacketSize bounds one RTP packet after SRTP decryption; browsers keep
// packets under the path MTU, so 1500 bytes is never exceeded in practice.
const maxPacketSize = 1500

// packet is one received RTP packet shared, without copying, by every
// subscriber queue it was fanned out to. The last holder to release it
// returns it to the pool, so the steady state allocates nothing.
type packet struct {
	buf  [maxPacketSize]byte
	n    int
	refs atomic.Int32
	// layer is the simulcast layer the packet came from; 0 otherwise.
	layer int8
}

var packetPool = sync.Pool{New: func() any { return new(packet) }}

func getPacket() *packet { return packetPool.Get().(*packet) }

func (p *packet) data() []byte { return p.buf[:p.n] }

// release drops one reference; refs must have been set before sharing.
func (p *packet) release() {
	if p.refs.Add(-1) == 0 {
		packetPool.Put(p)
	}
}
