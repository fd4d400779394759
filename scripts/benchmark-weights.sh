#!/usr/bin/env bash
# Generates each Provena pallet's src/weights.rs by running its benchmarks in the real runtime,
# through a node built with the `runtime-benchmarks` feature. Weights are never typed by hand:
# run this after changing a call, and commit the files it writes.
#
# Usage: scripts/benchmark-weights.sh [PALLET_DIR ...]   (default: every pallet under pallets/)
#   STEPS=50 REPEAT=20 by default; STEPS=2 REPEAT=1 gives a quick, imprecise smoke run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PROVENA_ROOT"

steps=${STEPS:-50}
repeat=${REPEAT:-20}
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=($(cd pallets && ls -d */ | tr -d /))

ensure_build_deps
say "Building provena-node with --features runtime-benchmarks"
cargo build --release -p provena-node --features runtime-benchmarks --locked

for dir in "${dirs[@]}"; do
	[ -f "pallets/$dir/Cargo.toml" ] || die "no pallet in pallets/$dir"
	pallet="pallet_${dir//-/_}"
	out="pallets/$dir/src/weights.rs"
	say "Benchmarking $pallet ($steps steps, $repeat repeats) -> $out"
	"$PROVENA_NODE" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps "$steps" \
		--repeat "$repeat" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/weight-template.hbs \
		--header scripts/weight-header.txt \
		--output "$out"
done
say "Done. The node in $CARGO_TARGET_DIR/release is now the benchmarking build; the next"
say "scripts/start.sh or cargo build rebuilds the normal one."
