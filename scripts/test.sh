#!/usr/bin/env bash
# Runs every test in the project and exits non-zero on any failure:
#  1. cargo test: the pallets' and primitives' unit tests, and the node's integration tests,
#     which start the real provena-node;
#  2. the Polkadot.js checks (node --test), which start the real node and talk to it with
#     @polkadot/api.
# Each runner ends with its own summary lines.
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

say "Polkadot.js checks against $PROVENA_NODE"
npm_install polkadotjs
(cd polkadotjs && PROVENA_NODE="$PROVENA_NODE" node --test --test-concurrency=1 --test-reporter=tap)
