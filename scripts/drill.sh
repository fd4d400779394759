#!/usr/bin/env bash
# Fault drills on a real network: four validators, each in its own Linux network namespace and
# base path, joined by a bridge, with Mosquitto, a gateway and simulated devices anchoring
# readings through them all along. The drills, in order:
#
#   partition  the network split 2 + 2 for longer than the gateway's transactions live: no
#              finality during the split, both halves keep building blocks; after healing one
#              chain wins and finality resumes;
#   stall      two of four validators stopped for 10 minutes while readings keep arriving:
#              finality stalls, then catches up when they return;
#   restart    every validator stopped and started again from its base path: the chain goes on
#              from where it was;
#   degrade    every link delayed 200 ms and dropping 5 % of packets for 5 minutes: blocks are
#              still finalized.
#
# Each drill prints its figures (finality lag during and after, readings sent, finalized, lost)
# and fails if a finalized block is reverted, or if any reading the broker acknowledged is not
# finalized exactly once (no loss, no gap, no refusal). A drill this machine cannot run is
# reported as skipped with the reason, never as passed. All four take about 34 minutes: they are
# not part of scripts/test.sh.
#
# Usage: sudo scripts/drill.sh [--drills partition,stall,restart,degrade] [--out DIR] [more]
#   --out DIR     logs, base paths and drills.json (default bench-results/drill-<UTC time>)
#   more          options of scripts/drill/drill.py: --split S, --stall S, --degrade S,
#                 --delay-ms MS, --loss PERCENT, --mortality BLOCKS, --devices N, --rate R,
#                 --batch N, --drain S (python3 scripts/drill/drill.py --help tells them all)
#
# Needs root (namespaces, bridges, iptables) and installs what it uses: iproute2, iptables,
# iputils-ping, libnetfilter-queue1 (the 200 ms delay is done in user space through NFQUEUE,
# as this kind of kernel has no netem) and mosquitto. Traffic stays between the namespaces:
# nothing listens on the host, and every process and namespace is removed at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PROVENA_ROOT"

out=
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) usage "$0"; exit 0 ;;
	*) args+=("$1"); shift ;;
	esac
done

[ "$(id -u)" = 0 ] ||
	die "the drills create network namespaces, bridges and packet filters: run them as root"
command -v ip >/dev/null || apt_install "ip, for the namespaces" iproute2 ||
	die "ip is missing: install iproute2"
if ! ip netns add pvdrill-probe 2>/tmp/pvdrill-probe.err; then
	die "this machine cannot create network namespaces ($(cat /tmp/pvdrill-probe.err)); the drills need them"
fi
ip netns del pvdrill-probe
missing=()
command -v iptables >/dev/null || missing+=(iptables)
command -v ping >/dev/null || missing+=(iputils-ping)
ldconfig -p 2>/dev/null | grep -q libnetfilter_queue.so.1 || missing+=(libnetfilter-queue1)
if [ ${#missing[@]} -gt 0 ]; then
	apt_install "what the drills use" "${missing[@]}" ||
		say "Could not install ${missing[*]}: the drills that need them will be skipped"
fi
ensure_build_deps
ensure_mosquitto
build_node_if_needed
build_client_if_needed

out=$(realpath -m "${out:-$PROVENA_ROOT/bench-results/drill-$(date -u +%Y%m%d-%H%M%S)}")
mkdir -p "$out"
exec python3 scripts/drill/drill.py --node "$PROVENA_NODE" --cli "$PROVENA_CLI" \
	--mosquitto "$(command -v mosquitto || echo /usr/sbin/mosquitto)" --out "$out" \
	${args[@]+"${args[@]}"}
