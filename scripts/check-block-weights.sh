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
# Writes DIR/block-weights.md (a row per scenario) and DIR/block-weights.log (every block).
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
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) [ -z "$dir" ] || die "one directory only (see --help)"; dir=$1; shift ;;
	esac
done
[ -n "$dir" ] || die "usage: scripts/check-block-weights.sh DIR [--repeat N]"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "--repeat takes a whole number of at least 1"
dir=$(realpath "$dir")
for need in dev.json dev-chain dev-spec.json; do
	[ -e "$dir/$need" ] || die "$dir/$need is missing: run scripts/bench.sh --check-weights --out $dir"
done

# Each scenario's full blocks, as "scenario first last" runs of consecutive numbers.
if [ -n "$ranges" ]; then
	runs=${ranges%$'\n'}
else
	runs=$(python3 - "$dir/dev.json" <<-'PY'
		import json, sys
		for r in json.load(open(sys.argv[1]))["results"]:
		    numbers = sorted(r.get("full_block_numbers") or [])
		    if not numbers:
		        sys.exit(f"{r['scenario']}: dev.json names no full blocks (a run of bench.sh before --check-weights?)")
		    start = prev = numbers[0]
		    for n in numbers[1:] + [None]:
		        if n != prev + 1:
		            print(r["scenario"], start, prev)
		            start = n
		        prev = n
	PY
	) || die "could not read the blocks to check from $dir/dev.json"
fi

ensure_build_deps
cd "$PROVENA_ROOT"
say "Building provena-node with --features runtime-benchmarks"
cargo build --release -p provena-node --features runtime-benchmarks --locked
# Whatever happens below, leave the normal node in the target directory.
rebuild_normal() {
	say "Building the normal provena-node again"
	cargo build --release -p provena-node --locked && touch "$PROVENA_NODE"
}
trap rebuild_normal EXIT

log=$dir/block-weights.log
: >"$log"
while read -r scenario first last; do
	say "Executing $scenario's blocks $first..$last again, $repeat times each"
	printf '# %s\n' "$scenario" >>"$log"
	"$PROVENA_NODE" benchmark block --chain "$dir/dev-spec.json" --base-path "$dir/dev-chain" \
		--database paritydb --state-pruning archive-canonical --from "$first" --to "$last" \
		--repeat "$repeat" 2>&1 </dev/null | grep -E "Block [0-9]+ with" | tee -a "$log" ||
		die "benchmark block failed on $scenario's blocks $first..$last (see $log)"
done <<<"$runs"

python3 - "$log" "$dir/dev.json" <<-'PY' | tee "$dir/block-weights.md"
	import json, re, sys
	line = re.compile(r"Block (\d+) with\s+(\d+) tx used\s+([\d.]+)% of its weight \(\s*([\d,]+) of\s+([\d,]+) ns\)")
	# Per scenario: its first block of each invocation (read from disk into cold caches), and
	# the others.
	cold, warm, scenario, first = {}, {}, None, False
	for text in open(sys.argv[1]):
	    if text.startswith("# "):
	        scenario, first = text[2:].strip(), True
	        continue
	    m = line.search(text)
	    if m:
	        took, weight = (int(g.replace(",", "")) for g in m.group(4, 5))
	        (cold if first else warm).setdefault(scenario, []).append((int(m.group(2)), took, weight))
	        first = False
	labels = {r["scenario"]: r["label"] for r in json.load(open(sys.argv[2]))["results"]}
	share = lambda rows: [took / weight for _, took, weight in rows]
	print("| scenario | blocks | extrinsics a block | first block, cold | the others: mean | largest | "
	      "µs an extrinsic, the others: taken / weight |")
	print("|---|---:|---:|---:|---:|---:|---:|")
	over = []
	for key in cold:
	    rows, others = cold[key] + warm.get(key, []), warm.get(key, [])
	    txs = sum(n for n, _, _ in others) or 1
	    taken = sum(t for _, t, _ in others) / txs / 1e3
	    weight = sum(w for _, _, w in others) / txs / 1e3
	    s = share(others) or [0.0]
	    print(f"| {labels.get(key, key)} | {len(rows)} | {sum(n for n, _, _ in rows) / len(rows):,.0f} "
	          f"| {100 * max(share(cold[key])):.1f} % | {100 * sum(s) / len(s):.1f} % | {100 * max(s):.1f} % "
	          f"| {taken:.1f} / {weight:.1f} |")
	    if max(share(rows)) > 1:
	        over.append(key)
	print()
	print("Execution time over weight (a block took longer than the weight it consumed): "
	      + (", ".join(over) if over else "none") + ".")
	PY
