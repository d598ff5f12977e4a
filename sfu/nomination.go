package sfu

import "github.com/pion/webrtc/v3"

// nominateWithoutPrflxWait lets the server nominate a pair whose remote
// candidate is peer-reflexive as soon as it works. The server offers on
// the subscribe PC, so its ICE agent is the controlling one and decides
// when to nominate; pion holds peer-reflexive pairs back for 1 s
// (prflxAcceptanceMinWait) in case a better candidate is trickled.
//
// That wait hits every join where the client's first connectivity check
// reaches the server before the client's trickled candidate does (the
// check goes straight over UDP, the candidate through the WebSocket, the
// signaling goroutine and AddICECandidate). The check then creates a
// peer-reflexive candidate for the client's address, and pion v2 never
// replaces it when the same address arrives by signaling (pion/ice#622):
// every response is credited to the prflx pair, so the host pair never
// succeeds and the connection waits out the full second. Joins were
// bimodal, ~50 ms or ~1.05 s, depending on which won the race.
//
// A server has nothing better to wait for: its own candidates are its
// public host addresses, and a peer-reflexive address is where the
// client's packets actually come from.
func nominateWithoutPrflxWait(s *webrtc.SettingEngine) {
	s.SetPrflxAcceptanceMinWait(0)
}
