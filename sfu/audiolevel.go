package sfu

import "sync/atomic"

// AudioLevelURI names the RFC 6464 client-to-mixer audio level header
// extension: one byte per packet, a voice-activity bit and the level in
// -dBov (0 is loudest, 127 silence).
const AudioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// silentLevel is RFC 6464's quietest level, -127 dBov.
const silentLevel = 127

// audioLevel sums the levels a publisher reports, for whoever takes the
// mean. Count and sum share one word so the read loop pays one atomic add
// per packet and the reader one swap, with no lock and no torn pair.
type audioLevel struct {
	extID uint8
	acc   atomic.Uint64 // packets<<32 | sum of loudness (silentLevel - level)
}

// observe adds the level carried by one raw RTP packet, if it has one.
func (a *audioLevel) observe(raw []byte) {
	ext, ok := headerExtension(raw, a.extID)
	if !ok || len(ext) < 1 {
		return
	}
	a.acc.Add(1<<32 | uint64(silentLevel-ext[0]&0x7f))
}

// take returns the mean loudness in dB above -127 dBov (0 silence, 127
// full scale) of the packets since the last take, and how many there were.
func (a *audioLevel) take() (loudness float64, packets int) {
	v := a.acc.Swap(0)
	n := int(v >> 32)
	if n == 0 {
		return 0, 0
	}
	return float64(v&0xffffffff) / float64(n), n
}

// headerExtension finds extension id in a raw RTP packet (RFC 8285 one-
// or two-byte form) without allocating. The returned slice aliases raw.
func headerExtension(raw []byte, id uint8) ([]byte, bool) {
	if len(raw) < 12 || raw[0]>>6 != 2 || raw[0]&0x10 == 0 || id == 0 {
		return nil, false
	}
	at := 12 + 4*int(raw[0]&0x0f) // fixed header and CSRCs
	if len(raw) < at+4 {
		return nil, false
	}
	profile := uint16(raw[at])<<8 | uint16(raw[at+1])
	end := at + 4 + 4*(int(raw[at+2])<<8|int(raw[at+3]))
	if end > len(raw) {
		return nil, false
	}
	body := raw[at+4 : end]
	switch {
	case profile == 0xbede:
		return oneByteExtension(body, id)
	case profile&0xfff0 == 0x1000:
		return twoByteExtension(body, id)
	}
	return nil, false
}

func oneByteExtension(b []byte, id uint8) ([]byte, bool) {
	for i := 0; i < len(b); {
		elemID := b[i] >> 4
		if elemID == 0 { // padding
			i++
			continue
		}
		if elemID == 15 { // reserved: stop
			return nil, false
		}
		n := int(b[i]&0x0f) + 1
		if i+1+n > len(b) {
			return nil, false
		}
		if elemID == id {
			return b[i+1 : i+1+n], true
		}
		i += 1 + n
	}
	return nil, false
}

func twoByteExtension(b []byte, id uint8) ([]byte, bool) {
	for i := 0; i < len(b); {
		if b[i] == 0 { // padding
			i++
			continue
		}
		if i+2 > len(b) {
			return nil, false
		}
		elemID, n := b[i], int(b[i+1])
		if i+2+n > len(b) {
			return nil, false
		}
		if elemID == id {
			return b[i+2 : i+2+n], true
		}
		i += 2 + n
	}
	return nil, false
}
