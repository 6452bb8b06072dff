"""Prints the environment it was given (one KEY=VALUE line each), then answers HTTP on $PORT.

What it prints is exactly what the platform handed the process, so the configuration tests read it
back; `built.txt`, when a build step wrote one, is printed too (build-time values).
"""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

for key, value in sorted(os.environ.items()):
    print(f"{key}={value}", flush=True)
built = Path("built.txt")
print(f"BUILT={built.read_text().strip() if built.exists() else ''}", flush=True)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {os.environ.get('GREETING', 'print-env')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


HTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
