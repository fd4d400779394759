#!/usr/bin/env python3
"""The README's dependency arrows, checked on `cargo metadata`.

    node -> runtime -> pallets -> primitives        client -> primitives, device

Fails (exit 1, naming each broken rule) when
  - a pallet depends on another of the workspace's pallets, on the runtime, node or client;
  - primitives depend on any other workspace crate;
  - the runtime depends on the node or the client;
  - the client depends on the runtime, a pallet or the node;
  - the test harness depends on any other workspace crate;
  - the device crate (what firmware links) depends on any other workspace crate, but for its
    tests' comparison with primitives.
Every kind of dependency counts (normal, build and dev): a pallet's tests that pull in another
pallet couple the two just the same.

Usage: cargo metadata --format-version 1 --no-deps | scripts/check-deps.py
"""
import json
import sys


def role(package, root):
    path = package["manifest_path"][len(root):].lstrip("/")
    if path.startswith("pallets/"):
        return "pallet"
    return {
        "primitives/Cargo.toml": "primitives",
        "runtime/Cargo.toml": "runtime",
        "node/Cargo.toml": "node",
        "client/Cargo.toml": "client",
        "test-utils/Cargo.toml": "test-utils",
        "device/Cargo.toml": "device",
    }.get(path, "other")


# Which workspace roles each role may depend on.
ALLOWED = {
    "primitives": set(),
    "pallet": {"primitives"},
    "runtime": {"primitives", "pallet"},
    "node": {"primitives", "pallet", "runtime", "test-utils"},
    "client": {"primitives", "device", "test-utils"},
    "test-utils": set(),
    "device": set(),
    "other": {"primitives", "pallet", "runtime", "node", "client", "device", "test-utils"},
}


def main():
    metadata = json.load(sys.stdin)
    root = metadata["workspace_root"]
    packages = {p["name"]: p for p in metadata["packages"] if p["id"] in metadata["workspace_members"]}
    roles = {name: role(p, root) for name, p in packages.items()}
    broken = []
    for name, package in sorted(packages.items()):
        mine = roles[name]
        for dep in package["dependencies"]:
            theirs = roles.get(dep["name"])
            if theirs is None:
                continue  # not a workspace crate
            if mine == "device" and theirs == "primitives" and dep.get("kind") == "dev":
                continue  # the tests compare its bytes with the runtime's
            if theirs not in ALLOWED[mine]:
                kind = dep.get("kind") or "normal"
                broken.append(f"{name} ({mine}) depends on {dep['name']} ({theirs}) [{kind}]")
    if broken:
        print("dependency rules broken (README, Architecture: the arrows):", file=sys.stderr)
        for line in broken:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"dependency rules hold for {len(packages)} workspace crates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
