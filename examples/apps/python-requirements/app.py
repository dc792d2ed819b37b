"""Example GovHost app in Python with a dependency: Bottle, from PyPI (or the department's mirror),
declared in requirements.txt and installed by the platform at deploy, not shipped in the bundle."""
import os
import signal
import socket
import sys

import bottle

app = bottle.Bottle()

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello from GovHost</title></head>
<body>
  <h1>Hello from GovHost</h1>
  <p>A Bottle {version} app, served by host <strong>{host}</strong>, process <strong>{pid}</strong>.</p>
</body>
</html>
"""


@app.get("/healthz")
def healthz():
    bottle.response.content_type = "text/plain"
    return "ok\n"


@app.get("/api/greeting")
def greeting():
    name = bottle.request.query.getunicode("name", default="").strip() or "world"
    # A dict is answered as JSON.
    return {"greeting": "Hello, %s!" % name[:100], "bottle": bottle.__version__}


@app.get("/")
def index():
    return PAGE.format(
        version=bottle.html_escape(bottle.__version__),
        host=bottle.html_escape(socket.gethostname()),
        pid=os.getpid(),
    )


def main():
    port = int(os.environ.get("PORT", "8080"))
    # The platform stops an instance with SIGTERM; exit cleanly rather than with a traceback.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("python-requirements listening on port %d, pid %d" % (port, os.getpid()), flush=True)
    bottle.run(app, host="0.0.0.0", port=port, quiet=True)


if __name__ == "__main__":
    main()
