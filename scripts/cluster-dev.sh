#!/usr/bin/env bash
# One command, a local three-node cluster: nats-server (JetStream) on
# 127.0.0.1:4222 and Switchyard nodes a, b, c on 127.0.0.1:7880/7890/7900.
# Open http://127.0.0.1:7880/?room=demo in one tab and
# http://127.0.0.1:7890/?room=demo in another: the second is redirected to
# the room's node. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"

if ! command -v nats-server >/dev/null; then
  echo "installing nats-server v2.15.2 (go install)" >&2
  go install github.com/nats-io/nats-server/v2@v2.15.2
fi
work=$(mktemp -d -t switchyard-cluster-XXXX)
go build -o "$work/switchyard" ./cmd/switchyard

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

nats-server -a 127.0.0.1 -p 4222 -js -sd "$work/nats" >"$work/nats.log" 2>&1 &
pids+=($!)
origins="http://127.0.0.1:7880,http://127.0.0.1:7890,http://127.0.0.1:7900"
i=0
for id in a b c; do
  http=$((7880 + 10 * i)); udp=$((http + 2)); tcp=$((http + 1))
  "$work/switchyard" --listen "127.0.0.1:$http" --ice.udp_listen "127.0.0.1:$udp" --ice.tcp_listen "127.0.0.1:$tcp" \
    --ice.detect_public_ip=false --session_log.path "$work/$id-sessions.jsonl" \
    --signaling.allowed_origins "$origins" \
    --cluster.nats_url nats://127.0.0.1:4222 --cluster.node_id "$id" \
    --cluster.advertise_url "ws://127.0.0.1:$http/v1/rtc" 2>&1 | sed "s/^/[$id] /" &
  pids+=($!)
  i=$((i + 1))
done
echo "cluster up: http://127.0.0.1:7880 http://127.0.0.1:7890 http://127.0.0.1:7900 (logs in $work)" >&2
echo "cluster summary: $work/switchyard sessions --cluster nats://127.0.0.1:4222" >&2
wait
