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
#     signed remarks on a ParityDB database -> runtime/src/weights/{block,extrinsic}_weights.rs.
#
# Usage: scripts/benchmark-weights.sh [WHAT ...]   (default: all of them)
#   WHAT is a directory under pallets/ (e.g. telemetry), an SDK pallet (e.g. frame_system), or
#   `overhead`. STEPS=50 REPEAT=20 by default; STEPS=2 REPEAT=1 is a quick, imprecise smoke run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PROVENA_ROOT"

steps=${STEPS:-50}
repeat=${REPEAT:-20}
sdk_pallets=(frame_system frame_system_extensions pallet_balances pallet_timestamp pallet_sudo
	pallet_utility pallet_transaction_payment)
what=("$@")
if [ ${#what[@]} -eq 0 ]; then
	what=($(cd pallets && ls -d */ | tr -d /) "${sdk_pallets[@]}" overhead)
fi

ensure_build_deps
say "Building provena-node with --features runtime-benchmarks"
cargo build --release -p provena-node --features runtime-benchmarks --locked

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
	elif [ -f "pallets/$item/Cargo.toml" ]; then
		out="pallets/$item/src/weights.rs"
		bench_pallet "pallet_${item//-/_}" --template scripts/weight-template.hbs --output "$out"
	elif printf '%s\n' "${sdk_pallets[@]}" | grep -qx "$item"; then
		bench_pallet "$item" --output "runtime/src/weights/$item.rs"
	else
		die "unknown benchmark '$item': a directory under pallets/, one of ${sdk_pallets[*]}, or overhead"
	fi
done
# Every header names the node as `provena-node`, wherever this machine built it.
grep -rlF -- "$PROVENA_NODE" pallets/*/src/weights.rs runtime/src/weights/*.rs 2>/dev/null |
	xargs -r sed -i "s|$PROVENA_NODE|provena-node|g"
say "Done. The node in $CARGO_TARGET_DIR/release is now the benchmarking build; the next"
say "scripts/start.sh or cargo build rebuilds the normal one."
