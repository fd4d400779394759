#!/usr/bin/env bash
# Generates every weight the runtime uses by running benchmarks in the real runtime, through a
# node built with the `runtime-benchmarks` feature. Weights are never typed by hand: run this
# after changing a call, and commit the files it writes.
#
#   - Provena's pallets -> pallets/<dir>/src/weights.rs (Provena's template: a `WeightInfo`
#     trait, the benchmarked impl, and `()` priced with ParityDB's database weights);
#   - the SDK pallets the runtime uses, and the checks every signed transaction goes through
#     (`frame_system_extensions`, and `pallet_transaction_payment`'s fee charge)
#     -> runtime/src/weights/<pallet>.rs;
#   - `overhead`: the base weight of a block and of an extrinsic, measured by building blocks of
#     signed remarks on a ParityDB database -> runtime/src/weights/{block,extrinsic}_weights.rs;
#   - `db`: the runtime's database weights (`DbWeight`), what one storage read and one write
#     cost: a dev node on ParityDB is filled by `provena-bench` (its accounts, 1,000 devices
#     with credits, and a minute of anchors), stopped, and `benchmark storage` reads every key
#     of its state, then writes them all again in commits of 1,000 keys, as a block of
#     thousands of transactions does -> runtime/src/weights/paritydb_weights.rs. The other
#     weight files count reads and writes, so they need not run again after it.
#
# Usage: scripts/benchmark-weights.sh [WHAT ...]   (default: all of them)
#   WHAT is a directory under pallets/ (e.g. telemetry), an SDK pallet (e.g. frame_system),
#   `overhead` or `db`. STEPS=50 REPEAT=20 by default; STEPS=2 REPEAT=1 is a quick, imprecise
#   smoke run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PROVENA_ROOT"

steps=${STEPS:-50}
repeat=${REPEAT:-20}
sdk_pallets=(frame_system frame_system_extensions pallet_balances pallet_timestamp pallet_sudo
	pallet_utility pallet_transaction_payment)
what=("$@")
if [ ${#what[@]} -eq 0 ]; then
	what=($(cd pallets && ls -d */ | tr -d /) "${sdk_pallets[@]}" overhead db)
fi

ensure_build_deps
if printf '%s\n' "${what[@]}" | grep -qx db; then
	# Before the benchmarking node: a normal build would replace it.
	ensure_node_js
	build_client_if_needed
fi
say "Building provena-node with --features runtime-benchmarks"
cargo build --release -p provena-node --features runtime-benchmarks --locked

node_pid=
trap '[ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; exit 130' INT TERM
trap '[ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null || true' EXIT

# Fills a dev chain on ParityDB in directory $1 as the throughput benchmark would, then stops
# its node.
fill_dev_chain() {
	local base=$1 rpc_port log=$1/node.log
	rpc_port=$(free_port)
	say "Filling a dev chain on ParityDB with provena-bench (log $log)"
	"$PROVENA_NODE" --dev --base-path "$base" --database paritydb --rpc-port "$rpc_port" \
		--port "$(free_port)" --prometheus-port "$(free_port)" --no-telemetry \
		--enable-offchain-indexing true --pool-limit 40000 --pool-kbytes 204800 --rpc-methods safe \
		>"$log" 2>&1 </dev/null &
	node_pid=$!
	until [ "$(finalized_number "ws://127.0.0.1:$rpc_port")" -ge 1 ] 2>/dev/null; do
		kill -0 "$node_pid" 2>/dev/null || die "the dev node stopped (its log: $log)"
		sleep 1
	done
	"$PROVENA_BENCH" --url "ws://127.0.0.1:$rpc_port" --funder //Alice \
		--gateways //Bob,//Charlie,//Dave,//Eve --scenarios gateway,single --warmup 0 \
		--duration 30 --max-in-flight 30000 --out "$base/bench.json" </dev/null >"$base/bench.md" ||
		die "provena-bench could not fill the chain (its output: $base/bench.md)"
	kill "$node_pid" && wait "$node_pid" 2>/dev/null || true
	node_pid=
}

# Runs `benchmark pallet` for one pallet; the remaining arguments choose template and output.
bench_pallet() {
	local pallet=$1
	shift
	say "Benchmarking $pallet ($steps steps, $repeat repeats)"
	"$PROVENA_NODE" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps "$steps" \
		--repeat "$repeat" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--header scripts/weight-header.txt \
		"$@"
}

mkdir -p runtime/src/weights
for item in "${what[@]}"; do
	if [ "$item" = overhead ]; then
		base=$(mktemp -d)
		say "Benchmarking block and extrinsic overhead on ParityDB -> runtime/src/weights/"
		"$PROVENA_NODE" benchmark overhead \
			--chain dev \
			--database paritydb \
			--base-path "$base" \
			--wasm-execution compiled \
			--header scripts/weight-header.txt \
			--weight-path runtime/src/weights
		rm -rf "$base"
		# The headers record the command as run from the repository, not this machine's paths.
		sed -i "s|$base|<a temporary base path>|g" runtime/src/weights/{block,extrinsic}_weights.rs
	elif [ "$item" = db ]; then
		base=$(mktemp -d)
		fill_dev_chain "$base"
		say "Benchmarking storage reads and writes on that state -> runtime/src/weights/"
		"$PROVENA_NODE" benchmark storage \
			--chain dev \
			--base-path "$base" \
			--database paritydb \
			--state-version 1 \
			--batch-size 1000 \
			--header scripts/weight-header.txt \
			--template-path scripts/db-weight-template.hbs \
			--weight-path runtime/src/weights
		rm -rf "$base"
		sed -i "s|$base|<a temporary base path>|g" runtime/src/weights/paritydb_weights.rs
	elif [ -f "pallets/$item/Cargo.toml" ]; then
		out="pallets/$item/src/weights.rs"
		bench_pallet "pallet_${item//-/_}" --template scripts/weight-template.hbs --output "$out"
	elif printf '%s\n' "${sdk_pallets[@]}" | grep -qx "$item"; then
		bench_pallet "$item" --output "runtime/src/weights/$item.rs"
	else
		die "unknown benchmark '$item': a directory under pallets/, one of ${sdk_pallets[*]}, overhead or db"
	fi
done
# Every header names the node as `provena-node`, wherever this machine built it.
grep -rlF -- "$PROVENA_NODE" pallets/*/src/weights.rs runtime/src/weights/*.rs 2>/dev/null |
	xargs -r sed -i "s|$PROVENA_NODE|provena-node|g"
say "Done. The node in $CARGO_TARGET_DIR/release is now the benchmarking build; the next"
say "scripts/start.sh or cargo build rebuilds the normal one."
