"""Random tokens and their stored form."""

import hashlib
import secrets


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """SHA-256 hex: tokens have 256 bits of entropy, so a fast hash is the right storage."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
