"""Revocation of open connections: the one call that services make after a change of access.

A service that deletes or changes a user, revokes a token, ends sessions, erases a tenant, or
deletes or moves a site or camera calls :func:`revoke` after its commit. Every web process then
closes its matching ``/live`` and ``/capture`` sockets at once (the clients reconnect and are
authorised afresh, or refused). A change of what intake caches per connection (a camera's state,
a site's declared purpose, a tenant's outside-EU flag) is announced the same way: the matching
intake sessions re-read it on their next frame. In the distributed mode the message goes through Redis pub/sub
to every web process; in the embedded mode it is applied in this process.

This module sits below services and knows nothing of Socket.IO: the realtime package registers
the handler that closes sockets (:func:`on_revocation`), so that data flows one way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)

CHANNEL = "revocations"


@dataclass(frozen=True)
class Revocation:
    """Which connections to close: any socket that matches one of the given keys."""

    reason: str
    tenant_id: int | None = None
    user_id: int | None = None
    token_id: int | None = None
    site_id: int | None = None
    camera_id: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Revocation:
        data = json.loads(raw)
        keys = ("tenant_id", "user_id", "token_id", "site_id", "camera_id")
        return cls(reason=str(data.get("reason", "")), **{k: data.get(k) for k in keys if isinstance(data.get(k), int)})


_handler: Callable[[Revocation], None] | None = None
_publisher: Callable[[Revocation], None] | None = None


def on_revocation(handler: Callable[[Revocation], None]) -> None:
    """What this process does with a revocation (the realtime package closes sockets); one app
    per process, so a later app's handler replaces an earlier one."""
    global _handler
    _handler = handler


def set_publisher(publisher: Callable[[Revocation], None] | None) -> None:
    """Where revocations go: Redis pub/sub in the distributed mode; None applies them here."""
    global _publisher
    _publisher = publisher


def apply_locally(revocation: Revocation) -> None:
    if _handler is None:
        return  # no socket server in this process (CLI, a worker without sockets)
    try:
        _handler(revocation)
    except Exception:  # noqa: BLE001 - the caller's change is committed; a failed close is logged
        log.exception("revocation handler failed")


def revoke(
    reason: str,
    *,
    tenant_id: int | None = None,
    user_id: int | None = None,
    token_id: int | None = None,
    site_id: int | None = None,
    camera_id: int | None = None,
) -> None:
    """Close every open connection of this tenant, user, token, site or camera, in every process."""
    revocation = Revocation(reason, tenant_id, user_id, token_id, site_id, camera_id)
    publisher = _publisher
    if publisher is None:
        apply_locally(revocation)
        return
    try:
        publisher(revocation)
    except Exception:  # noqa: BLE001 - Redis down: at least this process's sockets close
        log.warning("revocation not published; applied in this process only", exc_info=True)
        apply_locally(revocation)
