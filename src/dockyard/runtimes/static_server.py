"""The static site server: `python -m dockyard.runtimes.static_server --root DIR --port N`.

One small process per static app, on the standard library only: it starts as fast as Python's own
http.server and idles at ~20 MB resident, where FastAPI/Starlette on uvicorn costs ~45 MB per site.
It serves regular files under `--root` and nothing else:

- a path whose real location (symlinks followed) leaves `--within` (the deployment's workspace,
  by default the root) answers 404, whatever the link says;
- dotfiles and dot-folders (`.env`, `.git/`) answer 404, except under `/.well-known/`;
- a folder serves its `index.html` or answers 404: no listings; `/about` serves `about.html`;
- with `--spa`, a path without an extension that names no file (`/about`) gets the root index.html,
  for client-side routing.

GET and HEAD only; ETag / Last-Modified with If-None-Match / If-Modified-Since (304); HTTP/1.1
keep-alive; file bodies go out with sendfile.
"""

import argparse
import email.utils
import mimetypes
import os
import stat
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

WELL_KNOWN = ".well-known"
INDEX = "index.html"
IDLE_TIMEOUT_S = 60  # an idle keep-alive connection is closed after this long
TYPES = {  # what browsers need regardless of the machine's /etc/mime.types
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".avif": "image/avif",
    ".webp": "image/webp",
}


def content_type(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    if ext in TYPES:
        return TYPES[ext]
    guessed = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class Site:
    """Which file a URL path names, if any. Pure apart from reading the file system."""

    def __init__(self, root: str, within: str | None = None, spa: bool = False) -> None:
        self.root = os.path.realpath(root)
        self.within = os.path.realpath(within) if within else self.root
        if not _inside(self.root, self.within):
            raise ValueError(f"{root} resolves to {self.root}, outside {self.within}")
        self.spa = spa

    def _allowed(self, real: str) -> bool:
        """Inside the workspace, and no dot-named part on the way (but /.well-known/ at the root)."""
        if not _inside(real, self.within):
            return False
        base = self.root if _inside(real, self.root) else self.within
        parts = [p for p in real[len(base) :].split("/") if p]
        return not any(
            p.startswith(".") and not (i == 0 and p == WELL_KNOWN and base == self.root)
            for i, p in enumerate(parts)
        )

    def _file(self, path: str) -> tuple[str, os.stat_result] | None:
        real = os.path.realpath(path)
        if not self._allowed(real):
            return None
        try:
            st = os.stat(real)
        except OSError:
            return None
        return (real, st) if stat.S_ISREG(st.st_mode) else None

    def resolve(self, url_path: str) -> tuple[str, os.stat_result] | str | None:
        """(real path, stat) of the file to serve; a str = redirect to that path (a folder without its
        trailing slash); None = 404."""
        decoded = unquote(url_path, errors="strict") if "%" in url_path else url_path
        if not decoded.startswith("/") or "\x00" in decoded:
            return None
        parts = [p for p in decoded.split("/") if p]
        if any(p.startswith(".") and not (i == 0 and p == WELL_KNOWN) for i, p in enumerate(parts)):
            return None
        target = os.path.join(self.root, *parts)
        real = os.path.realpath(target)
        if self._allowed(real) and os.path.isdir(real):
            if not decoded.endswith("/"):
                return "/" + url_path.lstrip("/") + "/"  # never `//host/`: that would leave the site
            return self._file(os.path.join(real, INDEX))
        found = self._file(target)
        if found is None and parts and "." not in parts[-1]:  # `/about`: about.html, or the app's index
            found = self._file(target + ".html")
            if found is None and self.spa:
                found = self._file(os.path.join(self.root, INDEX))
        return found


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and a sendfile body are two writes: with Nagle on, a kept-alive connection's body
    # waited for the client's delayed ACK of the headers (~40 ms a request).
    disable_nagle_algorithm = True
    server_version = "dockyard-static"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    site: Site  # set on the subclass made by `serve`

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _plain(self, status: HTTPStatus, body: bool, extra: dict[str, str] | None = None) -> None:
        text = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(text)

    def _serve(self, body: bool) -> None:
        split = urlsplit(self.path)
        try:
            found = self.site.resolve(split.path)
        except UnicodeDecodeError:
            found = None
        if found is None:
            return self._plain(HTTPStatus.NOT_FOUND, body)
        if isinstance(found, str):
            location = found + (f"?{split.query}" if split.query else "")
            return self._plain(HTTPStatus.MOVED_PERMANENTLY, body, {"Location": location})
        real, st = found
        etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
        headers = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True),
            "X-Content-Type-Options": "nosniff",
        }
        if self._not_modified(etag, st.st_mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            return None
        try:
            f = open(real, "rb")  # noqa: SIM115 - closed below, after sendfile
        except OSError:
            return self._plain(HTTPStatus.NOT_FOUND, body)
        with f:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type(real))
            self.send_header("Content-Length", str(st.st_size))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if body and st.st_size:
                self.connection.sendfile(f, 0, st.st_size)
        return None

    def _not_modified(self, etag: str, mtime: float) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:
            tags = {t.strip().removeprefix("W/") for t in match.split(",")}
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return when is not None and int(mtime) <= when.timestamp()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away mid-response is not an error worth a traceback in the app log."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def serve(site: Site, host: str, port: int) -> ThreadingHTTPServer:
    return Server((host, port), type("SiteHandler", (Handler,), {"site": site}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dockyard-static", description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the folder to serve")
    parser.add_argument("--within", default=None, help="no file is served from outside this folder")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--spa", action="store_true", help="unknown paths without an extension get index.html"
    )
    args = parser.parse_args(argv)
    try:
        site = Site(args.root, args.within, args.spa)
    except ValueError as exc:
        sys.exit(f"refusing to serve: {exc}")
    if not os.path.isdir(site.root):
        sys.exit(f"refusing to serve: {args.root} is not a folder")
    server = serve(site, args.host, args.port)
    print(f"serving {site.root} on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
