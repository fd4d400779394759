# Shared by the scripts in this folder: where builds go, and the system packages they need.
# Source it; it defines functions and variables only.

# The root of the repository.
PROVENA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Builds go to CARGO_TARGET_DIR when it is set (CI keeps one warm under ~/.cache), else target/.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PROVENA_ROOT/target}
PROVENA_NODE="$CARGO_TARGET_DIR/release/provena-node"
PROVENA_CLI="$CARGO_TARGET_DIR/release/provena"
PROVENA_BENCH="$CARGO_TARGET_DIR/release/provena-bench"

# The origins a browser may call a node's RPC from: pages on this machine and Polkadot.js
# Apps. Every node the scripts start serves only the safe RPC methods, on loopback.
PROVENA_RPC_CORS="http://localhost:*,http://127.0.0.1:*,https://localhost:*,https://127.0.0.1:*,https://polkadot.js.org"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
# A script's --help: its comment block after the shebang, without the leading "# ".
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1' "$1" | sed 's/^# \{0,1\}//'; }

# Installs Debian packages when this machine can (apt-get, as root or through sudo); fails
# without installing anything otherwise, so the caller can say what to install by hand.
# Usage: apt_install "WHAT, WHY" PACKAGE...
apt_install() {
	local why=$1 apt
	shift
	command -v apt-get >/dev/null || return 1
	if [ "$(id -u)" = 0 ]; then apt="apt-get"; elif command -v sudo >/dev/null; then apt="sudo apt-get"; else return 1; fi
	say "Installing $why: $*"
	$apt update -qq && DEBIAN_FRONTEND=noninteractive $apt install -y -qq "$@" >/dev/null
}

# Installs what the build needs beyond Rust, or says exactly what to install.
#  - protoc (Debian: protobuf-compiler): libp2p and litep2p generate code with it.
#  - rustup: rust-toolchain.toml pins the toolchain and the wasm32v1-none target through it.
ensure_build_deps() {
	command -v cargo >/dev/null && command -v rustup >/dev/null ||
		die "Rust is not installed: install rustup (https://rustup.rs), then run this again."
	command -v protoc >/dev/null ||
		apt_install "protoc, which the networking crates need" protobuf-compiler ||
		die "protoc is missing: install protobuf-compiler (Debian/Ubuntu) or protobuf (others)."
	ensure_toolchain
}

# Mosquitto, the MQTT broker the gateway's tests and `scripts/start.sh` run (Debian's package
# `mosquitto`). Only the binary is used: the package's own service is left as it is.
ensure_mosquitto() {
	command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] ||
		apt_install "the MQTT broker the gateway's tests use" mosquitto ||
		die "mosquitto is missing: install it (Debian/Ubuntu: apt-get install mosquitto)."
}

# Chromium, the browser the dashboard's tests drive with puppeteer-core (Debian's package
# `chromium`; no browser is downloaded). PROVENA_CHROMIUM names another.
ensure_chromium() {
	[ -x "${PROVENA_CHROMIUM:-/usr/bin/chromium}" ] ||
		apt_install "Chromium, the browser the dashboard's tests drive" chromium ||
		die "chromium is missing: install it (Debian/Ubuntu: apt-get install chromium) or set PROVENA_CHROMIUM."
}

# The dashboard built into dashboard/dist (esbuild; its JavaScript pinned by the lockfile),
# unless dist is newer than every source file and the lockfile.
build_dashboard_if_needed() {
	local dir="$PROVENA_ROOT/dashboard" newer
	if [ -f "$dir/dist/index.html" ] && [ -d "$dir/node_modules" ]; then
		newer=$(cd "$dir" && find src build.mjs package.json package-lock.json -newer dist/index.html \
			-type f 2>/dev/null | head -1)
		[ -z "$newer" ] && return 0
	fi
	ensure_node_js
	npm_install dashboard
	(cd "$dir" && npm run --silent build) || die "The dashboard's build failed."
}

# The toolchain rust-toolchain.toml pins, with its targets and components. rustup installs
# them on its own only when it installs the toolchain itself; a machine that already has the
# same version (a base image, an earlier project) gets neither the WASM target nor clippy, and
# the runtime's build would fail after most of an hour. So add them here, before any build.
ensure_toolchain() {
	local file="$PROVENA_ROOT/rust-toolchain.toml" channel targets components
	channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$file")
	targets=$(sed -n 's/^targets *= *\[\(.*\)\]/\1/p' "$file" | tr -d '",')
	components=$(sed -n 's/^components *= *\[\(.*\)\]/\1/p' "$file" | tr -d '",')
	[ -n "$channel" ] || die "rust-toolchain.toml names no channel."
	# `rustup toolchain install` is a no-op when the toolchain is there, and installs it (with
	# the minimal profile) when it is not.
	rustup toolchain install "$channel" --profile minimal --no-self-update >/dev/null 2>&1 ||
		die "rustup could not install the Rust toolchain $channel."
	local missing_t="" missing_c="" t c
	for t in $targets; do
		rustup target list --toolchain "$channel" --installed 2>/dev/null | grep -qx "$t" || missing_t+=" $t"
	done
	for c in $components; do
		rustup component list --toolchain "$channel" --installed 2>/dev/null | grep -q "^$c-" ||
			missing_c+=" $c"
	done
	if [ -n "$missing_t" ]; then
		say "Adding the Rust target(s)$missing_t to toolchain $channel"
		# shellcheck disable=SC2086
		rustup target add --toolchain "$channel" $missing_t >/dev/null ||
			die "rustup could not add the target(s)$missing_t; run: rustup target add --toolchain $channel$missing_t"
	fi
	if [ -n "$missing_c" ]; then
		say "Adding the Rust component(s)$missing_c to toolchain $channel"
		# shellcheck disable=SC2086
		rustup component add --toolchain "$channel" $missing_c >/dev/null ||
			die "rustup could not add the component(s)$missing_c; run: rustup component add --toolchain $channel$missing_c"
	fi
}

# Builds the release node unless it is newer than every source file.
build_node_if_needed() {
	local newer
	if [ -x "$PROVENA_NODE" ]; then
		newer=$(cd "$PROVENA_ROOT" && find Cargo.toml Cargo.lock node runtime pallets primitives -newer "$PROVENA_NODE" \
			-type f 2>/dev/null | head -1)
		[ -z "$newer" ] && return 0
	fi
	build_node
}

# Builds the normal release node (no extra features), also over a benchmarking build that
# took its place in the target directory.
build_node() {
	say "Building provena-node (release). A cold build takes about 40 minutes on 2 cores."
	local started
	started=$(date +%s)
	(cd "$PROVENA_ROOT" && cargo build --release -p provena-node) || die "The node build failed."
	# Cargo leaves the binary alone when only tests changed: mark it checked against them, as
	# of the build's start, so that a file edited while it ran still counts as newer.
	touch -d "@$started" "$PROVENA_NODE"
}

# Builds the release `provena` and `provena-bench` binaries unless both are newer than every
# source file they use.
build_client_if_needed() {
	local newer
	if [ -x "$PROVENA_CLI" ] && [ -x "$PROVENA_BENCH" ]; then
		newer=$(cd "$PROVENA_ROOT" && find Cargo.toml Cargo.lock client primitives -newer "$PROVENA_CLI" -type f \
			2>/dev/null | head -1)
		[ -z "$newer" ] && return 0
	fi
	say "Building the provena client and provena-bench (release)."
	local started
	started=$(date +%s)
	(cd "$PROVENA_ROOT" && cargo build --release -p provena-client --bins) || die "The client build failed."
	touch -d "@$started" "$PROVENA_CLI" "$PROVENA_BENCH"
}

# Whether something listens on 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A TCP port nobody listens on right now.
free_port() {
	node -e 'const s = require("node:net").createServer();
		s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# The Polkadot.js Apps link for a node's WebSocket RPC URL.
apps_link() {
	printf 'https://polkadot.js.org/apps/?rpc=%s#/explorer' "$1"
}

# The number of the finalized head of the node at a ws:// URL, or nothing if it does not answer
# (zombienet/steps/lib.js asks over plain JSON-RPC).
finalized_number() {
	node -e 'require(process.argv[1]).finalizedNumber(process.argv[2]).then(console.log, () => {})' \
		"$PROVENA_ROOT/zombienet/steps/lib.js" "$1"
}

# Installs Node.js and npm when missing (as root or with sudo), or says what to install.
ensure_node_js() {
	command -v node >/dev/null && command -v npm >/dev/null && return 0
	apt_install "Node.js and npm, which the Polkadot.js checks need" nodejs npm ||
		die "Node.js is missing: install Node.js 18 or later (with npm) and run this again."
}

# Installs a JavaScript folder's pinned dependencies (package.json + package-lock.json).
npm_install() {
	(cd "$PROVENA_ROOT/$1" && npm install --no-audit --no-fund --loglevel=error) ||
		die "npm install failed in $1"
}

# Whether the gateway service with HTTP on 127.0.0.1:PORT answers /healthz with 200 (bash's
# /dev/tcp: no curl needed).
gateway_healthy() {
	local status
	status=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" &&
		printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && head -n 1 <&3) 2>/dev/null) ||
		return 1
	[[ $status == *" 200 "* ]]
}
