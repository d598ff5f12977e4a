// Package cluster joins Switchyard nodes into one cluster on NATS
// JetStream (docs/cluster.md has the design and its timings):
//
//   - registry.go: every node heartbeats its record (state, load,
//     incarnation) into the KV bucket sy-nodes with compare-and-swap, and
//     watches everyone else's; a node whose record stops changing for the
//     lost timeout is lost.
//   - reaper.go: one survivor wins the CAS that marks a lost node, closes
//     its open sessions in the cluster log (reason node-lost, dated at its
//     last heartbeat) and frees its rooms.
//   - placement.go: a room lives on one node, claimed in the KV bucket
//     sy-rooms by CAS; the claim names the node's incarnation, so claims
//     of a dead or fenced incarnation are void.
//   - log.go: every join and leave goes to the stream SWITCHYARD_SESSIONS,
//     de-duplicated by message id and guarded by the subject's last
//     sequence, so each session is closed exactly once cluster-wide.
//   - fence: a node that cannot heartbeat for longer than its lease closes
//     its own sessions (cluster-lost), refuses joins, and comes back with
//     a new incarnation.
//
// The room package never imports this one: a Node is a room.Placement and
// a room.Observer.
package cluster
