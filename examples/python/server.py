#!/usr/bin/env python3
"""A plain-socket TCP server for halfway's lab: listen(backlog), accept slowly, log each accept with the client's port.

Each accepted connection is held open (never read, never closed) until the server ends, so the accept queue stays the
only thing that limits it. One line per accept on stdout: "accepted HOST:PORT", flushed at once.
"""
import argparse
import signal
import socket
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--backlog", type=int, default=5, help="listen(backlog)")
    parser.add_argument("--accept-every", type=float, default=0.0, help="seconds between two accept() calls")
    parser.add_argument("--first-accept-after", type=float, default=0.0, help="seconds before the first accept()")
    parser.add_argument("--greeting", default=None, help="bytes sent on each accepted connection")
    args = parser.parse_args()

    # SIGTERM is taken only between accepts, so an accept() that returned is always logged before the server ends:
    # the log is then the whole truth about which connections this application accepted.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", args.port))
    listener.listen(args.backlog)
    listener.settimeout(0.05)
    print(f"listening on port {args.port} with backlog {args.backlog}", flush=True)

    held = []
    next_accept = time.monotonic() + args.first_accept_after
    while signal.SIGTERM not in signal.sigpending():
        wait = next_accept - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 0.05))
            continue
        try:
            connection, (host, port) = listener.accept()
        except socket.timeout:
            continue
        print(f"accepted {host}:{port}", flush=True)
        if args.greeting is not None:
            connection.sendall(args.greeting.encode())
        held.append(connection)
        next_accept = time.monotonic() + args.accept_every
    print(f"SIGTERM: {len(held)} accepted, exiting", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
