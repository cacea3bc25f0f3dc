"""Cameras and their capture tokens; stream cameras' sources, credentials and status.

Kinds: ``browser`` (a browser tab or the edge agent pushes frames with the capture token) and
``stream`` (the server's gateway pulls ``source_url``). Server-side pulling is allowed only for
sources whose host resolves into STREAM_SOURCES_ALLOW; any other camera is fed by the edge agent
(``emotiscan-agent``) as a browser-kind camera, so a stream camera always has an allowed source.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

import segno
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import func, select

from app.connections import revoke
from app.extensions import db
from app.infra.secrets import decrypt, encrypt, new_token, token_hash
from app.models import Camera, Site, Tenant
from app.models.base import utcnow
from app.outbound import address_allowed
from app.services import audit
from app.services.errors import ServiceError
from app.tenancy import scoped

MAX_FPS = 15
KINDS = ("browser", "stream")
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
STREAM_STATUSES = ("connecting", "live", "unreachable", "disabled")
STREAM_FPS = 2
MAX_URL = 2048
MAX_CREDENTIAL = 200
MAX_ERROR = 300
AGENT_HINT = (
    "Server-side pulling is allowed only for the networks the operator lists in STREAM_SOURCES_ALLOW. "
    "For a camera elsewhere, create a browser camera and run the edge agent (emotiscan-agent) on the "
    "camera's network with its capture token."
)
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\\<>\"`{}|^]")  # no spaces, controls or quoting tricks
_HOST = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$")


def cameras_query(site_id: int | None = None):
    """The actor's cameras (its tenant, its sites), optionally of one site."""
    stmt = scoped(select(Camera), Camera)
    return stmt if site_id is None else stmt.where(Camera.site_id == site_id)


def _bad_url(message: str) -> ServiceError:
    return ServiceError("invalid_source_url", message, fields={"source_url": "invalid"})


def _not_allowed() -> ServiceError:
    return ServiceError("source_not_allowed", AGENT_HINT, fields={"source_url": "not_allowed"})


def stream_networks() -> tuple:
    """STREAM_SOURCES_ALLOW as networks (a list or a comma-separated string), read at each call."""
    value = current_app.config.get("STREAM_SOURCES_ALLOW") or ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(ipaddress.ip_network(str(i).strip(), strict=False) for i in items if str(i).strip())


def parse_source(url: object) -> tuple[str, str | None, str | None]:
    """Static checks of a source URL: (the URL without userinfo, user name, password from it)."""
    if not isinstance(url, str) or not url.strip():
        raise _bad_url("The camera needs a source URL (rtsp://, rtsps://, http:// or https://).")
    url = url.strip()
    if len(url) > MAX_URL:
        raise _bad_url(f"The source URL is longer than {MAX_URL} characters.")
    if _URL_FORBIDDEN.search(url):
        raise _bad_url("The source URL contains characters that a URL cannot hold (spaces, controls, quotes).")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise _bad_url("The source URL is not valid.") from None
    if parts.scheme.lower() not in STREAM_SCHEMES:
        raise _bad_url("The source URL must start with rtsp://, rtsps://, http:// or https://.")
    host = (parts.hostname or "").lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not host.isascii() or not _HOST.match(host):
            raise _bad_url("The source URL's host is not valid.") from None
    netloc = parts.netloc.rpartition("@")[2]
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, "")), username, password


def _in_networks(address: str, networks: tuple) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return any(ip.version == n.version and ip in n for n in networks)


def check_stream_source(url: str) -> str:
    """The address the source's host resolves to, when the server may pull it: every address
    must lie in STREAM_SOURCES_ALLOW (and never be multicast or unspecified). Called when a stream
    camera is saved and again by the gateway at connect time (the name may resolve elsewhere by
    then). Raises ServiceError ``source_not_allowed`` (400) or ``invalid_source_url``."""
    clean, _, _ = parse_source(url)
    parts = urlsplit(clean)
    allow = stream_networks()
    if not allow:
        raise _not_allowed()
    default_port = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}[parts.scheme]
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or default_port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _not_allowed() from None  # one answer for both: a tenant must not learn which names exist
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    inside = [
        a for a in addresses if address_allowed(a, allow) and any(ipaddress.ip_address(a.split("%")[0]) in n for n in allow)
    ]
    if not addresses or len(inside) != len(addresses):
        raise _not_allowed()
    return addresses[0]


def _masked_query(query: str) -> str:
    """Query parameters with their values hidden: cameras take passwords and tokens there
    (``?pwd=``, ``?password=``, ``?token=``), and their names vary."""
    parts = (p for p in re.split(r"[&;]", query) if p)
    return "&".join(p.partition("=")[0] + "=***" if "=" in p else "***" for p in parts)  # a bare ?token too


def public_source_url(url: str | None) -> str | None:
    """The URL as the API shows it: never a user name or password, even from a row written by
    hand, nor the values of its query parameters (a PATCH gives the whole URL again)."""
    if not url:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, _masked_query(parts.query), ""))


def _credentials(username: str | None, password: str | None) -> str | None:
    for value, name in ((username, "username"), (password, "password")):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_CREDENTIAL):
            raise ServiceError("validation_error", f"The {name} is too long.", fields={name: "invalid"})
    if not username and not password:
        return None
    return encrypt(json.dumps({"username": username or "", "password": password or ""}))


def credentials_of(camera: Camera) -> tuple[str, str] | None:
    """The stream camera's (username, password), decrypted; None without credentials."""
    if not camera.credentials:
        return None
    data = json.loads(decrypt(camera.credentials))
    return data.get("username", ""), data.get("password", "")


def _set_source(camera: Camera, url: object, username: str | None, password: str | None, keep_credentials: bool) -> None:
    clean, url_user, url_password = parse_source(url)
    if (url_user or url_password) and (username is not None or password is not None):
        raise ServiceError(
            "invalid_source_url",
            "Give the user name and password either inside the URL or as username and password, not both.",
            fields={"source_url": "credentials_in_url"},
        )
    if url_user or url_password:  # moved out of the URL: the URL is shown, credentials never are
        username, password = url_user, url_password
    check_stream_source(clean)
    camera.source_url = clean
    if username is not None or password is not None or not keep_credentials:
        camera.credentials = _credentials(username, password)


def capture_url(camera: Camera, token: str) -> str:
    """The capture page's address; the token rides in the fragment, which browsers never send
    to the server nor put in Referer headers or access logs."""
    return f"{current_app.config['PUBLIC_URL']}/capture/{camera.id}#token={token}"


def loopback_host(url: str) -> str | None:
    """The host of ``url`` when only the computer serving it can open it (localhost, 127.x, ::1,
    0.0.0.0), else None: a capture link on such a host is unreachable from a tablet. PUBLIC_URL's
    default (http://127.0.0.1:PORT, when it is unset) is one."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return host if address.is_loopback or address.is_unspecified else None


def qr_data_uri(url: str) -> str:
    """The capture link as an SVG QR code in a data: URI. A standalone SVG (with its xmlns and a
    white quiet zone): the inline form that HTML embeds has no xmlns, and as an <img> it drew
    nothing, so no tablet could scan it."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=4, light="#fff", xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _check(name: str | None, fps: int | None) -> None:
    if name is not None and not name.strip():
        raise ServiceError("validation_error", "The camera needs a name.", fields={"name": "required"})
    if fps is not None and not 1 <= fps <= MAX_FPS:
        raise ServiceError(
            "validation_error", f"Frames per second must be between 1 and {MAX_FPS}.", fields={"fps": "out_of_range"}
        )


def _check_quota(tenant_id: int, add_cameras: int, add_fps: int) -> None:
    """The tenant's quotas: how many cameras, and their frames per second in total."""
    tenant = db.session.get(Tenant, tenant_id)
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Camera.fps), 0)).where(Camera.tenant_id == tenant_id)
    ).one()
    if count + add_cameras > tenant.max_cameras:
        raise ServiceError(
            "quota_exceeded", f"Your plan allows {tenant.max_cameras} cameras.", status=409, fields={"cameras": "quota_exceeded"}
        )
    if total + add_fps > tenant.max_total_fps:
        raise ServiceError(
            "quota_exceeded",
            f"Your plan allows {tenant.max_total_fps} frames per second over all cameras.",
            status=409,
            fields={"fps": "quota_exceeded"},
        )


def create_camera(
    site: Site,
    name: str,
    fps: int | None = None,
    kind: str = "browser",
    source_url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    actor_id: int | None = None,
) -> tuple[Camera, str]:
    """A camera and its capture token (plain, returned only now). A stream camera needs a source
    URL the server may pull (see :func:`check_stream_source`); it samples 2 frames/s by default."""
    if kind not in KINDS:
        raise ServiceError("validation_error", "The kind is browser or stream.", fields={"kind": "invalid"})
    fps = fps or (STREAM_FPS if kind == "stream" else 5)
    _check(name, fps)
    _check_quota(site.tenant_id, 1, fps)
    token = new_token("cam")
    camera = Camera(
        tenant_id=site.tenant_id, site_id=site.id, name=name.strip()[:120], fps=fps, token_hash=token_hash(token), kind=kind
    )
    if kind == "stream":
        _set_source(camera, source_url, username, password, keep_credentials=False)
        camera.stream_status, camera.stream_status_at = "connecting", utcnow()
    elif source_url is not None or username is not None or password is not None:
        raise ServiceError(
            "validation_error", "Only a stream camera has a source URL.", fields={"source_url": "not_for_browser_camera"}
        )
    db.session.add(camera)
    db.session.commit()
    audit.record(camera.tenant_id, actor_id, "camera.created", "camera", camera.id, name=camera.name, kind=kind)
    return camera, token


def update_camera(
    camera: Camera,
    name: str | None = None,
    fps: int | None = None,
    site: Site | None = None,
    *,
    source_url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    enabled: bool | None = None,
    actor_id: int | None = None,
) -> Camera:
    """Change a camera; for a stream camera also its source, credentials (an empty username and
    password remove them) and ``enabled``. Open captures and pulls take the change at once."""
    _check(name, fps)
    before = {"name": camera.name, "fps": camera.fps, "site_id": camera.site_id, "enabled": camera.enabled}
    if fps is not None and fps > camera.fps:
        _check_quota(camera.tenant_id, 0, fps - camera.fps)
    stream_change = source_url is not None or username is not None or password is not None
    if stream_change and camera.kind != "stream":
        raise ServiceError(
            "validation_error", "Only a stream camera has a source URL.", fields={"source_url": "not_for_browser_camera"}
        )
    if source_url is not None:
        _set_source(camera, source_url, username, password, keep_credentials=True)
    elif username is not None or password is not None:
        camera.credentials = _credentials(username, password)
    if name is not None:
        camera.name = name.strip()[:120]
    if fps is not None:
        camera.fps = fps
    if enabled is not None and enabled != camera.enabled:
        camera.enabled = enabled
        if camera.kind == "stream":
            camera.stream_status, camera.stream_error, camera.stream_status_at = (
                "connecting" if enabled else "disabled",
                None,
                utcnow(),
            )
    elif stream_change and camera.enabled:
        camera.stream_status, camera.stream_error, camera.stream_status_at = "connecting", None, utcnow()
    moved = site is not None and site.id != camera.site_id
    if site is not None:
        camera.site_id = site.id
    db.session.commit()
    changed = {k: getattr(camera, k) for k, v in before.items() if getattr(camera, k) != v}
    if changed or stream_change:  # the source URL and credentials stay out of the trail
        audit.record(
            camera.tenant_id,
            actor_id,
            "camera.changed",
            "camera",
            camera.id,
            **changed,
            **({"source": True} if stream_change else {}),
        )
    if moved or fps is not None or enabled is not None or stream_change:
        revoke("camera_changed", camera_id=camera.id)  # open captures take the new site (rooms, rows) and rate at once
    return camera


@dataclass(frozen=True)
class StreamSource:
    """What the gateway needs to pull one camera. The credentials stay out of repr (and logs)."""

    id: int
    tenant_id: int
    site_id: int
    source_url: str
    credentials: tuple[str, str] | None = field(repr=False)
    fps: int


UNREADABLE_CREDENTIALS = "credentials_unreadable: the key that encrypted them is not in DATA_KEYS; enter them again"


def stream_cameras_enabled() -> list[StreamSource]:
    """Every enabled stream camera of every tenant (the gateway's work list), by id."""
    rows = db.session.scalars(
        select(Camera)
        .where(Camera.kind == "stream", Camera.enabled.is_(True), Camera.source_url.is_not(None))
        .order_by(Camera.id)
    ).all()
    sources, unreadable = [], []
    for c in rows:
        try:
            sources.append(StreamSource(c.id, c.tenant_id, c.site_id, c.source_url, credentials_of(c), c.fps))
        except (InvalidToken, ValueError):  # its key left DATA_KEYS: that camera stops, the others go on
            unreadable.append(c)
    for c in unreadable:
        if c.stream_error != UNREADABLE_CREDENTIALS:
            c.stream_status, c.stream_error, c.stream_status_at = "unreachable", UNREADABLE_CREDENTIALS, utcnow()
    if unreadable:
        db.session.commit()
    return sources


def _redact(text: str, camera: Camera) -> str:
    """An error text without the camera's credentials (a library may echo the URL it was given)."""
    secrets_ = [v for v in (credentials_of(camera) or ()) if v]
    for value in sorted(secrets_, key=len, reverse=True):
        text = text.replace(value, "***")
    text = re.sub(r"(?<=://)[^/@\s]*@", "", text)  # userinfo of any URL in the text
    text = re.sub(r"(://[^\s?#]*\?)([^\s#]*)", lambda m: m.group(1) + _masked_query(m.group(2)), text)  # query values
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text).strip()[:MAX_ERROR]


def set_stream_status(camera_id: int, status: str, error: str | None = None) -> bool:
    """Record what the gateway (or the agent) sees of a stream: connecting, live, unreachable (with
    the last error) or disabled. False when the camera is gone."""
    if status not in STREAM_STATUSES:
        raise ValueError(f"stream status must be one of {STREAM_STATUSES}")
    camera = db.session.get(Camera, camera_id)
    if camera is None:
        return False
    camera.stream_status = status
    camera.stream_error = _redact(error, camera) if error else None
    camera.stream_status_at = utcnow()
    db.session.commit()
    return True


def mark_stream_disabled(camera_id: int) -> bool:
    """A stream camera the gateway no longer pulls: shown ``disabled`` if it still exists and is
    disabled (a status its puller wrote after it was disabled is overwritten). False otherwise."""
    camera = db.session.get(Camera, camera_id)
    if camera is None or camera.enabled or camera.kind != "stream":
        return False
    return set_stream_status(camera_id, "disabled")


def stream_status_of(camera: Camera) -> dict | None:
    """{status, error, updated_at} of a stream camera; None for a browser camera."""
    if camera.kind != "stream":
        return None
    status = camera.stream_status or ("connecting" if camera.enabled else "disabled")
    return {"status": status, "error": camera.stream_error, "updated_at": camera.stream_status_at}


def rotate_token(camera: Camera, actor_id: int | None = None) -> str:
    """A new token; the old one stops at once (connected captures are dropped by the caller)."""
    token = new_token("cam")
    camera.token_hash = token_hash(token)
    camera.token_rotated_at = utcnow()
    db.session.commit()
    audit.record(camera.tenant_id, actor_id, "camera.link_renewed", "camera", camera.id, name=camera.name)
    revoke("camera_token_rotated", camera_id=camera.id)
    return token


def delete_camera(camera: Camera, actor_id: int | None = None) -> None:
    """Delete a camera and its data (audit logged)."""
    audit.record(camera.tenant_id, actor_id, "camera.deleted", "camera", camera.id, commit=False, name=camera.name)
    camera_id = camera.id
    db.session.delete(camera)
    db.session.commit()
    revoke("camera_deleted", camera_id=camera_id)


def camera_of_capture(camera_id: int, token_hash: str | None) -> Camera | None:
    """The camera an open capture connection feeds, while the token it connected with holds."""
    camera = db.session.get(Camera, camera_id)
    return camera if camera is not None and camera.token_hash == token_hash else None


def camera_for_token(token: str) -> Camera | None:
    """The camera of a capture token (any kind: the edge agent may feed a stream camera too)."""
    if not isinstance(token, str) or not token.startswith("cam_") or len(token) > 100:
        return None
    return db.session.scalar(select(Camera).where(Camera.token_hash == token_hash(token)))
