// Package servertest is the one harness for tests that run a whole
// Switchyard in-process on loopback (server, e2e, abuse, cmd): the
// loopback config, starting with a bounded shutdown at cleanup, and an
// Observer whose joins and leaves can be awaited. It imports neither
// server nor signal, so server's own tests can use it.
package servertest
