"""Serve folders of static sites on 127.0.0.1, one origin (port) per site.

Used by `veille demo` and by the tests. Each sub-folder of `root` is a site. In every served text
file the token ``__SITE:name__`` becomes the base URL of site `name` (``http://127.0.0.1:PORT``),
so feeds and pages can carry absolute links to themselves and to each other.

The server answers like a plain static host: ETag and Last-Modified on every file, 304 to a
matching conditional GET, index.html for folders, 404 otherwise. It counts requests per path so
tests can check what a crawler asked for.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
from collections import Counter
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

TOKEN = re.compile(rb"__SITE:([A-Za-z0-9_.-]+)__")
TEXT_SUFFIXES = {".html", ".htm", ".xml", ".rss", ".atom", ".json", ".txt", ".css", ".js", ".ics"}
CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".json": "application/json",
}
LAST_MODIFIED = formatdate(1_764_000_000, usegmt=True)  # fixed: the sites are static


class SiteServer:
    """Sites being served; `base_urls[name]` is the base URL of each."""

    def __init__(self, root: Path):
        self.root = root
        self.base_urls: dict[str, str] = {}
        self.requests: Counter[tuple[str, str]] = Counter()  # (site, path) -> count
        self._servers: list[ThreadingHTTPServer] = []

    def start(self) -> None:
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self, folder))
            server.daemon_threads = True
            self._servers.append(server)
            self.base_urls[folder.name] = f"http://127.0.0.1:{server.server_address[1]}"
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def render(self, data: bytes) -> bytes:
        """Replace the site tokens in `data` by the base URLs."""

        def base(match: re.Match[bytes]) -> bytes:
            name = match.group(1).decode("ascii")
            return self.base_urls.get(name, f"http://127.0.0.1:9/{name}").encode("ascii")

        return TOKEN.sub(base, data)


@contextmanager
def serve_sites(root: Path) -> Iterator[SiteServer]:
    """Serve every sub-folder of `root` on its own loopback port for the duration of the block."""
    sites = SiteServer(Path(root))
    sites.start()
    try:
        yield sites
    finally:
        sites.stop()


def _handler_for(sites: SiteServer, folder: Path) -> type[BaseHTTPRequestHandler]:
    class StaticSiteHandler(BaseHTTPRequestHandler):
        server_version = "veille-demo/1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet server
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = unquote(urlsplit(self.path).path)
            sites.requests[(folder.name, path)] += 1
            file = _resolve(folder, path)
            if file is None:
                self._send(404, b"<h1>404 Not Found</h1>", "text/html; charset=utf-8")
                return
            data = file.read_bytes()
            if file.suffix in TEXT_SUFFIXES:
                data = sites.render(data)
            etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", None, etag)
                return
            self._send(200, data, _content_type(file), etag)

        def _send(self, status: int, body: bytes, ctype: str | None, etag: str | None = None) -> None:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return StaticSiteHandler


def _resolve(folder: Path, path: str) -> Path | None:
    """The file for a URL path inside `folder`, or None (never outside the folder)."""
    candidate = (folder / path.lstrip("/")).resolve()
    if not candidate.is_relative_to(folder.resolve()):
        return None
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def _content_type(file: Path) -> str:
    """Content type as a static host would send it; a `.latin1.html` file is sent with no charset."""
    if file.name.endswith(".nocharset.html") or ".latin1." in file.name:
        return "text/html"
    ctype = CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if file.suffix in TEXT_SUFFIXES:
        return f"{ctype}; charset=utf-8"
    return ctype
