#!/usr/bin/env bash
# The throughput benchmark, as BENCHMARKS.md reports it. One run:
#   1. starts a fresh `provena-node --dev` (its own temporary chain, ParityDB, free ports) and
#      runs `provena-bench` against it: remark_with_event (the baseline), single device-signed
#      anchors, gateway batches and Merkle batches, each warmed up and then measured;
#   2. starts the four-validator testnet (scripts/start.sh) and measures single anchors there.
# Builds the node and the client first if needed; stops every process it started.
#
# Usage: scripts/bench.sh [--dev-only] [--check-weights] [--soak S] [--node-arg ARG]...
#                         [--warmup S] [--duration S] [--out DIR]
#   --dev-only    skip the testnet run
#   --check-weights  keep the dev node's state of every block (archive-canonical) and at the
#                 end execute each scenario's full blocks again with
#                 scripts/check-block-weights.sh: the time each takes against its weight
#   --soak S      instead of the scenarios: single anchors for S seconds on a fresh dev node,
#                 to see whether the node's memory grows with the chain (RSS a minute in,
#                 its largest after that, the database's size)
#   --node-arg A  one more argument for the dev node (repeatable), e.g. --node-arg
#                 --trie-cache-size=67108864 to see what a setting costs or saves
#   --warmup S    seconds of load before measuring, per scenario (default 30)
#   --duration S  seconds measured, per scenario (default 60)
#   --out DIR     where results and logs go (default bench-results/<UTC date and time>)
# The results: DIR/dev.json and DIR/testnet.json (every figure), DIR/results.md (the tables);
# with --soak, DIR/soak.json and DIR/soak.md. The dev node's RSS and database size after each
# scenario are in the tables.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

warmup=30
duration=60
testnet=true
check_weights=false
soak=0
out=
node_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--dev-only) testnet=false; shift ;;
	--check-weights) check_weights=true; shift ;;
	--soak) soak=${2:?--soak needs seconds}; shift 2 ;;
	--node-arg) node_args+=("${2:?--node-arg needs an argument}"); shift 2 ;;
	--warmup) warmup=${2:?--warmup needs seconds}; shift 2 ;;
	--duration) duration=${2:?--duration needs seconds}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
[[ $warmup =~ ^[0-9]+$ && $duration =~ ^[0-9]+$ && $soak =~ ^[0-9]+$ ]] ||
	die "--warmup, --duration and --soak take whole seconds"
if $check_weights && [ "$soak" -gt 0 ]; then die "--check-weights checks the scenarios' blocks, not a --soak"; fi
out=$(realpath -m "${out:-$PROVENA_ROOT/bench-results/$(date -u +%Y%m%d-%H%M%S)}")
mkdir -p "$out"

ensure_build_deps
ensure_node_js
build_node_if_needed
build_client_if_needed

# Both chains fund the well-known development accounts: Alice pays the run's accounts, and
# Bob, Charlie, Dave and Eve are the gateways.
dev_keys="--funder //Alice --gateways //Bob,//Charlie,//Dave,//Eve"

node_pid=
start_pid=
stop() {
	trap - INT TERM EXIT
	[ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
	[ -n "$start_pid" ] && kill -TERM "$start_pid" 2>/dev/null && wait "$start_pid" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

# The node keeps a pool large enough for two blocks of the smallest transactions (a default
# pool holds 8,192), so the load generator, not the pool, decides what waits.
rpc_port=$(free_port)
say "Starting a fresh dev node (RPC $rpc_port); log $out/dev-node.log"
# Its chain lives in DIR/dev-chain, so the database's size can be reported; a fresh one each run.
rm -rf "$out/dev-chain"
if $check_weights; then
	# The blocks are executed again on the state before each, and with the chain's own spec.
	node_args+=(--state-pruning archive-canonical)
	"$PROVENA_NODE" build-spec --chain dev --raw >"$out/dev-spec.json" 2>/dev/null ||
		die "provena-node build-spec failed"
fi
"$PROVENA_NODE" --dev --base-path "$out/dev-chain" --rpc-port "$rpc_port" --port "$(free_port)" \
	--prometheus-port "$(free_port)" --no-telemetry --enable-offchain-indexing true \
	--pool-limit 40000 --pool-kbytes 204800 --rpc-max-connections 200 --rpc-methods safe ${node_args[@]+"${node_args[@]}"} \
	>"$out/dev-node.log" 2>&1 </dev/null &
node_pid=$!
until [ "$(finalized_number "ws://127.0.0.1:$rpc_port")" -ge 1 ] 2>/dev/null; do
	kill -0 "$node_pid" 2>/dev/null || die "the dev node stopped (its log: $out/dev-node.log)"
	sleep 1
done

if [ "$soak" -gt 0 ]; then
	say "Soak: single anchors for $soak s on the dev node"
	"$PROVENA_BENCH" --url "ws://127.0.0.1:$rpc_port" --node-pid "$node_pid" \
		--node-db "$out/dev-chain" $dev_keys --scenarios single --warmup 0 --duration "$soak" \
		--max-in-flight 30000 --out "$out/soak.json" </dev/null | tee "$out/soak.md"
	python3 - "$out/soak.json" <<-'PY' | tee -a "$out/soak.md"
		import json, sys
		r = json.load(open(sys.argv[1]))["results"][0]
		mib = lambda b: f"{b / 2**20:.0f}" if b is not None else "–"
		pct = lambda g: f"{100 * g:+.1f} %" if g is not None else "–"
		print("\n| minute | RSS (MiB) | anonymous (MiB) | mapped files (MiB) |\n|---:|---:|---:|---:|")
		for m in r["node_memory_by_minute"]:
		    print(f"| {m['minute']} | {mib(m['total_bytes'])} | {mib(m['anon_bytes'])} | {mib(m['file_bytes'])} |")
		print(f"\nRSS a minute in: {mib(r['node_rss_1min_bytes'])} MiB, largest after that "
		      f"{pct(r['node_rss_growth_after_1min'])}; anonymous memory a minute in: "
		      f"{mib(r['node_anon_1min_bytes'])} MiB, largest after that {pct(r['node_anon_growth_after_1min'])}; "
		      f"database after: {mib(r['node_db_after_bytes'])} MiB")
	PY
	exit 0
fi

say "Benchmarking the dev node: 4 scenarios, ${warmup} s warm-up + ${duration} s measured each"
"$PROVENA_BENCH" --url "ws://127.0.0.1:$rpc_port" --node-pid "$node_pid" \
	--node-db "$out/dev-chain" --node-log "$out/dev-node.log" $dev_keys \
	--warmup "$warmup" --duration "$duration" --max-in-flight 30000 --out "$out/dev.json" \
	</dev/null | tee "$out/dev.md"
kill "$node_pid" && wait "$node_pid" 2>/dev/null || true
node_pid=

if $testnet; then
	rpc_port=$(free_port)
	say "Starting the 4-validator testnet (RPC $rpc_port); log $out/testnet-start.log"
	"$PROVENA_ROOT/scripts/start.sh" --dir "$out/testnet" --rpc-port "$rpc_port" \
		>"$out/testnet-start.log" 2>&1 </dev/null &
	start_pid=$!
	until grep -q "4 validators, finalizing" "$out/testnet-start.log" 2>/dev/null; do
		kill -0 "$start_pid" 2>/dev/null || { tail -n 20 "$out/testnet-start.log" >&2; die "the testnet did not start"; }
		sleep 2
	done
	alice=$(pgrep -f -- "provena-node.*--rpc-port $rpc_port" | head -1 || true)
	say "Benchmarking single anchors on the testnet (Alice's node, pid ${alice:-unknown})"
	# zombienet's nodes keep the default pool (8,192 transactions): the window stays below it.
	"$PROVENA_BENCH" --url "ws://127.0.0.1:$rpc_port" ${alice:+--node-pid "$alice"} $dev_keys \
		--scenarios single --warmup "$warmup" --duration "$duration" --max-in-flight 7000 \
		--out "$out/testnet.json" </dev/null | tee "$out/testnet.md"
fi

{
	printf '## Dev node (%s)\n\n' "$(date -u +%Y-%m-%d)"
	cat "$out/dev.md"
	if $testnet; then
		printf '\n## 4-validator testnet, single anchors\n\n'
		cat "$out/testnet.md"
	fi
} >"$out/results.md"
if $check_weights; then
	"$PROVENA_ROOT/scripts/check-block-weights.sh" "$out"
	printf '\n## The full blocks executed again (scripts/check-block-weights.sh)\n\n' >>"$out/results.md"
	cat "$out/block-weights.md" >>"$out/results.md"
fi
say "Done: $out/results.md"
