"""HTTP camera sources for the gateway tests: /snap.jpg (one JPEG per GET, Basic auth),
/page (HTML: not a video). Counts the snapshots served per path."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.images import face_jpeg

PASSWORD = "Gw-s3cret-cam-pw"


class Snapshots(BaseHTTPRequestHandler):
    jpeg = face_jpeg("deepface_img1.jpg")
    expected = "Basic " + base64.b64encode(f"viewer:{PASSWORD}".encode()).decode()
    served: list[str]  # the paths asked for, per server (SnapshotServer gives each its own list)
    hosts: list[str]  # the Host header of each request

    def do_GET(self):  # noqa: N802 - http.server's name
        self.served.append(self.path)
        self.hosts.append(self.headers.get("Host", ""))
        if self.path.startswith("/page"):
            body, kind = b"<html><body>login</body></html>", "text/html"
        elif self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="cam"')
            self.end_headers()
            return
        else:
            body, kind = self.jpeg, "image/jpeg"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class SnapshotServer:
    def __init__(self):
        self.served: list[str] = []
        self.hosts: list[str] = []
        handler = type("Served", (Snapshots,), {"served": self.served, "hosts": self.hosts})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
