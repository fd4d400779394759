#!/usr/bin/env python3
"""No `expect`, `panic!`, `unreachable!` or `todo!` in the code that runs in a block.

clippy denies `unwrap`, unchecked indexing and overflowing arithmetic in primitives, pallets
and the runtime (their `lib.rs`), but its `expect_used` lint cannot be used there: FRAME's
`#[pallet::storage]`, `#[pallet::error]` and `#[pallet::pallet]` expand to code with `expect`
calls that clippy reports at our lines. This check reads the hand-written sources instead.

Left out: test files (`tests.rs`, `*_tests.rs`), mock and benchmark files, and every item under `#[cfg(test)]` or the
`runtime-benchmarks` / `try-runtime` features (off-chain tooling that may panic by design).
A line may carry `// allow-panic: <why>` (on it or on the line before) where a panic is the
right outcome, such as a genesis that cannot be built.

Usage: scripts/check-panics.py   (from the repository's root; exit 1 naming each finding)
"""
import pathlib
import re
import sys

ROOTS = ["primitives/src", "pallets", "runtime/src"]
SKIP_FILES = {"tests.rs", "mock.rs", "benchmarking.rs", "benchmarks.rs", "weights.rs"}
PANICS = re.compile(r"\.expect\(|\bpanic!\(|\bunreachable!\(|\btodo!\(|\bunimplemented!\(")
SKIPPED_CFG = re.compile(
    r'#\[cfg\((test|feature\s*=\s*"(runtime-benchmarks|try-runtime)"|any\([^]]*\))\)\]'
)


def code_of(line):
    """The line without its `//` comment (good enough: no `//` inside our string literals)."""
    return line.split("//", 1)[0]


def findings(path):
    lines = path.read_text().splitlines()
    skip_until = -1
    i = 0
    while i < len(lines):
        line = lines[i]
        if i <= skip_until:
            i += 1
            continue
        match = SKIPPED_CFG.search(code_of(line))
        if match and ("test" in match.group(0) or "runtime-benchmarks" in match.group(0)
                      or "try-runtime" in match.group(0)):
            skip_until = end_of_item(lines, i)
            i += 1
            continue
        if PANICS.search(code_of(line)):
            allowed = "allow-panic:" in line or (i > 0 and "allow-panic:" in lines[i - 1])
            if not allowed:
                yield i + 1, line.strip()
        i += 1


def end_of_item(lines, start):
    """The last line of the item that the attribute on line `start` applies to."""
    depth = 0
    opened = False
    for j in range(start, len(lines)):
        code = code_of(lines[j])
        if j == start:
            code = SKIPPED_CFG.sub("", code)
        for ch in code:
            if ch == "{":
                depth += 1
                opened = True
            elif ch == "}":
                depth -= 1
            elif ch == ";" and not opened and depth == 0:
                return j
        if opened and depth <= 0:
            return j
    return len(lines) - 1


def main():
    found = []
    for root in ROOTS:
        for path in sorted(pathlib.Path(root).rglob("*.rs")):
            if path.name in SKIP_FILES or path.name.endswith("_tests.rs"):
                continue
            for number, text in findings(path):
                found.append(f"  {path}:{number}: {text}")
    if found:
        print("code that runs in a block may panic here (return an error, or mark a justified "
              "case with `// allow-panic: <why>`):", file=sys.stderr)
        print("\n".join(found), file=sys.stderr)
        return 1
    print("no expect, panic!, unreachable! or todo! in the runtime's own code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
