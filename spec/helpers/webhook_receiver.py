"""A webhook receiver on 127.0.0.1 for the sandbox's specs: answers every POST with 200 and
prints a line per request it received ("HIT <attempt> <event> <workflow id>", from the
X-Cleanlist-* headers), so a spec can see a delivery without asking the sandbox (a request
to the sandbox would move its deliveries along). Prints "PORT <n>" when it listens; serves
until killed. Usage: webhook_receiver.py"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        print(
            "HIT %s %s %s"
            % (
                self.headers.get("X-Cleanlist-Attempt"),
                self.headers.get("X-Cleanlist-Event"),
                self.headers.get("X-Cleanlist-Workflow-Id"),
            ),
            flush=True,
        )

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
sys.stdout.flush()
server.serve_forever()
