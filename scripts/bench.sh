#!/usr/bin/env bash
# The throughput benchmark, as BENCHMARKS.md reports it. One run:
#   1. starts a fresh `provena-node --dev` (its own temporary chain, ParityDB, free ports) and
#      runs `provena-bench` against it: remark_with_event (the baseline), single device-signed
#      anchors, gateway batches and Merkle batches, each warmed up and then measured;
#   2. starts the four-validator testnet (scripts/start.sh) and measures single anchors there.
# Builds the node and the client first if needed; stops every process it started.
#
# Usage: scripts/bench.sh [--dev-only] [--check-weights] [--soak S] [--node-arg ARG]...
#                         [--memory-limit MIB] [--warmup S] [--duration S] [--out DIR]
#   --dev-only    skip the testnet run
#   --check-weights  keep the dev node's state of every block (archive-canonical) and at the
#                 end execute each scenario's full blocks again with
#                 scripts/check-block-weights.sh: the time each takes against its weight
#   --soak S      instead of the scenarios: single anchors for S seconds on a fresh dev node,
#                 to see whether the node's memory grows with the chain (RSS a minute in,
#                 its largest after that, the database's size by column)
#   --node-arg A  one more argument for the dev node (repeatable), e.g. --node-arg
#                 --trie-cache-size=67108864 to see what a setting costs or saves
#   --memory-limit MIB  with --soak: the dev node runs in a memory cgroup limited to MIB
#                 (cgroup v1's memory controller, as root), to see whether it keeps up when the
#                 kernel must reclaim its mapped database; the cgroup's peak and OOM kills
#                 are reported
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
memory_limit=
out=
node_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--dev-only) testnet=false; shift ;;
	--check-weights) check_weights=true; shift ;;
	--soak) soak=${2:?--soak needs seconds}; shift 2 ;;
	--node-arg) node_args+=("${2:?--node-arg needs an argument}"); shift 2 ;;
	--memory-limit) memory_limit=${2:?--memory-limit needs MiB}; shift 2 ;;
	--warmup) warmup=${2:?--warmup needs seconds}; shift 2 ;;
	--duration) duration=${2:?--duration needs seconds}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) usage "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done
[[ $warmup =~ ^[0-9]+$ && $duration =~ ^[0-9]+$ && $soak =~ ^[0-9]+$ ]] ||
	die "--warmup, --duration and --soak take whole seconds"
[[ -z $memory_limit || $memory_limit =~ ^[1-9][0-9]*$ ]] || die "--memory-limit takes whole MiB"
[[ -z $memory_limit || $soak -gt 0 ]] || die "--memory-limit goes with --soak"
if $check_weights && [ "$soak" -gt 0 ]; then die "--check-weights checks the scenarios' blocks, not a --soak"; fi
out=$(realpath -m "${out:-$PROVENA_ROOT/bench-results/$(date -u +%Y%m%d-%H%M%S)}")
mkdir -p "$out"

# --memory-limit: a memory cgroup of its own for the dev node, a child of this script's.
# Swap, if any, is limited too, so the limit is on what the node keeps in memory.
cgroup=
if [ -n "$memory_limit" ]; then
	memory_root=/sys/fs/cgroup/memory
	own=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
	[ -n "$own" ] && [ -w "$memory_root${own%/}/" ] ||
		die "--memory-limit needs cgroup v1's memory controller, writable at $memory_root (as root)"
	cgroup="$memory_root${own%/}/provena-bench-$$"
fi
# One line on the cgroup: its peak charge (the node's heap and the page cache it brought in,
# mapped or not: the kernel reclaims the cache to stay under the limit) and its OOM kills.
cgroup_report() {
	local peak kills
	peak=$(($(cat "$cgroup/memory.max_usage_in_bytes") / 1048576))
	kills=$(sed -n 's/^oom_kill //p' "$cgroup/memory.oom_control")
	printf 'Memory cgroup limited to %s MiB: peak charge %s MiB, OOM kills %s\n' \
		"$memory_limit" "$peak" "${kills:-unknown}"
}

ensure_build_deps
ensure_node_js
build_node_if_needed
build_client_if_needed

# Both chains fund the well-known development accounts: Alice pays the run's accounts, and
# Bob, Charlie, Dave and Eve are the gateways.
dev_keys="--funder //Alice --gateways //Bob,//Charlie,//Dave,//Eve"

node_pid=
start_pid=
# Stops the dev node, if it runs. One starved under --memory-limit can take minutes to stop,
# so its limit is lifted first.
stop_node() {
	[ -n "$node_pid" ] || return 0
	if [ -n "$cgroup" ] && [ -d "$cgroup" ]; then
		[ ! -e "$cgroup/memory.memsw.limit_in_bytes" ] || echo -1 >"$cgroup/memory.memsw.limit_in_bytes"
		echo -1 >"$cgroup/memory.limit_in_bytes"
	fi
	kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
	node_pid=
}
stop() {
	trap - INT TERM EXIT
	stop_node || true
	[ -n "$cgroup" ] && rmdir "$cgroup" 2>/dev/null || true
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
# With --memory-limit, the node starts inside its cgroup: a shell joins it, then becomes the node.
in_cgroup=()
if [ -n "$cgroup" ]; then
	mkdir "$cgroup" || { cgroup=; die "cannot create a memory cgroup under $memory_root$own"; }
	echo $((memory_limit * 1048576)) >"$cgroup/memory.limit_in_bytes"
	[ ! -e "$cgroup/memory.memsw.limit_in_bytes" ] ||
		echo $((memory_limit * 1048576)) >"$cgroup/memory.memsw.limit_in_bytes"
	in_cgroup=(bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cgroup")
fi
${in_cgroup[@]+"${in_cgroup[@]}"} "$PROVENA_NODE" --dev --base-path "$out/dev-chain" --rpc-port "$rpc_port" --port "$(free_port)" \
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
	if ! "$PROVENA_BENCH" --url "ws://127.0.0.1:$rpc_port" --node-pid "$node_pid" \
		--node-db "$out/dev-chain" $dev_keys --scenarios single --warmup 0 --duration "$soak" \
		--max-in-flight 30000 --out "$out/soak.json" </dev/null | tee "$out/soak.md"; then
		[ -z "$cgroup" ] || {
			cgroup_report >&2
			say "A node whose own memory does not fit the limit is not killed: it stalls. Raise --memory-limit."
		}
		die "the soak failed (the dev node's log: $out/dev-node.log)"
	fi
	# Stopped, the node has written ParityDB's log into the columns' tables.
	stop_node
	python3 - "$out/soak.json" "$out/dev-chain" <<-'PY' | tee -a "$out/soak.md"
		import json, os, re, sys
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
		# ParityDB keeps a column's index_CC_* and table_CC_* files; CC is sc-client-db's column.
		names = {1: "state", 2: "state journal (pruning)", 4: "headers", 5: "block bodies",
		         8: "aux (consensus)", 9: "offchain: devices' logs"}
		by_column, total = {}, 0
		for root, _, files in os.walk(sys.argv[2]):
		    for f in files:
		        size = os.stat(os.path.join(root, f)).st_blocks * 512
		        total += size
		        m = re.match(r"(?:index|table)_(\d\d)_", f)
		        if m and os.path.basename(root) == "full":
		            col = int(m.group(1))
		            by_column[col] = by_column.get(col, 0) + size
		print("\n| database once the node stopped, allocated on disk | MiB |\n|---|---:|")
		for col, size in sorted(by_column.items(), key=lambda kv: -kv[1]):
		    if col in names:
		        print(f"| {names[col]} (column {col}) | {mib(size)} |")
		print(f"| everything else (other columns, ParityDB's log, keystore, network) | "
		      f"{mib(total - sum(s for c, s in by_column.items() if c in names))} |")
	PY
	[ -z "$cgroup" ] || cgroup_report | tee -a "$out/soak.md"
	exit 0
fi

say "Benchmarking the dev node: 4 scenarios, ${warmup} s warm-up + ${duration} s measured each"
"$PROVENA_BENCH" --url "ws://127.0.0.1:$rpc_port" --node-pid "$node_pid" \
	--node-db "$out/dev-chain" --node-log "$out/dev-node.log" $dev_keys \
	--warmup "$warmup" --duration "$duration" --max-in-flight 30000 --out "$out/dev.json" \
	</dev/null | tee "$out/dev.md"
stop_node

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
