#!/usr/bin/env bash
# Starts Provena: a development node (Alice validating) on ws://127.0.0.1:9944, building the node
# first if needed, and prints the Polkadot.js Apps link. Ctrl-C stops it.
#
# Usage: scripts/start.sh [--persist DIR] [--rpc-port PORT] [-- EXTRA NODE ARGS]
#   --persist DIR   keep the chain in DIR across restarts (default: a fresh chain each start)
#   --rpc-port PORT RPC port (default 9944)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

rpc_port=9944
base=(--tmp)
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--persist) base=(--base-path "${2:?--persist needs a directory}"); shift 2 ;;
	--rpc-port) rpc_port=${2:?--rpc-port needs a port}; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done

ensure_build_deps
build_node_if_needed

rpc="ws://127.0.0.1:$rpc_port"
say "Starting the Provena dev chain: RPC $rpc"
say "Polkadot.js Apps: https://polkadot.js.org/apps/?rpc=$(printf '%s' "$rpc" | sed 's/:/%3A/g; s#/#%2F#g')"
say "Press Ctrl-C to stop."
exec "$PROVENA_NODE" --dev "${base[@]}" --rpc-port "$rpc_port" --rpc-cors all "${extra[@]}"
