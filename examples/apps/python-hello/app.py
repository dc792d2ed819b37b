"""Example GovHost app in Python, standard library only: an HTTP server on $PORT with /healthz."""
import html
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello from GovHost</title></head>
<body>
  <h1>Hello from GovHost</h1>
  <p>Served by host <strong>{host}</strong>, process <strong>{pid}</strong> (Python).</p>
</body>
</html>
"""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self.reply(200, "text/plain", "ok\n")
        elif path == "/":
            body = PAGE.format(host=html.escape(socket.gethostname()), pid=os.getpid())
            self.reply(200, "text/html; charset=utf-8", body)
        else:
            self.reply(404, "text/plain", "not found\n")

    def reply(self, status, content_type, text):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        # One line per request on stdout, which the platform captures as the app's log.
        print("%s %s" % (self.address_string(), format % args), flush=True)


def main():
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("", port), Handler)
    # The platform stops an instance with SIGTERM; exit cleanly rather than with a traceback.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("python-hello listening on port %d, pid %d" % (port, os.getpid()), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
