#!/usr/bin/env bash
# Fuzzes what anyone may hand the runtime (runtime/tests/fuzz.rs): bytes decoded as calls and
# extrinsics, calls dispatched by a device owner, and the verification API's arguments. Each
# target runs for the given time from a fresh seed; the summary gives the inputs run per
# target. An input that panics is saved under runtime/fuzz/regressions/<target>/ (commit it:
# every `cargo test` replays it from then on) and the script fails.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [SEED]
#   SECONDS_PER_TARGET  default 200: three targets, 10 minutes in all
#   SEED                default: the clock (printed, so a run can be repeated)
# Not part of scripts/test.sh (too long for CI); CI runs the same targets on a few hundred
# inputs each and replays every saved regression.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PROVENA_ROOT"

seconds=${1:-200}
seed=${2:-$(date +%s%N)}
case "$seconds$seed" in
*[!0-9]*) die "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [SEED] (whole numbers)" ;;
esac

ensure_build_deps
say "Fuzzing each runtime target for $seconds s (seed $seed)"
PROVENA_FUZZ_SECONDS=$seconds PROVENA_FUZZ_SEED=$seed \
	cargo test --release --locked -p provena-runtime --test fuzz -- --ignored --exact fuzz \
	--nocapture --test-threads 1
