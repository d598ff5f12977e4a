package main

import (
	"fmt"
	"net"
	"runtime"
	"syscall"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v2"
	"golang.org/x/net/ipv4"
)

// floorBatch is the sendmmsg batch size of the floor, as the server's
// egress uses (sfu/egress.go).
const floorBatch = 32

// floorRounds × floorRoundTime per figure; the cheapest round counts,
// since contention only ever adds to a cost.
const (
	floorRounds    = 3
	floorRoundTime = 150 * time.Millisecond
)

// floorResult is this machine's cost, measured right before a step, of
// what forwarding one packet cannot avoid: sending it and encrypting it.
// Costs are CPU time of the measuring thread (RUSAGE_THREAD), so time
// spent waiting for a core shared with others does not count.
type floorResult struct {
	PayloadBytes int     `json:"payload_bytes"`
	SendtoUS     float64 `json:"sendto_us"`         // one sendto per packet
	BatchedUS    float64 `json:"batched_send_us"`   // per packet in a sendmmsg of 32
	SRTPUS       float64 `json:"srtp_aes_gcm_us"`   // one AES-GCM SRTP encrypt
	FloorUS      float64 `json:"floor_us_per_pkt"`  // batched send + SRTP encrypt
	Ratio        float64 `json:"server_vs_floor_x"` // server µs per forwarded packet / floor
}

// measureFloor measures the floor for RTP packets with payload bytes.
func measureFloor(payload int) (floorResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f := floorResult{PayloadBytes: payload}
	rcv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return f, err
	}
	defer rcv.Close()
	_ = rcv.SetReadBuffer(4 << 20)
	snd, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return f, err
	}
	defer snd.Close()
	// The receiver reads, as a subscriber does, so the sends measure
	// delivery into a socket that has room rather than drops.
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := rcv.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	pkt := make([]byte, 12+payload+16) // RTP header, payload, GCM tag
	to := rcv.LocalAddr()

	f.SendtoUS, err = cheapest(func() (int, error) {
		_, err := snd.WriteTo(pkt, to)
		return 1, err
	})
	if err != nil {
		return f, fmt.Errorf("sendto: %w", err)
	}
	batch := ipv4.NewPacketConn(snd)
	msgs := make([]ipv4.Message, floorBatch)
	for i := range msgs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{pkt}, Addr: to}
	}
	f.BatchedUS, err = cheapest(func() (int, error) { return batch.WriteBatch(msgs, 0) })
	if err != nil {
		return f, fmt.Errorf("sendmmsg: %w", err)
	}
	ctx, err := srtp.CreateContext(make([]byte, 16), make([]byte, 12), srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		return f, fmt.Errorf("srtp: %w", err)
	}
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
	plain, _ := (&rtp.Packet{Header: h, Payload: make([]byte, payload)}).Marshal()
	dst := make([]byte, len(plain)+16)
	f.SRTPUS, err = cheapest(func() (int, error) {
		h.SequenceNumber++
		_, err := ctx.EncryptRTP(dst, plain, &h)
		return 1, err
	})
	if err != nil {
		return f, fmt.Errorf("srtp encrypt: %w", err)
	}
	f.FloorUS = f.BatchedUS + f.SRTPUS
	return f, nil
}

// cheapest runs op (which reports how many packets it handled) for
// floorRounds rounds and returns the lowest thread CPU µs per packet.
func cheapest(op func() (int, error)) (float64, error) {
	best := 0.0
	for range floorRounds {
		start, err := threadCPU()
		if err != nil {
			return 0, err
		}
		deadline := time.Now().Add(floorRoundTime)
		packets := 0
		for time.Now().Before(deadline) {
			for range 64 {
				n, err := op()
				if err != nil {
					return 0, err
				}
				packets += n
			}
		}
		end, err := threadCPU()
		if err != nil {
			return 0, err
		}
		us := float64((end - start).Microseconds()) / float64(packets)
		if best == 0 || us < best {
			best = us
		}
	}
	return best, nil
}

// threadCPU is the calling thread's user+system CPU time.
func threadCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
