#!/usr/bin/env python3
"""A plain-socket TCP client for halfway's lab: connects to $HALFWAY_SERVER:$HALFWAY_PORT, waits, sends, waits for an answer.

halfway does not see this program's calls, only its packets: so it logs each call's result on stdout itself
("connect ok 198.18.0.1:41234", "recv timeout after 2.0 s", ...), and that log is kept in the run folder.
"""
import argparse
import os
import socket
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", type=float, default=0.5, help="seconds between connect() and send()")
    parser.add_argument("--send", default="Ping", help="what to send")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for an answer")
    parser.add_argument("--connect-timeout", type=float, default=5.0, help="seconds connect() may take")
    args = parser.parse_args()
    server = (os.environ["HALFWAY_SERVER"], int(os.environ["HALFWAY_PORT"]))
    started = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(args.connect_timeout)
        try:
            s.connect(server)
        except OSError as e:
            print(f"connect failed {e.strerror or e}", flush=True)
            return 1
        host, port = s.getsockname()
        print(f"connect ok {host}:{port} after {time.monotonic() - started:.3f} s", flush=True)
        time.sleep(args.wait)
        try:
            s.sendall(args.send.encode())
            s.settimeout(args.timeout)
            data = s.recv(100)
            print(f"recv {'eof' if not data else repr(data.decode(errors='replace'))}", flush=True)
        except socket.timeout:
            print(f"recv timeout after {args.timeout} s", flush=True)
            return 2
        except OSError as e:
            print(f"recv failed {e.strerror or e}", flush=True)
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
