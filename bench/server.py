"""A fast static server on 127.0.0.1 for a generated site (bench/sitegen.py).

    python bench/server.py SITE_DIR [--port 0] [--selftest 2000]

Every file is read into memory at start, with ``{base}`` replaced by the
server's own address; responses go out with TCP_NODELAY on keep-alive
connections (the stdlib default adds ~40 ms a response: see PERF-NOTES).
``--selftest N`` fetches N pages over 4 keep-alive connections and prints
the rate, to show the server is not the bottleneck of a crawl.
"""

from __future__ import annotations

import argparse
import http.client
import mimetypes
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.files: dict[str, tuple[bytes, str]] = {}
        for path in root.rglob("*"):
            if path.is_file():
                rel = "/" + path.relative_to(root).as_posix()
                data = path.read_bytes().replace(b"{base}", self.base.encode())
                ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if ctype.startswith("text/") or ctype.endswith("xml"):
                    ctype += "; charset=utf-8"
                self.files[rel] = (data, ctype)
        self.requests = 0

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SiteServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.server.requests += 1
        path = self.path.split("?", 1)[0]
        found = self.server.files.get(path)
        if found is None:
            body, ctype, status = b"not found", "text/plain", 404
        else:
            (body, ctype), status = found, 200
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def start(root: Path, port: int = 0) -> SiteServer:
    server = SiteServer(root, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def selftest(server: SiteServer, n: int, connections: int = 4) -> float:
    """Pages per second the server delivers to ``connections`` clients."""
    pages = [p for p in server.files if p.endswith(".html")]
    per = max(1, n // connections)

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1])
        for i in range(per):
            conn.request("GET", pages[(offset * per + i) % len(pages)])
            conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * connections / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--selftest", type=int, default=0)
    args = ap.parse_args()
    server = start(args.root, args.port)
    if args.selftest:
        print(f"server: {selftest(server, args.selftest):.0f} pages/s over 4 connections")
        return
    print(f"serving {args.root} at {server.base}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
