"""Client and server side of docs/examples/make-explain-capture.sh (runs inside the private namespace)."""
import socket
import threading
import time

TCP_DEFER_ACCEPT = 9
start = time.monotonic()


def log(text):
    print(f"+{time.monotonic() - start:6.3f} s  {text}", flush=True)


def listener(port, backlog, accept=True, defer=0):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if defer:
        s.setsockopt(socket.IPPROTO_TCP, TCP_DEFER_ACCEPT, defer)
    s.bind(("127.0.0.1", port))
    s.listen(backlog)
    if accept:
        threading.Thread(target=serve, args=(s, port), daemon=True).start()
    return s


def serve(s, port):
    while True:
        c, peer = s.accept()
        log(f"server :{port} accepted {peer[0]}:{peer[1]}")
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def echo(c):
    try:
        while data := c.recv(100):
            c.sendall(b"pong")
    except OSError:
        pass
    c.close()


def client(name, port, source_port, send_at=None, timeout=20):
    c = socket.socket()
    c.bind(("127.0.0.1", source_port))
    c.settimeout(timeout)
    t0 = time.monotonic()
    try:
        c.connect(("127.0.0.1", port))
        log(f"{name}: connect() returned")
        if send_at is not None:
            time.sleep(max(0, send_at - (time.monotonic() - t0)))
            c.sendall(b"ping")
            log(f"{name}: send() ok")
            log(f"{name}: recv() -> {c.recv(100)!r}")
        else:
            time.sleep(timeout)  # connected, sends nothing: waits like a client that expects a greeting
            log(f"{name}: closes after {timeout} s without sending")
    except OSError as e:
        log(f"{name}: {e.__class__.__name__}: {e}")
    finally:
        c.close()


listener(8080, 16)                      # an ordinary server; the firewall eats some final ACKs
full = listener(8082, 0, accept=False)  # backlog 0, never accepts: the queue holds one connection
listener(8081, 16, defer=2)             # TCP_DEFER_ACCEPT: bare final ACKs are dropped on purpose

threads = [
    threading.Thread(target=client, args=("ordinary", 8080, 40001, 0.05)),
    threading.Thread(target=client, args=("ack-lost-then-data", 8080, 41001, 2.5)),
    threading.Thread(target=client, args=("ack-lost-data-after-expiry", 8080, 41002, 9.0)),
    threading.Thread(target=client, args=("ack-lost-never-sends", 8080, 41003, None, 11)),
    threading.Thread(target=client, args=("defer-accept-idle", 8081, 42001, None, 11)),
    threading.Thread(target=client, args=("queued", 8082, 43001, None, 11)),
    threading.Thread(target=client, args=("nothing-listens", 8083, 44001, 0.1)),
]
for t in threads:
    t.start()
    time.sleep(0.01)
time.sleep(0.3)
threading.Thread(target=client, args=("queue-full", 8082, 43002, None, 11)).start()
for t in threads:
    t.join()
time.sleep(1)
