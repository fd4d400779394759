#!/usr/bin/env bash
# Rewrites client/metadata/provena.scale with the metadata the current runtime serves: builds the
# node if needed, then runs the client's metadata test against a fresh dev node with
# PROVENA_BLESS=1. Run it after changing the runtime, then rebuild the client (its typed API is
# generated from that file) and fix what no longer compiles.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_build_deps
build_node_if_needed
say "Regenerating client/metadata/provena.scale from a dev node"
cd "$PROVENA_ROOT"
PROVENA_BLESS=1 PROVENA_NODE="$PROVENA_NODE" cargo test --release -p provena-client --test metadata -- --nocapture
git --no-pager diff --stat -- client/metadata/provena.scale
