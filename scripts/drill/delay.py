#!/usr/bin/env python3
"""Holds every packet of an NFQUEUE queue for a fixed time, then lets it through: link latency
where the kernel has no netem qdisc. Uses libnetfilter_queue (Debian: libnetfilter-queue1)
through ctypes; an nftables rule (`queue num N`) sends the packets here. Packets leave in the
order they came. `--check` only tells whether this machine can do it (exit 0) or why not.
"""

import argparse
import collections
import ctypes
import ctypes.util
import os
import select
import signal
import socket
import sys
import time

NF_ACCEPT = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1

CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_void_p)


def library():
    name = ctypes.util.find_library("netfilter_queue") or "libnetfilter_queue.so.1"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as error:
        raise SystemExit(f"libnetfilter_queue is missing (Debian: libnetfilter-queue1): {error}")
    for fn in ("nfq_open", "nfq_create_queue", "nfq_get_msg_packet_hdr", "nfq_nfnlh"):
        getattr(lib, fn).restype = ctypes.c_void_p
    lib.nfq_create_queue.argtypes = [ctypes.c_void_p, ctypes.c_uint16, CALLBACK, ctypes.c_void_p]
    lib.nfq_get_msg_packet_hdr.argtypes = [ctypes.c_void_p]
    lib.nfq_set_verdict.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32,
                                    ctypes.c_uint32, ctypes.c_void_p]
    lib.nfq_handle_packet.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.nfq_set_mode.argtypes = [ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint32]
    lib.nfq_set_queue_maxlen.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.nfq_set_queue_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    lib.nfq_fd.argtypes = [ctypes.c_void_p]
    lib.nfq_nfnlh.argtypes = [ctypes.c_void_p]
    lib.nfnl_rcvbufsiz = getattr(lib, "nfnl_rcvbufsiz", None)
    return lib


def open_queue(lib, number, on_packet):
    handle = lib.nfq_open()
    if not handle:
        raise SystemExit(f"nfq_open failed: {os.strerror(ctypes.get_errno())} (needs root or "
                         "CAP_NET_ADMIN, and the kernel's nfnetlink_queue)")
    callback = CALLBACK(on_packet)
    queue = lib.nfq_create_queue(handle, number, callback, None)
    if not queue:
        raise SystemExit(f"queue {number} cannot be bound: {os.strerror(ctypes.get_errno())}")
    if lib.nfq_set_mode(queue, NFQNL_COPY_META, 0) < 0:
        raise SystemExit("the queue refused metadata-only copies")
    lib.nfq_set_queue_maxlen(queue, 100_000)
    # A full queue lets packets through undelayed instead of dropping them.
    lib.nfq_set_queue_flags(queue, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN)
    return handle, queue, callback


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=200)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    lib = library()
    held = collections.deque()  # (due, packet id)
    delay = args.delay_ms / 1000

    def on_packet(_queue, _message, data, _arg):
        header = lib.nfq_get_msg_packet_hdr(data)
        packet_id = int.from_bytes(ctypes.string_at(header, 4), "big")
        held.append((time.monotonic() + delay, packet_id))
        return 0

    handle, queue, _keep = open_queue(lib, args.queue if not args.check else 65_000, on_packet)
    if args.check:
        print("NFQUEUE works here")
        return
    fd = lib.nfq_fd(handle)
    sock = socket.socket(fileno=os.dup(fd))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    passed = 0
    while running[0]:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else 0.5
        readable, _, _ = select.select([fd], [], [], timeout)
        if readable:
            try:
                data = os.read(fd, 65_536)
            except OSError as error:  # ENOBUFS: the kernel dropped notices; keep going
                print(f"delay: {error}", file=sys.stderr)
                continue
            lib.nfq_handle_packet(handle, data, len(data))
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, packet_id = held.popleft()
            lib.nfq_set_verdict(queue, packet_id, NF_ACCEPT, 0, None)
            passed += 1
    for _, packet_id in held:  # nothing stays held when the drill stops
        lib.nfq_set_verdict(queue, packet_id, NF_ACCEPT, 0, None)
    print(f"delay: {passed + len(held)} packets delayed by {args.delay_ms} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
