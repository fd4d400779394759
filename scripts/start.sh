#!/usr/bin/env bash
# Starts Provena. By default: the testnet of four validators (Alice, Bob, Charlie, Dave), each a
# real provena-node process, launched by zombienet from zombienet/provena-testnet.toml, with
# Alice's RPC on ws://127.0.0.1:9944; beside it Mosquitto (MQTT on 127.0.0.1:1883, or a free
# port) and a gateway service (`provena gateway run` as Alice, HTTP on 127.0.0.1:8080, or a
# free port) serving the dashboard. Builds the node, the client and the dashboard first if
# needed, prints the dashboard's URL, the Polkadot.js Apps link and every address, and with
# --simulate starts simulated devices that sign their readings and publish them over MQTT:
# device → broker → gateway → chain. Ctrl-C stops everything it started.
#
# Usage: scripts/start.sh [--simulate [N]] [--rpc-port PORT] [--dir DIR]
#        scripts/start.sh --dev [--persist DIR] [--rpc-port PORT] [-- EXTRA NODE ARGS]
#   --simulate [N]  also run `provena simulate --mqtt`: N devices (default 5), N readings/s
#   --rpc-port PORT Alice's RPC port (default 9944)
#   --dir DIR       where the network's files and logs go (default: a new temporary directory);
#                   DIR must not exist yet
#   --dev           one development node instead (Alice validating, two demo devices)
#   --persist DIR   with --dev: keep the chain in DIR across restarts (default: fresh each start)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

rpc_port=9944
dev=false
simulate=0
dir=
base=(--tmp)
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--dev) dev=true; shift ;;
	--persist) base=(--base-path "${2:?--persist needs a directory}"); shift 2 ;;
	--rpc-port) rpc_port=${2:?--rpc-port needs a port}; shift 2 ;;
	--dir) dir=${2:?--dir needs a directory}; shift 2 ;;
	--simulate)
		simulate=5
		if [[ ${2:-} =~ ^[0-9]+$ ]]; then simulate=$2; shift; fi
		shift
		;;
	--) shift; extra=("$@"); break ;;
	-h | --help) usage "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
[[ $rpc_port =~ ^[0-9]+$ ]] || die "--rpc-port needs a number, not $rpc_port"
port_in_use "$rpc_port" && die "port $rpc_port is in use (another node running?): stop it or pick --rpc-port"

ensure_build_deps
build_node_if_needed
rpc="ws://127.0.0.1:$rpc_port"

if $dev; then
	[ "$simulate" = 0 ] || die "--simulate runs with the testnet; for --dev run \`provena simulate\` yourself"
	say "Starting the Provena dev chain: RPC $rpc"
	say "Polkadot.js Apps: $(apps_link "$rpc")"
	say "Press Ctrl-C to stop."
	exec "$PROVENA_NODE" --dev "${base[@]}" --rpc-port "$rpc_port" --rpc-methods safe \
		--rpc-cors "$PROVENA_RPC_CORS" --enable-offchain-indexing true "${extra[@]}"
fi
[ "${base[0]}" = --tmp ] || die "--persist goes with --dev; the testnet starts fresh (see --dir)"
[ ${#extra[@]} = 0 ] || die "extra node arguments go with --dev; the testnet's are in zombienet/provena-testnet.toml"

ensure_node_js
ensure_mosquitto
build_client_if_needed
build_dashboard_if_needed
npm_install zombienet

if [ -z "$dir" ]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/provena-testnet.XXXXXX")
	rmdir "$dir" # zombienet creates it, and refuses to reuse one without asking
fi
[ -e "$dir" ] && die "$dir exists: give --dir a new directory"
dir=$(realpath -m "$dir")
mkdir -p "$(dirname "$dir")"
parent_log="$dir.zombienet.log"

zombienet_pid=
simulator_pid=
gateway_pid=
broker_pid=
stop() {
	trap - INT TERM EXIT
	for pid in "$simulator_pid" "$gateway_pid" "$broker_pid"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	if [ -n "$zombienet_pid" ] && kill -0 "$zombienet_pid" 2>/dev/null; then
		say "Stopping the testnet..."
		kill -INT "$zombienet_pid" 2>/dev/null || true
		wait "$zombienet_pid" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
	# zombienet kills its nodes as it exits; make sure none of this network's outlives us.
	[ -n "$dir" ] && pkill -KILL -f -- "--base-path $dir/" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

say "Launching four validators with zombienet (native provider); files and logs in $dir"
(cd "$PROVENA_ROOT/zombienet" && PROVENA_NODE="$PROVENA_NODE" PROVENA_RPC_PORT="$rpc_port" \
	exec node_modules/.bin/zombienet --provider native --logType text --dir "$dir" \
	spawn provena-testnet.toml) >"$parent_log" 2>&1 </dev/null &
zombienet_pid=$!

# zombienet writes zombie.json once every node is up.
started=$SECONDS
until [ -f "$dir/zombie.json" ]; do
	if ! kill -0 "$zombienet_pid" 2>/dev/null; then
		tail -n 30 "$parent_log" >&2
		die "zombienet stopped before the network was up (its log: $parent_log)"
	fi
	if (((SECONDS - started) % 15 == 14)); then
		launched=$(find "$dir" -maxdepth 1 -name '*.log' 2>/dev/null | wc -l)
		say "... $launched of 4 validators launched ($((SECONDS - started)) s)"
	fi
	sleep 1
done

# One line per node: name, RPC URL, log file.
nodes=$(node -e '
	const net = require(process.argv[1]);
	const byName = [...net.relay].sort((a, b) => a.name.localeCompare(b.name));
	for (const n of byName) console.log(`${n.name} ${n.wsUri} ${net.tmpDir}/${n.name}.log`);
' "$dir/zombie.json")
say "Waiting for the first finalized block..."
waited=$SECONDS
until [ "$(finalized_number "$rpc")" -ge 1 ] 2>/dev/null; do
	kill -0 "$zombienet_pid" 2>/dev/null || die "zombienet stopped (its log: $parent_log)"
	if ((SECONDS - waited >= 30)); then
		say "... no finalized block yet after $((SECONDS - started)) s; Alice's log: $dir/alice.log"
		waited=$SECONDS
	fi
	sleep 2
done

printf '\n'
say "Provena testnet: 4 validators, finalizing (up in $((SECONDS - started)) s)"
printf '  %-8s %-26s %s\n' node RPC log
while read -r name uri log; do printf '  %-8s %-26s %s\n' "$name" "$uri" "$log"; done <<<"$nodes"
printf '\n  The client:       export PROVENA_URL=%s; provena --help\n' "$rpc"
printf '  Chain spec (raw): %s (what `provena verify --chain-spec` trusts)\n' "$dir/testnet.json"


# The broker and the gateway. Mosquitto keeps at most 1,000 unacknowledged messages per session
# by default and drops the rest, QoS 1 included; the gateway's session may have to wait out a
# node outage, so its queue is made large.
mqtt_port=1883
port_in_use "$mqtt_port" && mqtt_port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\n' \
	"$mqtt_port" >"$dir/mosquitto.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$dir/mosquitto.conf" \
	>"$dir/mosquitto.log" 2>&1 </dev/null &
broker_pid=$!
http_port=8080
port_in_use "$http_port" && http_port=$(free_port)
"$PROVENA_CLI" --url "$rpc" gateway run --suri //Alice --store "$dir/gateway.db" \
	--mqtt "127.0.0.1:$mqtt_port" --http "127.0.0.1:$http_port" \
	--dashboard "$PROVENA_ROOT/dashboard/dist" >"$dir/gateway.log" 2>&1 </dev/null &
gateway_pid=$!
until gateway_healthy "$http_port"; do
	kill -0 "$broker_pid" 2>/dev/null || die "Mosquitto stopped (its log: $dir/mosquitto.log)"
	kill -0 "$gateway_pid" 2>/dev/null || die "the gateway stopped (its log: $dir/gateway.log)"
	sleep 0.5
done
printf '  MQTT broker:      127.0.0.1:%s (devices publish to provena/<device>/anchors)\n' "$mqtt_port"
printf '  Gateway:          http://127.0.0.1:%s (/metrics, /healthz, POST /v1/anchors), log %s\n' \
	"$http_port" "$dir/gateway.log"
printf '  Dashboard:        http://127.0.0.1:%s/dashboard/ (devices, readings, alerts, access)\n' "$http_port"
printf '  Polkadot.js Apps: %s\n' "$(apps_link "$rpc")"

if [ "$simulate" != 0 ]; then
	"$PROVENA_CLI" simulate --url "$rpc" --suri //Alice --devices "$simulate" --rate "$simulate" \
		--duration 86400 --mqtt "127.0.0.1:$mqtt_port" >"$dir/simulator.log" 2>&1 </dev/null &
	simulator_pid=$!
	printf '  Simulator:        %s devices, %s readings/s over MQTT to the gateway, log %s\n' \
		"$simulate" "$simulate" "$dir/simulator.log"
fi
printf '\n'
say "Press Ctrl-C to stop everything."
wait "$zombienet_pid"
