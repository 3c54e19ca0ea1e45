"""Serves bot.py's app on 127.0.0.1 at a port the OS picks, and prints
`listening on PORT` (the test's harness, not part of the bot)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from werkzeug.serving import make_server  # noqa: E402

from bot import app  # noqa: E402

server = make_server("127.0.0.1", 0, app, threaded=True)
print("listening on %d" % server.server_port, flush=True)
server.serve_forever()
