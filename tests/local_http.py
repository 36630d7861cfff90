"""Small HTTP servers on 127.0.0.1 that tests write for one behaviour (redirects, failures…)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers in one call."""

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """Send a whole response: status, headers, Content-Length and body."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a server running ``handler`` in a thread while in the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def html_pages(pages: dict[str, bytes]) -> type[QuietHandler]:
    """A handler serving ``pages`` (path: UTF-8 HTML) as they are when asked for, 404 elsewhere:
    a test may add pages once it knows the server's address."""

    class Pages(QuietHandler):
        def do_GET(self) -> None:
            if self.path not in pages:
                self.reply(404)
                return
            self.reply(200, pages[self.path], {"Content-Type": "text/html; charset=utf-8"})

    return Pages
