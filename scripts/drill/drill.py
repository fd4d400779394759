#!/usr/bin/env python3
"""Fault drills for a Provena network: four validators, each in its own Linux network namespace
with its own base path, joined by a bridge, while a gateway (with Mosquitto and simulated
devices, in the first validator's namespace) anchors readings through them.

Run by scripts/drill.sh, which checks the machine, installs what the drills need and builds the
binaries; `scripts/drill.sh --help` tells the options. Each drill prints its figures and the
run fails if a finalized block is ever reverted, if any reading the broker acknowledged is not
finalized exactly once, or if a drill's own expectation does not hold. A drill this machine
cannot run is reported as skipped, with the reason, and never as passed.

The network: namespaces pvdrill-1..4, veth pairs pvd<i> (inside) / pvd<i>b (on the bridge),
addresses 10.231.0.<i>/24, bridges pvdrill0 (and pvdrill1 while the network is split). Every
node's RPC and Prometheus endpoints listen on loopback inside its own namespace; nothing
listens on the host, and the namespaces reach only one another.
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

NAMES = ["alice", "bob", "charlie", "dave"]
SUBNET = "10.231.0"
BRIDGE, SPLIT_BRIDGE = "pvdrill0", "pvdrill1"
RPC_PORT, P2P_PORT, PROMETHEUS_PORT = 9944, 30333, 9615
MQTT_PORT, GATEWAY_HTTP_PORT = 1883, 8080
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def say(text):
    print(f"\033[1;34m==>\033[0m {text}", file=sys.stderr, flush=True)


class DrillFailed(Exception):
    """A drill's expectation did not hold."""


class Skipped(Exception):
    """This machine cannot run a drill; the message says why."""


def run(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, text=True, capture_output=True, **kw)


def ns_name(i):
    return f"pvdrill-{i + 1}"


def in_ns(i, fn):
    """Calls `fn()` in a thread that has entered namespace i: sockets it opens live there."""
    result = {}

    def body():
        try:
            fd = os.open(f"/run/netns/{ns_name(i)}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            result["value"] = fn()
        except BaseException as error:  # handed to the caller
            result["error"] = error

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def http_get(i, port, path, timeout=5.0):
    def get():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.read().decode()

    return in_ns(i, get)


def rpc(i, method, params=None, timeout=5.0):
    """A JSON-RPC call to node i over HTTP (the node serves HTTP and WebSocket on one port)."""
    body = json.dumps({"id": 1, "jsonrpc": "2.0", "method": method, "params": params or []})

    def call():
        request = urllib.request.Request(
            f"http://127.0.0.1:{RPC_PORT}",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as r:
            reply = json.loads(r.read())
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    return in_ns(i, call)


class Network:
    """The namespaces, the bridge and the links; removed again by `teardown`."""

    def __init__(self, count):
        self.count = count

    def setup(self):
        self.teardown(quiet=True)
        run("ip", "link", "add", BRIDGE, "type", "bridge")
        run("ip", "link", "set", BRIDGE, "up")
        for i in range(self.count):
            ns, inside, outside = ns_name(i), f"pvd{i + 1}", f"pvd{i + 1}b"
            run("ip", "netns", "add", ns)
            run("ip", "link", "add", inside, "type", "veth", "peer", "name", outside)
            run("ip", "link", "set", inside, "netns", ns)
            run("ip", "link", "set", outside, "master", BRIDGE, "up")
            run("ip", "-n", ns, "addr", "add", f"{SUBNET}.{i + 1}/24", "dev", inside)
            run("ip", "-n", ns, "link", "set", inside, "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")

    def teardown(self, quiet=False):
        for i in range(self.count):
            run("ip", "netns", "del", ns_name(i), check=False)
            run("ip", "link", "del", f"pvd{i + 1}b", check=False)
        for bridge in (BRIDGE, SPLIT_BRIDGE):
            run("ip", "link", "del", bridge, check=False)
        if not quiet:
            say("Removed the namespaces and bridges")

    def split(self, group):
        """Moves the links of the namespaces in `group` to a bridge of their own."""
        run("ip", "link", "add", SPLIT_BRIDGE, "type", "bridge")
        run("ip", "link", "set", SPLIT_BRIDGE, "up")
        for i in group:
            run("ip", "link", "set", f"pvd{i + 1}b", "master", SPLIT_BRIDGE)

    def heal(self):
        for i in range(self.count):
            run("ip", "link", "set", f"pvd{i + 1}b", "master", BRIDGE)
        run("ip", "link", "del", SPLIT_BRIDGE, check=False)

    def can_reach(self, i, j):
        return run("ip", "netns", "exec", ns_name(i), "ping", "-c", "1", "-W", "1",
                   f"{SUBNET}.{j + 1}", check=False).returncode == 0


class Node:
    """Validator i: its own namespace, base path, node key and log."""

    def __init__(self, i, binary, spec, out, peers, extra):
        self.i, self.binary, self.spec, self.out, self.extra = i, binary, spec, out, extra
        self.name = NAMES[i]
        self.base = os.path.join(out, "nodes", self.name)
        self.peers = peers
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(os.path.join(self.out, f"{self.name}.log"), "a")
        log.write(f"\n---- start {self.starts} at {time.strftime('%H:%M:%S')} ----\n")
        log.flush()
        bootnodes = [addr for j, addr in enumerate(self.peers) if j != self.i]
        args = [
            "ip", "netns", "exec", ns_name(self.i), self.binary,
            "--chain", self.spec, "--base-path", self.base, f"--{self.name}", "--validator",
            "--test-network",
            "--node-key-file", os.path.join(self.out, "keys", f"{self.name}.key"),
            "--listen-addr", f"/ip4/{SUBNET}.{self.i + 1}/tcp/{P2P_PORT}",
            "--rpc-port", str(RPC_PORT), "--prometheus-port", str(PROMETHEUS_PORT),
            "--no-telemetry", "--no-mdns", "--allow-private-ip",
            "--enable-offchain-indexing", "true",
            "--bootnodes", *bootnodes, *self.extra,
        ]
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def head_numbers(i):
    """(best, finalized number, finalized hash, peers) of node i, or None when it does not answer."""
    try:
        best = int(rpc(i, "chain_getHeader")["number"], 16)
        fin_hash = rpc(i, "chain_getFinalizedHead")
        fin = int(rpc(i, "chain_getHeader", [fin_hash])["number"], 16)
        peers = rpc(i, "system_health")["peers"]
        return best, fin, fin_hash, peers
    except Exception:
        return None


def heads(i):
    """head_numbers of node i, waiting up to a minute for it to answer."""
    return wait_for(f"{NAMES[i]} answering RPC", lambda: head_numbers(i), 60, every=1)


class Watch:
    """Polls every node every `period` seconds: heads, peers, and every finalized block seen,
    which must never change (a reverted finalized block fails the run)."""

    def __init__(self, nodes, period=2.0):
        self.nodes, self.period = nodes, period
        self.samples = []  # (time, node, best, finalized, peers)
        self.finalized = {}  # number -> hash, as first seen finalized by any node
        self.conflicts = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def loop(self):
        while not self.stopping.is_set():
            for node in self.nodes:
                if not node.alive():
                    continue
                seen = head_numbers(node.i)
                if seen is None:
                    continue
                best, fin, fin_hash, peers = seen
                with self.lock:
                    self.samples.append((time.time(), node.i, best, fin, peers))
                    known = self.finalized.setdefault(fin, fin_hash)
                    if known != fin_hash:
                        self.conflicts.append((fin, known, fin_hash, node.name))
            self.stopping.wait(self.period)

    def latest(self, i):
        with self.lock:
            for sample in reversed(self.samples):
                if sample[1] == i:
                    return sample
        return None

    def between(self, start, end):
        with self.lock:
            return [s for s in self.samples if start <= s[0] <= end]

    def check_nothing_reverted(self, nodes):
        """Every finalized block ever seen is still the block at its height on every live node."""
        with self.lock:
            conflicts, seen = list(self.conflicts), dict(self.finalized)
        if conflicts:
            raise DrillFailed(f"two different blocks were finalized at one height: {conflicts[:3]}")
        for node in nodes:
            if not node.alive():
                continue
            for number, block in sorted(seen.items()):
                if number == 0:
                    continue
                now = rpc(node.i, "chain_getBlockHash", [number])
                if now != block:
                    raise DrillFailed(
                        f"finalized block #{number} {block} was reverted: {node.name} now has {now}"
                    )
        return len(seen)


def wait_for(what, predicate, timeout, every=2.0):
    started = time.time()
    while True:
        value = predicate()
        if value:
            return value
        if time.time() - started > timeout:
            raise DrillFailed(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def finality_lag(watch, i):
    sample = watch.latest(i)
    return None if sample is None else sample[2] - sample[3]


def max_lag(samples):
    lags = [s[2] - s[3] for s in samples]
    return max(lags) if lags else None


class Load:
    """Simulated devices publishing signed anchors over MQTT to the gateway, for one drill.
    `provena simulate --mqtt` follows finalized blocks and matches every anchor to the message
    that carried it: its report says what was published, acknowledged by the broker, finalized,
    lost and refused."""

    def __init__(self, cli, out, name, devices, rate, duration, drain, batch):
        self.out = os.path.join(out, f"load-{name}")
        self.log = open(self.out + ".log", "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns_name(0), cli, "--url", f"ws://127.0.0.1:{RPC_PORT}",
             "--json", "simulate", "--suri", "//Alice", "--mqtt", f"127.0.0.1:{MQTT_PORT}",
             "--devices", str(devices), "--rate", str(rate), "--duration", str(duration),
             "--batch-size", str(batch), "--drain", str(drain)],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, text=True,
            start_new_session=True)

    def failed(self):
        """The simulator's exit code if it already stopped."""
        return self.proc.poll()

    def finish(self, timeout):
        try:
            stdout, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise DrillFailed(f"the simulator did not finish within {timeout} s ({self.out}.log)")
        with open(self.out + ".json", "w") as f:
            f.write(stdout)
        self.log.close()
        try:
            report = json.loads(stdout)
        except json.JSONDecodeError:
            raise DrillFailed(f"the simulator failed (exit {self.proc.returncode}); see {self.out}.log")
        return report

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)


def judge_load(report):
    """The readings figures of a drill, and a failure if any acknowledged reading was lost."""
    figures = {
        "readings_sent": report["readings_published"],
        "messages_acknowledged": f"{report['messages_acknowledged']}/{report['messages_published']}",
        "readings_finalized": report["readings_finalized"],
        "readings_lost": report["readings_lost"],
        "anchors_refused": report["anchors_rejected"],
        "refusals_of_anchors_sent_again": report["refusals_resent"],
        "sequence_gaps": report["sequence_gaps"],
        "publish_to_final_p99_s": report["publish_to_final_p99_s"],
        "publish_to_final_max_s": report["publish_to_final_max_s"],
    }
    problems = []
    if report["messages_acknowledged"] != report["messages_published"]:
        problems.append("the broker did not acknowledge every message")
    if report["readings_lost"] or report["anchors_lost"]:
        problems.append(f"{report['readings_lost']} acknowledged readings were never finalized")
    if report["readings_finalized"] != report["readings_published"]:
        problems.append("finalized readings differ from those sent")
    if report["sequence_gaps"]:
        problems.append(f"the chain recorded {report['sequence_gaps']} sequence gaps")
    if report["anchors_rejected"]:
        problems.append(f"the chain refused {report['anchors_rejected']} anchors")
    return figures, problems


class Drills:
    """The network under test, the gateway beside it, and the four drills."""

    def __init__(self, args):
        self.args = args
        self.out = args.out
        self.net = Network(4)
        self.nodes = []
        self.helpers = []  # (name, Popen): broker, gateway, delayers
        self.watch = None
        self.results = []

    # ---- the network -------------------------------------------------------------------

    def up(self):
        a = self.args
        os.makedirs(os.path.join(self.out, "keys"), exist_ok=True)
        say(f"Four namespaces and a bridge ({SUBNET}.1-4); files and logs in {self.out}")
        self.net.setup()
        for i in range(4):
            for j in range(4):
                if i != j and not self.net.can_reach(i, j):
                    raise DrillFailed(f"{ns_name(i)} cannot reach {SUBNET}.{j + 1} over the bridge")
        spec = os.path.join(self.out, "testnet-raw.json")
        with open(spec, "w") as f:
            subprocess.run([a.node, "build-spec", "--chain", "testnet", "--raw",
                            "--disable-default-bootnode"], stdout=f, stderr=subprocess.DEVNULL,
                           check=True)
        peers = []
        for i, name in enumerate(NAMES):
            key = os.path.join(self.out, "keys", f"{name}.key")
            if not os.path.exists(key):
                with open(key, "w") as f:
                    f.write(os.urandom(32).hex())
                os.chmod(key, 0o600)
            peer = run(a.node, "key", "inspect-node-key", "--file", key).stdout.strip()
            peers.append(f"/ip4/{SUBNET}.{i + 1}/tcp/{P2P_PORT}/p2p/{peer}")
        self.nodes = [Node(i, a.node, spec, self.out, peers, a.node_arg) for i in range(4)]
        for node in self.nodes:
            node.start()
        say("Waiting for four connected validators and a finalized block")
        wait_for("the network finalizing with every validator connected", self.healthy, 300)
        self.watch = Watch(self.nodes)
        self.watch.start()
        self.start_gateway()

    def healthy(self):
        for node in self.nodes:
            seen = head_numbers(node.i)
            if seen is None or seen[3] < 3 or seen[1] < 1:
                return False
        return True

    def start_gateway(self):
        a = self.args
        conf = os.path.join(self.out, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {MQTT_PORT} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 1000000\n")
        self.spawn("mosquitto", [a.mosquitto, "-c", conf])
        time.sleep(1)
        env = dict(os.environ, PROVENA_LOG="info")
        self.spawn("gateway", [a.cli, "--url", f"ws://127.0.0.1:{RPC_PORT}", "--mortality",
                               str(a.mortality), "gateway", "run", "--suri", "//Alice",
                               "--store", os.path.join(self.out, "gateway.db"),
                               "--mqtt", f"127.0.0.1:{MQTT_PORT}",
                               "--http", f"127.0.0.1:{GATEWAY_HTTP_PORT}"], env=env)

        def gateway_up():
            try:
                http_get(0, GATEWAY_HTTP_PORT, "/healthz")  # raises unless 200
                return True
            except Exception:
                return False

        wait_for("the gateway answering /healthz", gateway_up, 120, every=1)
        say(f"Mosquitto and the gateway run in {ns_name(0)}, beside {NAMES[0]}")

    def spawn(self, name, argv, ns=0, env=None):
        log = open(os.path.join(self.out, f"{name}.log"), "a")
        proc = subprocess.Popen(["ip", "netns", "exec", ns_name(ns), *argv], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        log.close()
        self.helpers.append((name, proc))
        time.sleep(0.5)
        if proc.poll() is not None:
            raise DrillFailed(f"{name} stopped at once (its log: {self.out}/{name}.log)")
        return proc

    def stop_helper(self, name):
        for entry in list(self.helpers):
            if entry[0] == name and entry[1].poll() is None:
                os.killpg(entry[1].pid, signal.SIGTERM)
                entry[1].wait(timeout=30)
            if entry[0] == name:
                self.helpers.remove(entry)

    def down(self):
        if self.watch:
            self.watch.stop()
        for name, proc in reversed(self.helpers):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        for node in self.nodes:
            node.stop()
        self.net.teardown()

    # ---- helpers -----------------------------------------------------------------------

    def received(self):
        """Messages the gateway has taken so far (its metric)."""
        text = http_get(0, GATEWAY_HTTP_PORT, "/metrics")
        for line in text.splitlines():
            if line.startswith("provena_gateway_messages_received_total"):
                return float(line.split()[-1])
        return 0.0

    def load(self, name, duration):
        a = self.args
        before = self.received()
        load = Load(a.cli, self.out, name, a.devices, a.rate, duration, a.drain, a.batch)

        def publishing():
            if load.failed() is not None:
                raise DrillFailed(f"the simulator stopped (see {load.out}.log)")
            return self.received() > before

        wait_for("the simulator registering its devices and publishing", publishing, 300)
        return load

    def best_hash(self, i):
        best = int(rpc(i, "chain_getHeader")["number"], 16)
        return best, rpc(i, "chain_getBlockHash", [best])

    def finish(self, name, load, figures, problems, fault_end):
        report = load.finish(self.args.drain + 900)
        load_figures, load_problems = judge_load(report)
        figures.update(load_figures)
        problems.extend(load_problems)
        figures["finalized_blocks_checked"] = self.watch.check_nothing_reverted(self.nodes)
        lags = [finality_lag(self.watch, n.i) for n in self.nodes]
        figures["finality_lag_at_end_blocks"] = max((x for x in lags if x is not None), default=None)
        figures["finality_lag_max_from_2_min_after"] = max_lag(
            self.watch.between(fault_end + 120, time.time()))
        self.results.append({"drill": name, "result": "failed" if problems else "passed",
                             "figures": figures, "problems": problems})
        self.print_result(self.results[-1])

    def print_result(self, result):
        say(f"Drill {result['drill']}: {result['result'].upper()}")
        for key, value in result.get("figures", {}).items():
            print(f"    {key:34} {value}", file=sys.stderr)
        for problem in result.get("problems", []):
            print(f"    PROBLEM: {problem}", file=sys.stderr)
        if "reason" in result:
            print(f"    reason: {result['reason']}", file=sys.stderr)
        sys.stderr.flush()

    # ---- the drills --------------------------------------------------------------------

    def partition(self):
        """Splits the validators 2 + 2 for longer than the gateway's transactions live."""
        a = self.args
        load = self.load("partition", a.split + 150)
        time.sleep(30)
        halves = ([0, 1], [2, 3])
        self.net.split(halves[1])
        split_at = time.time()
        if self.net.can_reach(0, 2):
            raise DrillFailed("the split did not cut the two halves apart")
        say(f"Split: {NAMES[0]}+{NAMES[1]} | {NAMES[2]}+{NAMES[3]} for {a.split} s")
        time.sleep(30)  # votes already on the wire may finalize one more round
        grace = {n.i: heads(n.i) for n in self.nodes}
        time.sleep(max(0, a.split - 30))
        at_heal = {n.i: self.best_hash(n.i) for n in self.nodes}
        during = self.watch.between(split_at + 30, time.time())
        self.net.heal()
        healed_at = time.time()
        say("Healed the split")
        problems = []
        advanced = [s for s in during if s[3] > grace[s[1]][1]]
        if advanced:
            problems.append(f"blocks were finalized during the split (e.g. {advanced[0]})")
        produced = {h[0]: at_heal[h[0]][0] - grace[h[0]][0] for h in halves}
        for first, count in produced.items():
            if count <= a.mortality:
                problems.append(f"the half of {NAMES[first]} built {count} blocks during the "
                                f"split, not more than the mortality ({a.mortality}): lengthen --split")
        if at_heal[0][1] == at_heal[2][1]:
            problems.append("the two halves did not build different chains")
        target = max(best for best, _ in at_heal.values())
        wait_for("finality passing the split's longest chain",
                 lambda: all((head_numbers(n.i) or (0, 0))[1] > target for n in self.nodes), 900)
        resumed = time.time() - healed_at
        winner = [NAMES[h[0]] + "+" + NAMES[h[1]] for h in halves
                  if rpc(0, "chain_getBlockHash", [at_heal[h[0]][0]]) == at_heal[h[0]][1]]
        figures = {
            "split_s": round(healed_at - split_at),
            "blocks_built_during_split": {NAMES[k]: v for k, v in produced.items()},
            "finalized_during_split": max((s[3] for s in during), default=0) - grace[0][1],
            "finality_lag_max_during": max_lag(during),
            "winning_half": winner[0] if winner else "neither half's head (both reorganised)",
            "finality_resumed_after_heal_s": round(resumed),
        }
        self.finish("partition", load, figures, problems, healed_at)

    def stall(self):
        """Stops two of the four validators: no finality until they return."""
        a = self.args
        load = self.load("stall", a.stall + 150)
        time.sleep(30)
        stopped = self.nodes[2:]
        for node in stopped:
            node.stop()
        stopped_at = time.time()
        say(f"Stopped {stopped[0].name} and {stopped[1].name} for {a.stall} s")
        time.sleep(30)
        grace = heads(0)
        time.sleep(max(0, a.stall - 30))
        during = self.watch.between(stopped_at + 30, time.time())
        best_at_return = heads(0)
        for node in stopped:
            node.start()
        returned_at = time.time()
        say("Started them again")
        problems = []
        if max(s[3] for s in during) > grace[1]:
            problems.append("blocks were finalized with two of four validators stopped")
        if best_at_return[0] <= grace[0]:
            problems.append("no blocks were built while two validators were stopped")
        wait_for("finality catching up", lambda: all(
            (head_numbers(n.i) or (0, 0))[1] >= best_at_return[0] for n in self.nodes), 900)
        figures = {
            "stopped_s": round(returned_at - stopped_at),
            "blocks_built_while_stopped": best_at_return[0] - grace[0],
            "finality_lag_max_during": max_lag(during),
            "finality_caught_up_after_s": round(time.time() - returned_at),
        }
        self.finish("stall", load, figures, problems, returned_at)

    def restart(self):
        """Stops every validator and starts them again from their base paths."""
        a = self.args
        load = self.load("restart", a.restart_load)
        time.sleep(45)
        before = max(heads(n.i)[1] for n in self.nodes)
        for node in self.nodes:
            node.stop()
        stopped_at = time.time()
        say(f"Stopped all four validators at finalized #{before}")
        time.sleep(a.restart_pause)
        for node in self.nodes:
            node.start()
        say("Started all four again from their base paths")
        wait_for("finality continuing past the blocks finalized before the stop", lambda: all(
            (head_numbers(n.i) or (0, 0))[1] > before for n in self.nodes), 600)
        figures = {
            "finalized_before_stop": before,
            "network_down_s": a.restart_pause,
            "finalizing_again_after_s": round(time.time() - stopped_at - a.restart_pause),
        }
        self.finish("restart", load, figures, [], time.time())

    def degrade(self):
        """Delays and drops packets on every link; blocks must still be finalized."""
        a = self.args
        reason = self.degrade_unavailable()
        if reason:
            raise Skipped(reason)
        load = self.load("degrade", a.degrade + 120)
        time.sleep(20)
        start = heads(0)
        for i in range(4):
            self.spawn(f"delay-{NAMES[i]}", [sys.executable, os.path.join(
                os.path.dirname(os.path.abspath(__file__)), "delay.py"),
                "--queue", "0", "--delay-ms", str(a.delay_ms)], ns=i)
            link = ["ip", "netns", "exec", ns_name(i), "iptables", "-A", "OUTPUT", "-o",
                    f"pvd{i + 1}"]
            run(*link, "-m", "statistic", "--mode", "random", "--probability",
                str(a.loss / 100), "-j", "DROP")
            run(*link, "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass")
        degraded_at = time.time()
        say(f"Every link: {a.delay_ms} ms delay and {a.loss} % loss for {a.degrade} s")
        rtt = run("ip", "netns", "exec", ns_name(0), "ping", "-c", "5", "-i", "0.3",
                  f"{SUBNET}.2", check=False).stdout.strip().splitlines()[-1:]
        time.sleep(max(0, a.degrade - 2))
        end = heads(0)
        during = self.watch.between(degraded_at + 30, time.time())
        for i in range(4):
            run("ip", "netns", "exec", ns_name(i), "iptables", "-F", "OUTPUT", check=False)
            self.stop_helper(f"delay-{NAMES[i]}")
        restored_at = time.time()
        say("Links restored")
        problems = []
        finalized = end[1] - start[1]
        if finalized < a.degrade // 60:
            problems.append(f"only {finalized} blocks were finalized in {a.degrade} s of bad links")
        figures = {
            "degraded_s": round(restored_at - degraded_at),
            "ping_rtt_while_degraded": rtt[0] if rtt else "no reply",
            "blocks_finalized_while_degraded": finalized,
            "finality_lag_max_during": max_lag(during),
        }
        self.finish("degrade", load, figures, problems, restored_at)

    def degrade_unavailable(self):
        """Why this machine cannot delay and drop packets, or None if it can."""
        if shutil.which("iptables") is None:
            return "iptables (Debian package iptables) is not installed"
        probe = ["ip", "netns", "exec", ns_name(0), "iptables", "-A", "OUTPUT", "-o", "pvd1"]
        for rule in (["-m", "statistic", "--mode", "random", "--probability", "0", "-j", "DROP"],
                     ["-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass"]):
            tried = run(*probe, *rule, check=False)
            if tried.returncode != 0:
                run("ip", "netns", "exec", ns_name(0), "iptables", "-F", "OUTPUT", check=False)
                return f"the kernel refused the rule {' '.join(rule)}: {tried.stderr.strip()}"
        run("ip", "netns", "exec", ns_name(0), "iptables", "-F", "OUTPUT", check=False)
        check = run(sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "delay.py"), "--check", check=False)
        if check.returncode != 0:
            return f"packets cannot be delayed: {check.stderr.strip() or check.stdout.strip()}"
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", required=True, help="the provena-node binary")
    parser.add_argument("--cli", required=True, help="the provena binary")
    parser.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    parser.add_argument("--out", required=True, help="where logs, base paths and results go")
    parser.add_argument("--drills", default="partition,stall,restart,degrade")
    parser.add_argument("--split", type=int, default=330, help="seconds the network stays split")
    parser.add_argument("--stall", type=int, default=600, help="seconds two validators stay down")
    parser.add_argument("--restart-pause", type=int, default=20)
    parser.add_argument("--restart-load", type=int, default=180)
    parser.add_argument("--degrade", type=int, default=300, help="seconds of bad links")
    parser.add_argument("--delay-ms", type=int, default=200)
    parser.add_argument("--loss", type=int, default=5, help="percent of packets dropped")
    parser.add_argument("--mortality", type=int, default=16,
                        help="the gateway's transaction mortality, in blocks")
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0, help="readings per second")
    parser.add_argument("--batch", type=int, default=10, help="readings per signed anchor")
    parser.add_argument("--drain", type=int, default=900,
                        help="seconds the simulator waits for its last anchors")
    parser.add_argument("--node-arg", action="append", default=[],
                        help="one more argument for every node")
    args = parser.parse_args()
    args.out = os.path.abspath(args.out)
    wanted = [d for d in args.drills.split(",") if d]
    unknown = set(wanted) - {"partition", "stall", "restart", "degrade"}
    if unknown:
        parser.error(f"unknown drills: {', '.join(sorted(unknown))}")

    drills = Drills(args)
    failed = False
    started = time.time()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        drills.up()
        for name in wanted:
            say(f"Drill: {name}")
            drill_started = time.time()
            try:
                getattr(drills, name)()
            except Skipped as why:
                drills.results.append({"drill": name, "result": "skipped", "reason": str(why)})
                drills.print_result(drills.results[-1])
            except DrillFailed as why:
                drills.results.append({"drill": name, "result": "failed", "reason": str(why)})
                drills.print_result(drills.results[-1])
            drills.results[-1]["seconds"] = round(time.time() - drill_started)
    except KeyboardInterrupt:
        say("Interrupted")
        failed = True
    except DrillFailed as why:
        say(f"The network could not be set up: {why}")
        failed = True
    finally:
        drills.down()
    with open(os.path.join(args.out, "drills.json"), "w") as f:
        json.dump({"results": drills.results, "seconds": round(time.time() - started)}, f, indent=1)
    say("Summary")
    for result in drills.results:
        print(f"  {result['drill']:10} {result['result'].upper():8} {result.get('seconds', 0):5d} s"
              + (f"  ({result['reason']})" if "reason" in result else ""), file=sys.stderr)
    print(f"  total      {round(time.time() - started)} s; results in {args.out}/drills.json",
          file=sys.stderr)
    failed = failed or any(r["result"] == "failed" for r in drills.results) or not drills.results
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
