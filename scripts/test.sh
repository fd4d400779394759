#!/usr/bin/env bash
# Runs every test in the project and exits non-zero on any failure:
#  1. cargo test: the pallets' and primitives' unit tests, and the node's integration tests,
#     which start the real provena-node;
#  2. the zombienet tests (zombienet/provena-testnet.zndsl): the four-validator testnet, really
#     launched, anchoring readings from the provena client, losing a validator and getting it
#     back;
#  3. the Polkadot.js checks (node --test), which start the real node and talk to it with
#     @polkadot/api.
# Each runner ends with its own summary lines. Nothing prompts, ports are free ones, and every
# process a test starts is stopped by it.
#
# Everything builds in the release profile: the node the tests start must be an optimised
# build (a debug node needs a minute to author its first block), and one profile means one set
# of compiled dependencies.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PROVENA_ROOT"

ensure_build_deps
ensure_node_js

say "cargo test --release --workspace (target dir: $CARGO_TARGET_DIR)"
cargo test --release --workspace --locked --no-fail-fast

say "Zombienet: zombienet/provena-testnet.zndsl (four validators, native provider)"
npm_install zombienet
[ -x "$PROVENA_CLI" ] || die "$PROVENA_CLI is missing: cargo test should have built it"
zn_work=$(mktemp -d "${TMPDIR:-/tmp}/provena-zombienet.XXXXXX")
if (cd zombienet && PROVENA_NODE="$PROVENA_NODE" PROVENA_CLI="$PROVENA_CLI" PROVENA_ZN_WORK="$zn_work" \
	PROVENA_RPC_PORT=$(free_port) node_modules/.bin/zombienet --provider native --logType text \
	--dir "$zn_work/network" test provena-testnet.zndsl </dev/null); then
	zn_status=0
else
	zn_status=$?
fi
# zombienet kills its nodes when it ends; make sure none of them outlives it.
pkill -KILL -f -- "--base-path $zn_work/network/" 2>/dev/null || true
if [ "$zn_status" != 0 ]; then
	say "The zombienet tests failed; node logs in $zn_work/network, client output in $zn_work/*.log"
	exit 1
fi
rm -rf "$zn_work"

say "Polkadot.js checks against $PROVENA_NODE"
npm_install polkadotjs
(cd polkadotjs && PROVENA_NODE="$PROVENA_NODE" node --test --test-concurrency=1 --test-reporter=tap)
