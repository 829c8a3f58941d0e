"""A TCP listener on 127.0.0.1 whose accept queue is full: it listens with a backlog of 0,
never accepts, and fills the queue with connections of its own, so that a further connect
gets no answer to its SYN and cannot finish (until the client gives up). Prints "PORT <n>"
once the queue is full; holds until killed. Usage: full_backlog.py"""
import select
import signal
import socket

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(0)
port = server.getsockname()[1]
held = []
# Linux queues backlog + 1 connections: the first one connects (waited for), the next ones
# stay unanswered, like the client's will.
for i in range(3):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    if i == 0:
        select.select([], [s], [], 5)
    held.append(s)
print("PORT %d" % port, flush=True)
while True:
    signal.pause()
