#!/usr/bin/env bash
# Checks the weights in real blocks: executes again, on this machine, the full blocks of a
# `scripts/bench.sh --check-weights` run and compares the time each block takes with the weight
# it consumed (`System::BlockWeight`, after refunds). A block that takes longer than its weight
# means a call in it is charged less than it costs. The pallet benchmarks measure each call
# alone; this measures the calls as blocks really hold them, with the extrinsic's base, the
# transaction extensions and their refunds, and nothing else running (no pool, no load
# generator), through `provena-node benchmark block`.
#
# Usage: scripts/check-block-weights.sh DIR [--repeat N] [--range SCENARIO:FIRST-LAST]...
#   DIR         the output directory of `scripts/bench.sh --check-weights` (bench.sh runs this
#               script at its end): its dev.json names each scenario's full blocks, dev-chain
#               holds them with the state before each, dev-spec.json is the chain they are on
#   --repeat N  executions of each block, averaged (default 3)
#   --range S:F-L  check blocks F to L as scenario S instead of the blocks dev.json names
#               (repeatable; for a run whose dev.json predates `full_block_numbers`)
# Writes DIR/block-weights.md (a row per scenario) and DIR/block-weights.log (every block
# executed, with the block before the first as a warm-up).
#
# It builds provena-node with `--features runtime-benchmarks` (the `benchmark` subcommand) and
# builds the normal node again at its end. The blocks run on the chain's own runtime code, so
# the benchmarking build's runtime does not change what is measured.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir=
repeat=3
ranges=
while [ $# -gt 0 ]; do
	case "$1" in
	--repeat) repeat=${2:?--repeat needs a number}; shift 2 ;;
	--range)
		[[ ${2:-} =~ ^([a-z]+):([0-9]+)-([0-9]+)$ ]] || die "--range takes SCENARIO:FIRST-LAST, e.g. single:38-49"
		ranges+="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"$'\n'
		shift 2 ;;
	-h | --help) usage "$0"; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) [ -z "$dir" ] || die "one directory only (see --help)"; dir=$1; shift ;;
	esac
done
[ -n "$dir" ] || die "usage: scripts/check-block-weights.sh DIR [--repeat N] [--range SCENARIO:FIRST-LAST]... (see --help)"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "--repeat takes a whole number of at least 1"
dir=$(realpath "$dir")
for need in dev.json dev-chain dev-spec.json; do
	[ -e "$dir/$need" ] || die "$dir/$need is missing: run scripts/bench.sh --check-weights --out $dir"
done

# Each scenario's full blocks, a "scenario number" line each.
if [ -n "$ranges" ]; then
	blocks=$(while read -r scenario first last; do
		for ((n = first; n <= last; n++)); do echo "$scenario $n"; done
	done <<<"${ranges%$'\n'}")
else
	blocks=$(python3 - "$dir/dev.json" <<-'PY'
		import json, sys
		for r in json.load(open(sys.argv[1]))["results"]:
		    numbers = r.get("full_block_numbers")
		    if not numbers:
		        sys.exit(f"{r['scenario']}: dev.json names no full blocks (a run of bench.sh before --check-weights?)")
		    for n in numbers:
		        print(r["scenario"], n)
	PY
	) || die "could not read the blocks to check from $dir/dev.json"
fi
[ -n "$blocks" ] || die "no blocks to check"
printf '%s\n' "$blocks" >"$dir/block-weights.blocks"
# One pass over all of them, from the block before the first: the first block a process
# executes also pays for compiling the runtime and for its cold caches, so it is only a
# warm-up, reported apart.
first=$(awk '{print $2}' <<<"$blocks" | sort -n | head -1)
last=$(awk '{print $2}' <<<"$blocks" | sort -n | tail -1)
from=$((first > 1 ? first - 1 : 1))

ensure_build_deps
cd "$PROVENA_ROOT"
say "Building provena-node with --features runtime-benchmarks"
cargo build --release -p provena-node --features runtime-benchmarks --locked
# Whatever happens below, leave the normal node in the target directory.
trap build_node EXIT

log=$dir/block-weights.log
say "Executing blocks $from..$last again, $repeat times each (log: $log)"
"$PROVENA_NODE" benchmark block --chain "$dir/dev-spec.json" --base-path "$dir/dev-chain" \
	--database paritydb --state-pruning archive-canonical --from "$from" --to "$last" \
	--repeat "$repeat" 2>&1 </dev/null | grep -E "Block [0-9]+ with" >"$log" ||
	die "provena-node benchmark block failed on blocks $from..$last"

python3 - "$log" "$dir/block-weights.blocks" "$dir/dev.json" <<-'PY' | tee "$dir/block-weights.md"
	import json, re, sys
	line = re.compile(r"Block (\d+) with\s+(\d+) tx used\s+([\d.]+)% of its weight \(\s*([\d,]+) of\s+([\d,]+) ns\)")
	executed = []
	for text in open(sys.argv[1]):
	    m = line.search(text)
	    if m:
	        took, weight = (int(g.replace(",", "")) for g in m.group(4, 5))
	        executed.append((int(m.group(1)), int(m.group(2)), took, weight))
	scenario_of = dict((int(n), key) for key, n in (l.split() for l in open(sys.argv[2])))
	labels = {r["scenario"]: r["label"] for r in json.load(open(sys.argv[3]))["results"]}
	rows = {}
	for number, txs, took, weight in executed[1:]:
	    if number in scenario_of:
	        rows.setdefault(scenario_of[number], []).append((txs, took, weight))
	print("| scenario | blocks | extrinsics a block | execution / weight: mean | largest | "
	      "µs an extrinsic: taken / weight |")
	print("|---|---:|---:|---:|---:|---:|")
	over = []
	for key, blocks in rows.items():
	    shares = [took / weight for _, took, weight in blocks]
	    txs = sum(n for n, _, _ in blocks)
	    print(f"| {labels.get(key, key)} | {len(blocks)} | {txs / len(blocks):,.0f} "
	          f"| {100 * sum(shares) / len(shares):.1f} % | {100 * max(shares):.1f} % "
	          f"| {sum(t for _, t, _ in blocks) / txs / 1e3:.1f} / {sum(w for _, _, w in blocks) / txs / 1e3:.1f} |")
	    if max(shares) > 1:
	        over.append(key)
	print()
	if executed:
	    number, txs, took, weight = executed[0]
	    print(f"Warm-up, not counted: block {number} ({txs} extrinsics), the first this process executed "
	          f"(the runtime compiled, caches cold), took {100 * took / weight:.1f} % of its weight.")
	print("Blocks that took longer than the weight they consumed: " + (", ".join(over) if over else "none") + ".")
	PY
