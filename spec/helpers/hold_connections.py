"""Opens N TCP connections to 127.0.0.1:PORT, sends nothing, and holds them until killed (or
until the server closes them: then it prints "CLOSED k" as they go). Prints "HELD n" once
they are open. Usage: hold_connections.py PORT N"""
import resource
import selectors
import socket
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = min(hard, n + 64) if hard != resource.RLIM_INFINITY else n + 64
if want > soft:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
socks = []
for _ in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        break
print("HELD %d" % len(socks), flush=True)
sel = selectors.DefaultSelector()
for s in socks:
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
closed = 0
while closed < len(socks):
    for key, _ in sel.select():
        try:
            data = key.fileobj.recv(1)
        except OSError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
            key.fileobj.close()
            closed += 1
            print("CLOSED %d" % closed, flush=True)
