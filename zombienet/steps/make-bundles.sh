#!/usr/bin/env bash
# Zombienet step: the `provena` client writes a proof bundle of every reading the probe device
# anchored (PROVENA_ZN_WORK/bundle.json) and of one reading (bundle-one.json), from Alice's node.
# scripts/test.sh verifies them offline once zombienet has stopped the whole network.
#
# Usage (from a .zndsl): alice: run ./steps/make-bundles.sh with "COUNT"
# Environment (set by scripts/test.sh): PROVENA_CLI, PROVENA_RPC_PORT, PROVENA_ZN_WORK.
set -euo pipefail
count=${1:?usage: make-bundles.sh COUNT}
: "${PROVENA_CLI:?PROVENA_CLI must name the provena binary}"
: "${PROVENA_RPC_PORT:?PROVENA_RPC_PORT must be the RPC port of Alice}"
: "${PROVENA_ZN_WORK:?PROVENA_ZN_WORK must name a work directory}"
export PROVENA_URL="ws://127.0.0.1:$PROVENA_RPC_PORT" PROVENA_HOME="$PROVENA_ZN_WORK/home"
cd "$PROVENA_ZN_WORK"
exec >>bundles.log 2>&1
device=$(cat device)
"$PROVENA_CLI" proof --device "$device" --seq 0 --to $((count - 1)) --out bundle.json
"$PROVENA_CLI" proof --device "$device" --seq 7 --out bundle-one.json
echo "bundles of $count readings and of reading 7 of $device written"
