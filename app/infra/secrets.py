"""Random tokens and their stored form; secrets the app must read back, encrypted at rest.

Tokens the app only compares are stored hashed. Secrets it must use again (webhook signing
secrets, later camera stream credentials) are encrypted with Fernet (AES-128-CBC + HMAC-SHA256)
under DATA_KEYS: the first key encrypts, every key decrypts, so keys rotate by putting a new one
first. Without DATA_KEYS, a key derived from SECRET_KEY is used; it stays a decryption key after
DATA_KEYS is set, so that values written before still read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_FERNET_VERSION = 0x80
_FERNET_MIN_BYTES = 1 + 8 + 16 + 16 + 32  # version, timestamp, IV, one AES block, HMAC


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """SHA-256 hex: tokens have 256 bits of entropy, so a fast hash is the right storage."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@lru_cache(maxsize=8)
def derived_key(secret_key: str) -> str:
    """A Fernet key from SECRET_KEY (HKDF-SHA256, its own label: not the key that signs sessions)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"emotiscan data key v1").derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw).decode("ascii")


def data_keys() -> tuple[str, ...]:
    """DATA_KEYS of the app (a comma-separated string or a list), then the key from SECRET_KEY."""
    configured = current_app.config.get("DATA_KEYS") or ()
    if isinstance(configured, str):
        configured = configured.split(",")
    keys = tuple(k.strip() for k in configured if k.strip())
    fallback = derived_key(current_app.config["SECRET_KEY"])
    return keys + (fallback,) if fallback not in keys else keys


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def is_encrypted(stored: str) -> bool:
    """True for a Fernet token (values stored before encryption, such as 48-hex webhook secrets, are not)."""
    try:
        raw = base64.urlsafe_b64decode(stored.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return len(raw) >= _FERNET_MIN_BYTES and raw[0] == _FERNET_VERSION


def encrypt(plain: str) -> str:
    return _fernet(data_keys()).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    """The plain value; a value stored before encryption is returned as it is. A token that no
    key decrypts raises cryptography's InvalidToken: a lost key must not pass silently."""
    if not is_encrypted(stored):
        return stored
    return _fernet(data_keys()).decrypt(stored.encode("ascii")).decode("utf-8")


def reencrypt(stored: str) -> str:
    """The value encrypted under the first key (after a rotation, or for a value stored plain)."""
    if not is_encrypted(stored):
        return encrypt(stored)
    return _fernet(data_keys()).rotate(stored.encode("ascii")).decode("ascii")
