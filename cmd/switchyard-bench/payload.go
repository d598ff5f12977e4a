package main

import (
	"encoding/binary"
	"time"
)

// Every synthetic payload ends in a trailer the receiver reads back:
// magic, the sender's per-track sequence and its send time. It sits at the
// end so the codec header at the start stays what a real encoder writes.
const (
	trailerSize  = 16
	trailerMagic = 0x5357_4244 // "SWBD"
)

// clock is the one monotonic time base senders and receivers share; the
// bench is both, so send and receive times are comparable.
var clockStart = time.Now()

func nowNanos() int64 { return int64(time.Since(clockStart)) }

func putTrailer(payload []byte, seq uint32, sentAt int64) {
	t := payload[len(payload)-trailerSize:]
	binary.BigEndian.PutUint32(t[0:], trailerMagic)
	binary.BigEndian.PutUint32(t[4:], seq)
	binary.BigEndian.PutUint64(t[8:], uint64(sentAt))
}

// readTrailer returns the sequence and send time of a payload written by
// putTrailer; ok is false for anything else (e.g. padding-only packets).
func readTrailer(payload []byte) (seq uint32, sentAt int64, ok bool) {
	if len(payload) < trailerSize {
		return 0, 0, false
	}
	t := payload[len(payload)-trailerSize:]
	if binary.BigEndian.Uint32(t[0:]) != trailerMagic {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(t[4:]), int64(binary.BigEndian.Uint64(t[8:])), true
}

// rtpPayload skips a raw RTP packet's fixed header, CSRCs, extension and
// padding without allocating; ok is false when the packet is malformed.
func rtpPayload(pkt []byte) ([]byte, bool) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return nil, false
	}
	n := 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < n+4 {
			return nil, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	}
	end := len(pkt)
	if pkt[0]&0x20 != 0 && end > 0 {
		end -= int(pkt[end-1])
	}
	if n > end {
		return nil, false
	}
	return pkt[n:end], true
}

// vp8Descriptor writes the one-byte VP8 payload descriptor (RFC 7741) and,
// at the start of a frame, the frame tag — plus the keyframe start code and
// size for keyframes — so keyframe detection sees a real VP8 stream. It
// returns how many bytes it wrote.
func vp8Descriptor(b []byte, frameStart, keyframe bool, frameSize int) int {
	if !frameStart {
		b[0] = 0x00 // S=0: continuation of the partition
		return 1
	}
	b[0] = 0x10 // S=1, partition 0
	// Frame tag: bit 0 is 0 for a keyframe; show_frame=1; first partition size.
	size := uint32(frameSize) & 0x7ffff
	tag := size<<5 | 1<<4
	if !keyframe {
		tag |= 1
	}
	b[1], b[2], b[3] = byte(tag), byte(tag>>8), byte(tag>>16)
	if !keyframe {
		return 4
	}
	b[4], b[5], b[6] = 0x9d, 0x01, 0x2a // keyframe start code
	binary.LittleEndian.PutUint16(b[7:], 640)
	binary.LittleEndian.PutUint16(b[9:], 360)
	return 11
}

// isVP8Keyframe reports whether a VP8 RTP payload starts a keyframe.
func isVP8Keyframe(p []byte) bool {
	return len(p) >= 4 && p[0]&0x10 != 0 && p[0]&0x80 == 0 && p[1]&0x01 == 0
}
