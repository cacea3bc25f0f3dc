"""emotiscan-agent: stream cameras of the local network to an EmotiScan server over /capture.

    emotiscan-agent --server https://emotiscan.example --token cam_... rtsp://10.0.0.5/stream1
    emotiscan-agent --config agent.toml

agent.toml (one thread per camera)::

    server = "https://emotiscan.example"
    [[cameras]]
    name = "entrance"
    token = "cam_..."                 # or token_env = "ENTRANCE_TOKEN"
    source = "rtsp://10.0.0.5/stream1"
    username = "viewer"               # optional; password or password_env = "ENTRANCE_PASSWORD"
    fps = 2                           # optional: else the camera's rate on the server
    loop = false                      # video files: play again at the end
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import tomllib
from pathlib import Path

from app.agent.camera import EXIT_ERROR, EXIT_OK, EXIT_USAGE, AgentCamera, CameraConfig
from app.streams.source import SourceSpec

log = logging.getLogger("emotiscan.agent")


class ConfigError(Exception):
    pass


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emotiscan-agent",
        description="Send the frames of RTSP/HTTP cameras, video files or local devices to EmotiScan's /capture.",
    )
    p.add_argument("source", nargs="?", help="rtsp(s):// or http(s):// URL (MJPEG or snapshot), a video file, or a device index")
    p.add_argument("--server", help="EmotiScan's address, e.g. https://emotiscan.example")
    p.add_argument("--token", help="the camera's capture token (or EMOTISCAN_CAPTURE_TOKEN)")
    p.add_argument("--config", type=Path, help="a TOML file with several cameras")
    p.add_argument("--fps", type=float, help="frames per second to send (default: the camera's rate on the server)")
    p.add_argument("--loop", action="store_true", help="play a video file again when it ends")
    p.add_argument("--username", help="the source's user name")
    p.add_argument("--password", help="the source's password (better: EMOTISCAN_SOURCE_PASSWORD)")
    p.add_argument("--name", default="camera", help="name in the log")
    p.add_argument("--max-width", type=int, default=640, help="frames wider than this are downscaled (default 640)")
    p.add_argument("--quality", type=int, default=80, help="JPEG quality (default 80)")
    p.add_argument("--stats-interval", type=float, default=30.0, help="seconds between counter lines in the log")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def _positive(value, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 60:
        raise ConfigError(f"{what} must be a number of frames per second between 0 and 60")
    return float(value)


def load_config(path: Path, defaults: argparse.Namespace) -> list[CameraConfig]:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    server = data.get("server") or defaults.server
    cameras = data.get("cameras")
    if not isinstance(server, str) or not server:
        raise ConfigError(f"{path}: 'server' is missing")
    if not isinstance(cameras, list) or not cameras:
        raise ConfigError(f"{path}: no [[cameras]]")
    out = []
    for i, cam in enumerate(cameras, 1):
        if not isinstance(cam, dict):
            raise ConfigError(f"{path}: camera {i} is not a table")
        name = str(cam.get("name") or f"camera-{i}")
        token = cam.get("token") or (os.environ.get(cam["token_env"]) if cam.get("token_env") else None)
        password = cam.get("password") or (os.environ.get(cam["password_env"]) if cam.get("password_env") else None)
        if not isinstance(token, str) or not token:
            raise ConfigError(f"{path}: {name} has no token")
        if not isinstance(cam.get("source"), str) or not cam["source"]:
            raise ConfigError(f"{path}: {name} has no source")
        out.append(
            CameraConfig(
                server=server,
                token=token,
                source=SourceSpec(cam["source"], cam.get("username"), password, bool(cam.get("loop", False))),
                name=name,
                fps=_positive(cam.get("fps", data.get("fps")), f"{name}: fps"),
                max_width=int(cam.get("max_width", defaults.max_width)),
                quality=int(cam.get("quality", defaults.quality)),
                stats_interval=float(data.get("stats_interval", defaults.stats_interval)),
            )
        )
    return out


def cameras_from_args(args: argparse.Namespace) -> list[CameraConfig]:
    if args.config:
        return load_config(args.config, args)
    token = args.token or os.environ.get("EMOTISCAN_CAPTURE_TOKEN")
    if not args.server or not token or not args.source:
        raise ConfigError("give --server, --token and SOURCE, or --config FILE")
    return [
        CameraConfig(
            server=args.server,
            token=token,
            source=SourceSpec(
                args.source, args.username, args.password or os.environ.get("EMOTISCAN_SOURCE_PASSWORD"), args.loop
            ),
            name=args.name,
            fps=_positive(args.fps, "--fps"),
            max_width=args.max_width,
            quality=args.quality,
            stats_interval=args.stats_interval,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("socketio", "engineio", "urllib3", "websocket"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        configs = cameras_from_args(args)
    except ConfigError as exc:
        print(f"emotiscan-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    codes: dict[str, int] = {}

    def run(camera: AgentCamera) -> None:
        try:
            codes[camera.config.name] = camera.run(stop)
        except Exception:  # noqa: BLE001 - one camera's fault must not end the others
            log.exception("%s: stopped on an unexpected error", camera.config.name)
            codes[camera.config.name] = EXIT_ERROR

    threads = [threading.Thread(target=run, args=(AgentCamera(c),), name=c.name, daemon=True) for c in configs]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(timeout=0.5)
    return max(codes.values(), default=EXIT_OK)
