package sfu

// VP8 descriptor continuity across simulcast layers. Each layer of a
// simulcast VP8 track comes from its own encoder, with its own picture
// IDs, TL0PICIDX and KEYIDX (RFC 7741 §4.2). A receiver's VP8 reference
// finder (libwebrtc's RtpVp8RefFinder) keys what it knows of earlier
// frames by those numbers: after a switch onto a layer whose TL0PICIDX
// runs behind the old one's, its base-layer frames found the old
// layer's entries under their numbers and referenced frames that never
// existed, so nothing after the keyframe decoded for 3 s at a time
// ("No decodable frame in 3000 ms requesting keyframe"), three times
// over, with no packet lost (issue 15's Chromium lab, after every other
// switch). So, like the sequence numbers, the three fields are
// rewritten per subscriber into one stream: at a switch each continues
// one past the newest value written, and between switches the mapping
// is a pure offset, which the switch history keeps for retransmissions.

// vp8Offsets are added to a layer's descriptor fields, modulo each
// field's width: picture ID 7 or 15 bits, TL0PICIDX 8, KEYIDX 5.
type vp8Offsets struct {
	pic    uint16
	tl0    uint8
	keyIdx uint8
}

func (o vp8Offsets) zero() bool { return o == vp8Offsets{} }

// vp8Fields are where a descriptor keeps the fields, as byte indexes
// into the payload; -1 where absent.
type vp8Fields struct {
	pic    int // the picture ID's first byte
	pic15  bool
	tl0    int
	keyIdx int // the TID/Y/KEYIDX byte, when K is set
	size   int // bytes the descriptor takes: the VP8 payload starts here
}

// vp8DescriptorFields parses the descriptor at the start of payload.
func vp8DescriptorFields(payload []byte) (f vp8Fields, ok bool) {
	f = vp8Fields{pic: -1, tl0: -1, keyIdx: -1, size: 1}
	if len(payload) < 1 || payload[0]&0x80 == 0 { // no X: no fields
		return f, len(payload) > 0
	}
	if len(payload) < 2 {
		return f, false
	}
	x, i := payload[1], 2
	if x&0x80 != 0 { // I
		if len(payload) <= i {
			return f, false
		}
		f.pic, f.pic15 = i, payload[i]&0x80 != 0
		i++
		if f.pic15 {
			i++
		}
	}
	if x&0x40 != 0 { // L
		f.tl0 = i
		i++
	}
	if x&0x30 != 0 { // T or K: one byte for both
		if x&0x10 != 0 {
			f.keyIdx = i
		}
		i++
	}
	f.size = i
	return f, len(payload) >= i
}

// vp8Values are a descriptor's fields as read; has* mark those present.
type vp8Values struct {
	pic                       uint16
	tl0, keyIdx               uint8
	hasPic, hasTL0, hasKeyIdx bool
}

func (f vp8Fields) read(payload []byte) (v vp8Values) {
	if f.pic >= 0 {
		v.hasPic = true
		if f.pic15 {
			v.pic = uint16(payload[f.pic]&0x7f)<<8 | uint16(payload[f.pic+1])
		} else {
			v.pic = uint16(payload[f.pic] & 0x7f)
		}
	}
	if f.tl0 >= 0 {
		v.hasTL0, v.tl0 = true, payload[f.tl0]
	}
	if f.keyIdx >= 0 {
		v.hasKeyIdx, v.keyIdx = true, payload[f.keyIdx]&0x1f
	}
	return v
}

// write stores v's present fields into payload, each at its width.
func (f vp8Fields) write(payload []byte, v vp8Values) {
	if f.pic >= 0 {
		if f.pic15 {
			payload[f.pic] = 0x80 | byte(v.pic>>8)&0x7f
			payload[f.pic+1] = byte(v.pic)
		} else {
			payload[f.pic] = byte(v.pic) & 0x7f
		}
	}
	if f.tl0 >= 0 {
		payload[f.tl0] = v.tl0
	}
	if f.keyIdx >= 0 {
		payload[f.keyIdx] = payload[f.keyIdx]&0xe0 | v.keyIdx&0x1f
	}
}

// shifted is v with o added.
func (v vp8Values) shifted(o vp8Offsets) vp8Values {
	v.pic = (v.pic + o.pic) & 0x7fff
	v.tl0 += o.tl0
	v.keyIdx = (v.keyIdx + o.keyIdx) & 0x1f
	return v
}

// continuing returns the offsets that make in, a switch's keyframe, the
// next value after last in each field both carry; fields last never had
// start where in is.
func continuing(last, in vp8Values) (o vp8Offsets) {
	if last.hasPic && in.hasPic {
		o.pic = (last.pic + 1 - in.pic) & 0x7fff
	}
	if last.hasTL0 && in.hasTL0 {
		o.tl0 = last.tl0 + 1 - in.tl0
	}
	if last.hasKeyIdx && in.hasKeyIdx {
		o.keyIdx = (last.keyIdx + 1 - in.keyIdx) & 0x1f
	}
	return o
}

// picNewer reports whether picture ID a is after b (15-bit serial order).
func picNewer(a, b uint16) bool { d := (a - b) & 0x7fff; return d != 0 && d < 0x4000 }

// mungeVP8 returns payload with o applied, copied into scratch when
// anything changes (payload is shared by every subscriber), and the
// values it carries out. Payloads without a parsable descriptor pass
// unchanged.
func mungeVP8(payload []byte, o vp8Offsets, scratch *[maxPacketSize]byte) ([]byte, vp8Values, bool) {
	f, ok := vp8DescriptorFields(payload)
	if !ok || len(payload) > len(scratch) {
		return payload, vp8Values{}, false
	}
	v := f.read(payload)
	if o.zero() {
		return payload, v, true
	}
	out := scratch[:len(payload)]
	copy(out, payload)
	v = v.shifted(o)
	f.write(out, v)
	return out, v, true
}
