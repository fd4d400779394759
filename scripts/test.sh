#!/usr/bin/env bash
# Runs every test in the project and exits non-zero on any failure. Usage:
#
#   scripts/test.sh [STAGE...]     STAGE: check, rust, zombienet, polkadotjs, dashboard
#                                  (default: all, in this order)
#
#  check       the fast check lane (scripts/check.sh): formatting, TOML, features, the
#              dependency arrows, clippy and docs with warnings denied;
#  rust        cargo test: the primitives' and runtime's tests, the node's and the client's
#              integration tests, which start the real provena-node (and, for the gateway
#              service, a real Mosquitto, installed here when missing), and the pallets' tests
#              with their benchmark suites and try_state hooks;
#  zombienet   zombienet/provena-testnet.zndsl: the four-validator testnet, really launched,
#              anchoring readings from the provena client, losing a validator and getting it
#              back, making proof bundles that are then verified with the network stopped;
#  polkadotjs  the Polkadot.js checks (node --test), which start the real node and talk to it
#              with @polkadot/api;
#  dashboard   the dashboard in Debian's headless Chromium (puppeteer-core), against the real
#              node and a real gateway service with simulated devices; screenshots of each view
#              go to $PROVENA_DASHBOARD_OUT (default dashboard/test-output).
#
# Each runner prints its own summary; the script ends with every stage's duration and result.
# Nothing prompts, ports are free ones, and every process a test starts is stopped by it.
#
# Everything builds in the release profile: the node the tests start must be an optimised
# build (a debug node needs a minute to author its first block), and one profile means one set
# of compiled dependencies.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PROVENA_ROOT"

all_stages=(check rust zombienet polkadotjs dashboard)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
for stage in "${stages[@]}"; do
	case " ${all_stages[*]} " in
	*" $stage "*) ;;
	*) die "unknown stage '$stage': the stages are ${all_stages[*]}" ;;
	esac
done

summary=()
current=""
started=0
report() {
	local status=$?
	if [ -n "$current" ]; then
		summary+=("$(printf '%-11s %5d s  FAILED' "$current" $(($(date +%s) - started)))")
	fi
	if [ ${#summary[@]} -gt 0 ]; then
		say "Stages"
		printf '  %s\n' "${summary[@]}" >&2
	fi
	exit "$status"
}
trap report EXIT

stage_check() {
	bash scripts/check.sh
}

# The pallets' tests run apart, built with `runtime-benchmarks` and `try-runtime`: each pallet's
# benchmarks then run once as tests against its mock (`impl_benchmark_test_suite!`), and every
# test ends by running the `try_state` hooks as try-runtime does. Their test binaries are built
# once either way; the features cost one more build of the FRAME crates beneath them.
pallets=(pallet-device-registry pallet-access-control pallet-telemetry)

stage_rust() {
	ensure_build_deps
	ensure_mosquitto
	local status=0 excluded=() selected=()
	for pallet in "${pallets[@]}"; do
		excluded+=(--exclude "$pallet")
		selected+=(-p "$pallet")
	done
	say "cargo test --release --workspace, the pallets apart (target dir: $CARGO_TARGET_DIR)"
	cargo test --release --workspace --locked --no-fail-fast "${excluded[@]}" || status=$?
	say "The pallets' tests, benchmark suites and try_state hooks (runtime-benchmarks, try-runtime)"
	cargo test --release --locked --no-fail-fast "${selected[@]}" \
		--features runtime-benchmarks,try-runtime || status=$?
	return "$status"
}

stage_zombienet() {
	ensure_build_deps
	ensure_node_js
	build_node_if_needed
	build_client_if_needed
	say "Zombienet: zombienet/provena-testnet.zndsl (four validators, native provider)"
	npm_install zombienet
	local zn_work zn_status
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
		return 1
	fi
	# The whole network is down now: the bundles made on it verify offline, trusting only the
	# raw chain spec the network ran (four GRANDPA authorities).
	if pgrep -f -- "--base-path $zn_work/network/" >/dev/null; then
		say "A node of the zombienet network is still running"
		return 1
	fi
	local bundle out
	for bundle in bundle.json bundle-one.json; do
		say "Offline: provena verify --bundle $bundle (no node running)"
		if ! out=$("$PROVENA_CLI" --url ws://127.0.0.1:1 verify --bundle "$zn_work/$bundle" \
			--chain-spec "$zn_work/network/testnet.json" </dev/null); then
			printf '%s\n' "$out"
			say "The bundle $zn_work/$bundle does not verify offline"
			return 1
		fi
		printf '%s\n' "$out" | tail -n 1
		case $out in
		*"of 4 authorities of set 0"*) ;;
		*) say "$bundle: finality was not proven by the testnet's four authorities"; return 1 ;;
		esac
	done
	rm -rf "$zn_work"
}

stage_polkadotjs() {
	ensure_build_deps
	ensure_node_js
	build_node_if_needed
	say "Polkadot.js checks against $PROVENA_NODE"
	npm_install polkadotjs
	(cd polkadotjs && PROVENA_NODE="$PROVENA_NODE" node --test --test-concurrency=1 --test-reporter=tap)
}

stage_dashboard() {
	ensure_build_deps
	ensure_chromium
	build_node_if_needed
	build_client_if_needed
	build_dashboard_if_needed
	say "The dashboard in Chromium against $PROVENA_NODE and a gateway service"
	(cd dashboard && PROVENA_NODE="$PROVENA_NODE" PROVENA_CLI="$PROVENA_CLI" \
		node --test --test-concurrency=1 --test-reporter=tap test/*.test.mjs)
}

for stage in "${stages[@]}"; do
	current=$stage
	started=$(date +%s)
	"stage_$stage"
	summary+=("$(printf '%-11s %5d s  passed' "$stage" $(($(date +%s) - started)))")
	current=""
done
