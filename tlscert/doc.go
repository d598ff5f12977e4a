// Package tlscert finds the certificate the HTTPS listener serves: PEM
// files given by the operator (reloaded when they change), ACME
// (golang.org/x/crypto/acme/autocert) for public host names, or a
// self-signed certificate made once for a LAN and kept on disk. It knows
// nothing of the server; package server wires it to its listeners.
package tlscert
