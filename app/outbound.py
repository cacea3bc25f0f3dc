"""Outbound HTTP requests to URLs that tenants choose (webhooks, later stream-camera sources).

A tenant's URL must not reach the platform's own network (loopback, private ranges, cloud metadata
at 169.254.169.254...). Two checks enforce it:

* ``check_url`` when the URL is saved: a clear refusal for the tenant;
* ``post`` at connect time: the connection resolves the host, checks every address, connects to
  one of those checked addresses (never resolving again, so DNS rebinding cannot swap it), then
  checks the peer the socket is actually connected to. TLS still verifies the URL's hostname.

Outcomes are a few fixed categories: a closed port, a silent one and a missing host all read
``unreachable``, so that the delivery log cannot be used to scan ports.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
import requests
from flask import current_app, has_app_context
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection
from urllib3.util.ssl_match_hostname import CertificateError

from app.services.errors import ServiceError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

OK, HTTP_ERROR, BLOCKED_ADDRESS, UNREACHABLE, TLS_ERROR = "ok", "http_error", "blocked_address", "unreachable", "tls_error"
CATEGORIES = (OK, HTTP_ERROR, BLOCKED_ADDRESS, UNREACHABLE, TLS_ERROR)

# Ranges refused explicitly, though `ipaddress` flags most of them, since its flags changed across
# Python releases (3.11.10, 3.12.4) for several of them.
_REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class BlockedAddress(Exception):  # noqa: N818 - reads as the outcome it stands for
    """The host resolved, or the socket connected, to an address that is not allowed.

    Not an OSError nor a urllib3 error, so that urllib3 and requests let it through unwrapped."""


@dataclass(frozen=True)
class Outcome:
    """What a tenant may see of a request: a category of CATEGORIES, and the HTTP status if any."""

    category: str
    status_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.category == OK


def allowed_networks() -> tuple[IPNetwork, ...]:
    """OUTBOUND_ALLOW_NETWORKS, read at each call (on-premises receivers on a private network)."""
    value = current_app.config.get("OUTBOUND_ALLOW_NETWORKS") if has_app_context() else None
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    try:
        return tuple(ipaddress.ip_network(str(item).strip(), strict=False) for item in items if str(item).strip())
    except ValueError as exc:
        raise ValueError(f"OUTBOUND_ALLOW_NETWORKS: {exc}") from None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 form carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo:
        found.extend(ip.teredo)
    if int(ip) >> 32 == 0 and int(ip) > 1 or ip in _NAT64:  # ::a.b.c.d (deprecated) and 64:ff9b::a.b.c.d
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_allowed(address: str | IPAddress, allow: Iterable[IPNetwork] = ()) -> bool:
    """True for a public unicast address, or one inside an operator's allowed network."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return False
    if ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
        return False  # never a receiver, whatever the operator allows
    if any(ip.version == net.version and ip in net for net in allow):
        return True
    if ip.version == 6 and any(not address_allowed(v4, allow) for v4 in _embedded_ipv4(ip)):
        return False
    if any(ip.version == net.version and ip in net for net in _REFUSED_NETWORKS):
        return False
    site_local = ip.version == 6 and ip.is_site_local
    return ip.is_global and not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or site_local)


def _refuse(message: str) -> ServiceError:
    return ServiceError("url_not_allowed", message, status=400, fields={"url": "not_allowed"})


def _parse(url: str) -> tuple[str, int]:
    """Static checks of the URL (no resolution): its host in ASCII and its port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise _refuse("The URL is not valid.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _refuse("The URL must start with http:// or https://.")
    if "@" in parts.netloc:
        raise _refuse("The URL must not contain a user name or password.")
    host = parts.hostname or ""
    if not host:
        raise _refuse("The URL has no host.")
    if port == 0:  # urlsplit reads ":0" as a port; nothing listens there
        raise _refuse("The URL's port is not valid.")
    port = port or (443 if scheme == "https" else 80)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if not address_allowed(ip, allowed_networks()):
            raise _refuse("The URL's address is not allowed: it must be a public internet address.")
        return host, port
    if ":" in host or "%" in host:
        raise _refuse("The URL's host is not valid.")
    try:
        ascii_host = host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise _refuse("The URL's host is not valid.") from None
    labels = ascii_host.lower().rstrip(".").split(".")
    # 2130706433, 0x7f.1, 017700000001, 127.1: IPv4 in forms that resolvers accept; only a.b.c.d is.
    if _NUMERIC_LABEL.match(labels[-1]) or _is_inet_aton(ascii_host):
        raise _refuse("Write an IP address in its usual form (a.b.c.d).")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise _refuse("The URL's host is not valid.")
    if labels[-1] == "localhost":
        raise _refuse("The URL's address is not allowed: it must be a public internet address.")
    return ascii_host, port


def _is_inet_aton(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except (OSError, ValueError):  # ValueError: a NUL in the host
        return False
    return True


def _resolve(host: str, port: int) -> list[str]:
    """Every address of the host, each one checked: one refused address refuses the host."""
    infos = socket.getaddrinfo(host, port, urllib3_connection.allowed_gai_family(), socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    allow = allowed_networks()
    if not addresses or not all(address_allowed(a, allow) for a in addresses):
        raise BlockedAddress(host)
    return addresses


def check_url(url: str) -> str:
    """The URL, stripped, when it may be called; else a ServiceError ``url_not_allowed`` (400)."""
    host, port = _parse(url)
    try:
        _resolve(host, port)
    except (OSError, UnicodeError, BlockedAddress):
        # One message for both: a tenant must not learn which internal names exist.
        raise _refuse(
            "The URL's host does not resolve, or resolves to an address that is not allowed "
            "(it must be a public internet address)."
        ) from None
    return url.strip()


class _CheckedConnectionMixin:
    """urllib3 connection that resolves, checks, connects to a checked address, then checks the peer."""

    def _new_conn(self) -> socket.socket:
        try:
            addresses = _resolve(self._dns_host.strip("[]"), self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        error: OSError | None = None
        for address in addresses:
            try:  # an address literal: getaddrinfo does not query DNS again
                sock = urllib3_connection.create_connection(
                    (address, self.port), self.timeout, source_address=self.source_address, socket_options=self.socket_options
                )
            except OSError as exc:
                error = exc
                continue
            try:
                peer = sock.getpeername()[0]
            except OSError as exc:
                sock.close()
                error = exc
                continue
            if not address_allowed(peer, allowed_networks()):
                sock.close()
                raise BlockedAddress(peer)
            return sock
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from error
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


class _CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass  # TLS wraps the checked socket with the URL's hostname (SNI and certificate check)


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        # A new dict: urllib3's default one is shared by every PoolManager of the process.
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def _certificate_failure(exc: BaseException) -> bool:
    """True when a TLS server answered with a certificate that failed verification: a TLS
    handshake refused by something that is not a TLS server is only ``unreachable``."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLCertVerificationError | CertificateError):
            return True
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return False


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Outcome:
    """POST ``body`` to a tenant's URL, redirects not followed; the outcome as a category."""
    try:
        _parse(url)
    except ServiceError:
        return Outcome(BLOCKED_ADDRESS)
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment: the checks apply to the receiver itself
            adapter = _CheckedAdapter()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            response = session.post(
                url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False, stream=True
            )  # the body is not read: a receiver cannot send us gigabytes
            response.close()
    except BlockedAddress:
        return Outcome(BLOCKED_ADDRESS)
    except requests.exceptions.SSLError as exc:
        log.info("outbound request failed: %r", exc)  # for operators; tenants see the category only
        return Outcome(TLS_ERROR if _certificate_failure(exc) else UNREACHABLE)
    except (requests.RequestException, OSError, ValueError) as exc:
        log.info("outbound request failed: %r", exc)
        return Outcome(UNREACHABLE)
    status = response.status_code
    return Outcome(OK if 200 <= status < 300 else HTTP_ERROR, status)
