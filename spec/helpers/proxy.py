"""A forward HTTP proxy on 127.0.0.1 for the client's proxy specs. Takes absolute-form requests
("GET http://127.0.0.1:PORT/path HTTP/1.1"), forwards them to that origin and relays the
answer. Appends one line per request to LOG: the request line and "auth=<Proxy-Authorization
value or ->". With NEED=user:pass it answers 407 to requests without those credentials.
Prints "PORT <n>" when it listens; serves until killed. Usage: proxy.py LOG [NEED]"""
import base64
import http.client
import http.server
import sys
import urllib.parse

LOG = sys.argv[1]
NEED = ("Basic " + base64.b64encode(sys.argv[2].encode()).decode()) if len(sys.argv) > 2 else None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        auth = self.headers.get("Proxy-Authorization")
        with open(LOG, "a") as f:
            f.write("%s auth=%s\n" % (self.requestline, auth or "-"))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if NEED and auth != NEED:
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="spec"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            self.send_error(400, "absolute http URLs only")
            return
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")}
        target = url.path + ("?" + url.query if url.query else "")
        conn.request(self.command, target, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = relay


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
