"""A hostile HTTP server on 127.0.0.1 for the client's specs: answers that never end and
answers that inflate. Prints "PORT <n>" when it listens; serves until killed.

  GET /endless     200, chunked, bytes forever
  GET /bomb        200, Content-Encoding: gzip, 256 KB that inflate to 256 MiB of zeros
  GET /big?n=N     200, N bytes of JSON-ish text, Content-Length set
  GET /chunked?n=N 200, N bytes in chunks of 1000 with chunk extensions, then a trailer
  GET /until-close?n=N  200, N bytes with no length: the body ends when the connection does
  GET /headers/CASE 200 (body "{}") with a header block of its own, written byte for byte:
                   repeated, folded, empty, nameless, colonless, oversized (one field past
                   libcurl's 100 KB), too_many (past its 300 KB for a block), interim (a 103
                   first)
"""
import gzip
import http.server
import io
import sys
import urllib.parse


def bomb():
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as z:
        block = b"\0" * (1 << 20)
        for _ in range(256):
            z.write(block)
    return buf.getvalue()


BOMB = bomb()

# The header blocks of /headers/CASE, after the status line.
HEADERS = {
    "repeated": b"X-Rep: a\r\nx-rep:   b  \r\nX-Request-Id: req_1\r\n",
    "folded": b"X-Folded: first\r\n  second\r\n",
    "empty": b"X-Empty:\r\nX-Blank:   \r\n",
    "nameless": b": no name\r\nX-After: yes\r\n",
    "colonless": b"X-Before: yes\r\nNoColonHere\r\n",
    "oversized": b"X-Big: " + b"y" * (200 * 1024) + b"\r\n",
    "too_many": b"".join(b"X-H%d: %s\r\n" % (i, b"z" * 100) for i in range(4000)),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        case = url.path.rsplit("/", 1)[-1]
        if "/headers/" in url.path:
            head = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" if case == "interim" else b""
            head += b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            try:
                self.wfile.write(head + HEADERS.get(case, b"") + b"Content-Length: 2\r\n\r\n{}")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        elif url.path.endswith("/endless"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"[" + b"1," * 32767 + b"\n"
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                return
        elif url.path.endswith("/bomb"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(BOMB)))
            self.end_headers()
            try:
                self.wfile.write(BOMB)
            except (BrokenPipeError, ConnectionResetError):
                return
        elif url.path.endswith("/chunked") or url.path.endswith("/until-close"):
            n = int(urllib.parse.parse_qs(url.query).get("n", ["10"])[0])
            body = bytes(ord("a") + i % 26 for i in range(n))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            chunked = url.path.endswith("/chunked")
            self.send_header("Transfer-Encoding" if chunked else "Connection",
                             "chunked" if chunked else "close")
            self.end_headers()
            if chunked:
                for i in range(0, n, 1000):
                    piece = body[i:i + 1000]
                    self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
            else:
                self.wfile.write(body)
                self.close_connection = True
        else:
            n = int(urllib.parse.parse_qs(url.query).get("n", ["10"])[0])
            body = b'{"pad":"' + b"x" * max(0, n - 10) + b'"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
