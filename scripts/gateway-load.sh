#!/usr/bin/env bash
# The gateway's load run, as BENCHMARKS.md reports it: simulated devices sign their batches
# with provena-device and publish them over MQTT (QoS 1) to Mosquitto; one `provena gateway
# run` takes them from the broker, stores them and anchors them on a fresh dev node; the
# simulator follows finalized blocks and matches every anchor to the message that carried it.
# It reports readings published and finalized per second (each minute), publish → finalized
# latency (p50, p99, max), anything lost, gaps the chain recorded, and the gateway's RSS each
# minute. Builds the node and the client first if needed; stops every process it started.
#
# Usage: scripts/gateway-load.sh [--devices N] [--rate R] [--duration S] [--batch N] [--out DIR]
#   --devices N   simulated devices (default 1000)
#   --rate R      readings per second, all devices together (default 20000)
#   --duration S  seconds of publishing (default 600)
#   --batch N     readings per device message, one signed anchor each (default 100)
#   --out DIR     where results and logs go (default bench-results/gateway-<UTC date and time>)
# The results: DIR/load.json (every figure) and DIR/load.md (the summary); the logs of the
# node, the broker and the gateway beside them. Exits non-zero when anything was lost, the
# chain recorded a gap or refused an anchor.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

devices=1000
rate=20000
duration=600
batch=100
out=
while [ $# -gt 0 ]; do
	case "$1" in
	--devices) devices=${2:?--devices needs a number}; shift 2 ;;
	--rate) rate=${2:?--rate needs a number}; shift 2 ;;
	--duration) duration=${2:?--duration needs seconds}; shift 2 ;;
	--batch) batch=${2:?--batch needs a number}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) usage "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
[[ $devices =~ ^[0-9]+$ && $duration =~ ^[0-9]+$ && $batch =~ ^[0-9]+$ && $rate =~ ^[0-9.]+$ ]] ||
	die "--devices, --duration and --batch take whole numbers, --rate a number"
out=$(realpath -m "${out:-$PROVENA_ROOT/bench-results/gateway-$(date -u +%Y%m%d-%H%M%S)}")
mkdir -p "$out"

ensure_build_deps
ensure_mosquitto
ensure_node_js
build_node_if_needed
build_client_if_needed
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)

pids=()
stop() {
	trap - INT TERM EXIT
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	done
}
trap stop EXIT
trap 'exit 130' INT TERM

rpc_port=$(free_port)
say "Starting a fresh dev node (RPC $rpc_port); log $out/node.log"
rm -rf "$out/chain" "$out/gateway.db"*
"$PROVENA_NODE" --dev --base-path "$out/chain" --rpc-port "$rpc_port" --port "$(free_port)" \
	--prometheus-port "$(free_port)" --no-telemetry --enable-offchain-indexing true \
	--pool-limit 40000 --pool-kbytes 204800 --rpc-methods safe >"$out/node.log" 2>&1 </dev/null &
pids+=($!)
until [ "$(finalized_number "ws://127.0.0.1:$rpc_port")" -ge 1 ] 2>/dev/null; do
	kill -0 "${pids[0]}" 2>/dev/null || die "the dev node stopped (its log: $out/node.log)"
	sleep 1
done

# The broker keeps what the gateway has not taken yet: Mosquitto's default queue of 1,000
# messages per client drops the rest (QoS 1 included) when the gateway falls behind, so the
# queue is made large enough for any backlog of this run.
mqtt_port=$(free_port)
cat >"$out/mosquitto.conf" <<EOF
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 10000000
EOF
say "Starting Mosquitto on 127.0.0.1:$mqtt_port"
"$mosquitto_bin" -c "$out/mosquitto.conf" >"$out/mosquitto.log" 2>&1 </dev/null &
pids+=($!)
until port_in_use "$mqtt_port"; do
	kill -0 "${pids[1]}" 2>/dev/null || die "Mosquitto stopped (its log: $out/mosquitto.log)"
	sleep 0.2
done

http_port=$(free_port)
say "Starting the gateway (HTTP 127.0.0.1:$http_port); log $out/gateway.log"
PROVENA_LOG=info "$PROVENA_CLI" --url "ws://127.0.0.1:$rpc_port" gateway run --suri //Alice \
	--store "$out/gateway.db" --mqtt "127.0.0.1:$mqtt_port" --http "127.0.0.1:$http_port" \
	>"$out/gateway.log" 2>&1 </dev/null &
gateway_pid=$!
pids+=("$gateway_pid")
until gateway_healthy "$http_port"; do
	kill -0 "$gateway_pid" 2>/dev/null || die "the gateway stopped (its log: $out/gateway.log)"
	sleep 0.5
done

say "Publishing: $devices devices, $rate readings/s, $duration s, $batch readings a message"
status=0
"$PROVENA_CLI" --url "ws://127.0.0.1:$rpc_port" --json simulate --suri //Alice \
	--mqtt "127.0.0.1:$mqtt_port" --devices "$devices" --rate "$rate" --duration "$duration" \
	--batch-size "$batch" --gateway-pid "$gateway_pid" >"$out/load.json" 2> >(tee "$out/simulate.log" >&2) \
	</dev/null || status=$?
(exec 3<>"/dev/tcp/127.0.0.1/$http_port" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3) >"$out/gateway-metrics.txt" 2>/dev/null || true

python3 - "$out/load.json" <<-'PY' | tee "$out/load.md"
	import json, sys
	r = json.load(open(sys.argv[1]))
	f = lambda x, d=1: "–" if x is None else f"{x:,.{d}f}"
	print(f"{r['devices']:,} devices, {r['readings_per_message']} readings a message, {f(r['seconds'], 0)} s of publishing\n")
	print("| figure | value |\n|---|---:|")
	print(f"| readings published | {r['readings_published']:,} ({f(r['readings_per_second_published'], 0)}/s) |")
	print(f"| messages published / acknowledged by the broker | {r['messages_published']:,} / {r['messages_acknowledged']:,} |")
	print(f"| readings finalized | {r['readings_finalized']:,} ({f(r['readings_per_second_finalized'], 0)}/s) |")
	print(f"| lost (anchors / readings) | {r['anchors_lost']:,} / {r['readings_lost']:,} |")
	print(f"| gaps recorded / anchors refused | {r['sequence_gaps']} / {r['anchors_rejected']} |")
	print(f"| publish → finalized p50 / p99 / max | {f(r['publish_to_final_p50_s'])} / {f(r['publish_to_final_p99_s'])} / {f(r['publish_to_final_max_s'])} s |")
	print(f"| gateway RSS, largest | {f(r['gateway_rss_max_mib'], 0)} MiB |")
	print("\n| minute | published readings/s | finalized readings/s | gateway RSS (MiB) |\n|---:|---:|---:|---:|")
	pub, fin, rss = r["published_per_second_by_minute"], r["finalized_per_second_by_minute"], r["gateway_rss_by_minute_mib"]
	for m in range(max(len(pub), len(fin), len(rss))):
	    g = lambda a: a[m] if m < len(a) else None
	    print(f"| {m + 1} | {f(g(pub), 0)} | {f(g(fin), 0)} | {f(g(rss), 0)} |")
PY
say "Done: $out/load.md"
exit "$status"
