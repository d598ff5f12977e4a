package sfu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pion/stun"
)

// stunRetransmit is how often a binding request is resent: UDP may lose
// it, and one lost packet must not fail the whole detection.
const stunRetransmit = 500 * time.Millisecond

// DetectPublicIP asks the STUN servers, all at once, for the address this
// host's UDP traffic appears to come from, and returns the first answer
// with the URL that gave it: a dead server (its UDP silently dropped) must
// not use up the time the others need. Only stun: URLs are tried (stuns:
// needs TLS over TCP and gives the same answer). ctx bounds the search.
func DetectPublicIP(ctx context.Context, urls []string) (net.IP, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		ip  net.IP
		err error
	}
	errs := make([]error, len(urls))
	answers := make(chan int, len(urls))
	results := make([]answer, len(urls))
	asked := 0
	for i, raw := range urls {
		uri, err := stun.ParseURI(raw)
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", raw, err)
			continue
		}
		if uri.Scheme != stun.SchemeTypeSTUN {
			errs[i] = fmt.Errorf("%s: only stun: URLs are used for detection", raw)
			continue
		}
		asked++
		go func() {
			ip, err := bindingRequest(ctx, net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port)))
			results[i] = answer{ip, err}
			answers <- i
		}()
	}
	found := -1
	for range asked {
		i := <-answers // waits for every request, so none outlives the call
		if results[i].err == nil && found < 0 {
			found = i
			cancel()
		}
		errs[i] = results[i].err
		if errs[i] != nil {
			errs[i] = fmt.Errorf("%s: %w", urls[i], errs[i])
		}
	}
	if found >= 0 {
		return results[found].ip, urls[found], nil
	}
	if len(urls) == 0 {
		return nil, "", errors.New("no STUN server configured")
	}
	return nil, "", errors.Join(errs...)
}

// bindingRequest sends a STUN binding request to addr until an answer with
// the same transaction id arrives or ctx ends, and returns the mapped IP.
func bindingRequest(ctx context.Context, addr string) (net.IP, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Closing the socket when ctx ends unblocks the read below.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 1500)
	for {
		if _, err := conn.Write(req.Raw); err != nil {
			return nil, errors.Join(ctx.Err(), err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(stunRetransmit))
		for {
			n, err := conn.Read(buf)
			var timeout net.Error
			if errors.As(err, &timeout) && timeout.Timeout() {
				break // resend
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("no answer: %w", ctx.Err())
				}
				return nil, err
			}
			ip, ok := mappedIP(buf[:n], req.TransactionID)
			if ok {
				return ip, nil
			}
		}
	}
}

// mappedIP reads the (XOR-)MAPPED-ADDRESS of a binding success response to
// the transaction id; ok is false for anything else.
func mappedIP(data []byte, id [stun.TransactionIDSize]byte) (net.IP, bool) {
	res := &stun.Message{Raw: append([]byte(nil), data...)}
	if err := res.Decode(); err != nil || res.TransactionID != id || res.Type != stun.BindingSuccess {
		return nil, false
	}
	var xor stun.XORMappedAddress
	if err := xor.GetFrom(res); err == nil {
		return xor.IP, true
	}
	var plain stun.MappedAddress
	if err := plain.GetFrom(res); err == nil {
		return plain.IP, true
	}
	return nil, false
}
