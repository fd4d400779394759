#!/usr/bin/env bash
# The fast check lane: run it before every commit (scripts/test.sh runs it first).
#
#   1. the build's prerequisites: the pinned toolchain with its targets and components, protoc
#      (installed when missing; fails here, before any compilation, when it cannot be);
#   2. cargo fmt --check: the code is formatted as rustfmt.toml says;
#   3. the README's dependency arrows (scripts/check-deps.py): no pallet depends on another,
#      the client never on the runtime or a pallet;
#   4. no expect or panic! in the code that runs in a block (scripts/check-panics.py);
#   5. taplo: every TOML file formatted as .config/taplo.toml says;
#   6. zepter: the std, runtime-benchmarks and try-runtime features propagate through every
#      crate (.config/zepter.yaml);
#   7. cargo clippy on every crate and target, warnings denied, with the workspace lints (the
#      runtime side also denies unwrap, unchecked indexing and overflowing arithmetic);
#   8. cargo doc, warnings denied;
#   9. the device crate (`device/`, no_std) builds for a Cortex-M target, thumbv7em-none-eabihf,
#      with each signature scheme alone and with both.
#
# taplo and zepter are installed (pinned versions, from crates.io) under
# ~/.cache/provena/tools on first use. Clippy and doc run in the release profile, as the tests
# build: build scripts (the runtime's WASM among them) and proc macros are then compiled once
# for both, and switching between this lane and the tests rebuilds nothing. Ends with the time
# each step took.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PROVENA_ROOT"

TAPLO_VERSION=0.10.0
ZEPTER_VERSION=1.88.2
TOOLS=${PROVENA_TOOLS:-$HOME/.cache/provena/tools}

timings=()
current=""
# Names the step that failed, whatever failed in it.
trap 'status=$?; [ "$status" = 0 ] || [ -z "$current" ] || printf "\033[1;31mcheck failed:\033[0m %s (exit %s)\n" "$current" "$status" >&2' EXIT
step() {
	local name=$1 start
	shift
	say "check: $name"
	current=$name
	start=$(date +%s)
	"$@"
	timings+=("$(printf '%-14s %4d s' "$name" $(($(date +%s) - start)))")
	current=""
}

# Installs crate $1 at version $2 (binary $3) under $TOOLS unless that version is there.
install_tool() {
	local crate=$1 version=$2 bin=$3
	if "$TOOLS/bin/$bin" --version 2>/dev/null | grep -qF "$version"; then
		return 0
	fi
	say "Installing $crate $version into $TOOLS (once per machine)"
	CARGO_TARGET_DIR="$TOOLS/build" cargo install --quiet --locked --root "$TOOLS" \
		"$crate@$version" || die "cannot install $crate $version from crates.io"
	rm -rf "$TOOLS/build"
}

prerequisites() {
	ensure_build_deps
	command -v python3 >/dev/null || die "python3 is missing: the dependency check needs it"
}

fmt() {
	cargo fmt --all -- --check ||
		die "the code is not formatted: run \`cargo fmt --all\` and commit the result"
}

toml() {
	install_tool taplo-cli "$TAPLO_VERSION" taplo
	"$TOOLS/bin/taplo" fmt --check --config .config/taplo.toml ||
		die "a TOML file is not formatted: run \`$TOOLS/bin/taplo fmt --config .config/taplo.toml\`"
}

features() {
	install_tool zepter "$ZEPTER_VERSION" zepter
	"$TOOLS/bin/zepter" run check --config .config/zepter.yaml ||
		die "a feature does not propagate: run \`$TOOLS/bin/zepter --config .config/zepter.yaml\` to fix it"
}

deps() {
	cargo metadata --format-version 1 --no-deps --locked | python3 scripts/check-deps.py
}

panics() {
	python3 scripts/check-panics.py
}

clippy() {
	cargo clippy --release --workspace --all-targets --locked --quiet -- -D warnings
}

docs() {
	RUSTDOCFLAGS="-D warnings" cargo doc --release --workspace --no-deps --locked --quiet
}

# What firmware links must build for a microcontroller: no std, no allocator, no OS randomness.
device() {
	local target=thumbv7em-none-eabihf features
	for features in ed25519 sr25519 ed25519,sr25519; do
		cargo build --release --locked --quiet -p provena-device --target "$target" \
			--no-default-features --features "$features" ||
			die "provena-device does not build for $target with features $features"
	done
}

step prerequisites prerequisites
step fmt fmt
step deps deps
step panics panics
step toml toml
step features features
step clippy clippy
step doc docs
step device device
say "check lane passed"
printf '  %s\n' "${timings[@]}" >&2
