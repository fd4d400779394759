#!/usr/bin/env bash
# Zombienet step: the `provena` client anchors COUNT readings of one thermometer through Alice's
# node and waits until they are finalized. The first call generates the device key and registers
# the device (owner: Alice); later calls continue its sequence. Alice signs as owner, the device
# key signs every anchor, and readings go in Merkle batches of 4.
#
# Usage (from a .zndsl): alice: run ./steps/submit-readings.sh with "PHASE,COUNT"
# Environment (set by scripts/test.sh): PROVENA_CLI, PROVENA_RPC_PORT, PROVENA_ZN_WORK.
# Writes PROVENA_ZN_WORK/device (the device id) and PHASE.log / PHASE.json (the client's output);
# zombienet copies this file away before running it, so it refers to nothing beside it.
set -euo pipefail
phase=${1:?usage: submit-readings.sh PHASE COUNT}
count=${2:?usage: submit-readings.sh PHASE COUNT}
: "${PROVENA_CLI:?PROVENA_CLI must name the provena binary}"
: "${PROVENA_RPC_PORT:?PROVENA_RPC_PORT must be the RPC port of Alice}"
: "${PROVENA_ZN_WORK:?PROVENA_ZN_WORK must name a work directory}"
export PROVENA_URL="ws://127.0.0.1:$PROVENA_RPC_PORT" PROVENA_HOME="$PROVENA_ZN_WORK/home"
cd "$PROVENA_ZN_WORK"
exec >>"$phase.log" 2>&1

if [ ! -f device.key ]; then
	"$PROVENA_CLI" key generate --scheme sr25519 --out device.key
	"$PROVENA_CLI" device register --suri //Alice --device-key device.key \
		--kind thermometer --model "zombienet probe" --location "testnet"
	"$PROVENA_CLI" key inspect device.key --device-id >device
fi
device=$(cat device)

# COUNT readings one minute apart, after the ones already sent (timestamps keep them apart).
sent=$(cat sent 2>/dev/null || echo 0)
for i in $(seq "$sent" $((sent + count - 1))); do
	printf '{"timestamp_ms": %d, "values": {"temperature": 4.%d}}\n' $((1763800000000 + i * 60000)) $((i % 10))
done >"$phase.jsonl"
"$PROVENA_CLI" --json submit --suri //Alice --device "$device" --device-key device.key \
	--file "$phase.jsonl" --batch-size 4 --anchors-per-tx 2 >"$phase.json"
echo $((sent + count)) >sent
echo "phase $phase: $count readings of $device finalized"
