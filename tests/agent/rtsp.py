"""A small RTSP server for tests: Debian's ffmpeg plays a clip in a loop at real time as RTP
(its `-rtsp_flags listen` only receives, it does not serve), and this relay answers RTSP
(OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN; optional Basic auth) and forwards the RTP packets
interleaved over each client's TCP connection, as IP cameras do with RTSP over TCP."""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import time
from pathlib import Path

from tests.processes import Proc


class RtspServer:
    def __init__(self, clip: Path, tmp: Path, username: str | None = None, password: str | None = None):
        ffmpeg = shutil.which("ffmpeg")
        assert ffmpeg, "ffmpeg is missing: make system-deps"
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode() if username else None
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"rtsp://127.0.0.1:{self.listener.getsockname()[1]}/cam"
        self.clients: list[socket.socket] = []
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.closed = False
        sdp = tmp / f"stream-{self.udp.getsockname()[1]}.sdp"
        self.ffmpeg = Proc(
            [
                ffmpeg,
                "-hide_banner",
                "-loglevel",
                "error",
                "-re",
                "-stream_loop",
                "-1",
                "-i",
                str(clip),
                "-an",
                "-c",
                "copy",
                "-f",
                "rtp",
                "-sdp_file",
                str(sdp),
                f"rtp://127.0.0.1:{self.udp.getsockname()[1]}?pkt_size=1200",
            ],
            {"PATH": "/usr/bin:/bin"},
            tmp / f"ffmpeg-{self.udp.getsockname()[1]}.log",
        )
        deadline = time.monotonic() + 15
        while not (sdp.exists() and "m=video" in sdp.read_text()):
            assert self.ffmpeg.popen.poll() is None and time.monotonic() < deadline, self.ffmpeg.output()
            time.sleep(0.05)
        # Served to each client: no address of its own (RTP comes interleaved), one track to SETUP.
        lines = []
        for line in sdp.read_text().splitlines():
            if line.startswith("c="):
                line = "c=IN IP4 0.0.0.0"
            elif line.startswith("m=video"):
                line = "m=video 0 " + line.split(" ", 2)[2]
            if line:
                lines.append(line)
        self.sdp = "\r\n".join([*lines, "a=control:track1"]) + "\r\n"
        threading.Thread(target=self._relay, daemon=True).start()
        threading.Thread(target=self._accept, daemon=True).start()

    def _relay(self) -> None:
        while not self.closed:
            try:
                packet = self.udp.recv(65536)
            except OSError:
                return
            frame = b"$\x00" + len(packet).to_bytes(2, "big") + packet
            with self.lock:
                for client in list(self.clients):
                    try:
                        client.sendall(frame)
                    except OSError:
                        self.clients.remove(client)

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                    while buffer.startswith(b"$") and len(buffer) >= 4:  # the client's RTCP: skip it
                        size = 4 + int.from_bytes(buffer[2:4], "big")
                        if len(buffer) < size:
                            break
                        buffer = buffer[size:]
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method = lines[0].split(" ")[0]
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
                self.requests.append(method)
                length = int(headers.get("content-length", 0))
                buffer = buffer[length:]
                cseq = headers.get("cseq", "0")
                if self.auth and method != "OPTIONS" and headers.get("authorization") != self.auth:
                    conn.sendall(
                        f'RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n'.encode()
                    )
                    continue
                extra, body = "", ""
                if method == "OPTIONS":
                    extra = "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
                elif method == "DESCRIBE":
                    body = self.sdp
                    extra = f"Content-Base: {self.url}/\r\nContent-Type: application/sdp\r\n"
                elif method == "SETUP":
                    if "TCP" not in headers.get("transport", ""):
                        conn.sendall(f"RTSP/1.0 461 Unsupported Transport\r\nCSeq: {cseq}\r\n\r\n".encode())
                        continue
                    extra = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 4242\r\n"
                elif method == "PLAY":
                    extra = "Session: 4242\r\n"
                elif method == "TEARDOWN":
                    conn.sendall(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n".encode())
                    return
                with self.lock:
                    conn.sendall(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{extra}Content-Length: {len(body)}\r\n\r\n{body}".encode())
                    if method == "PLAY":
                        self.clients.append(conn)
        except OSError:
            return
        finally:
            with self.lock:
                if conn in self.clients:
                    self.clients.remove(conn)
            conn.close()

    def stop(self) -> None:
        self.closed = True
        self.ffmpeg.stop()
        self.listener.close()
        self.udp.close()
        with self.lock:
            for client in self.clients:
                client.close()
            self.clients.clear()
