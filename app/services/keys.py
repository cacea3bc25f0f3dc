"""Key rotation: every secret at rest (stream cameras' credentials, webhook signing secrets)
encrypted again under the first key of DATA_KEYS, so that an old key can leave DATA_KEYS.
``flask keys reencrypt`` (app/cli.py) runs it and prints what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from sqlalchemy import select, update

from app.extensions import db
from app.infra.secrets import reencrypt
from app.models import Camera, Webhook

BATCH = 500  # rows re-encrypted per commit


def encrypted_columns() -> tuple:
    """(label, model, column) of every secret stored encrypted under DATA_KEYS."""
    return (("stream credentials", Camera, Camera.credentials), ("webhook secrets", Webhook, Webhook.secret))


@dataclass
class Rotated:
    label: str
    done: int = 0
    unreadable: int = 0


def reencrypt_all(on_unreadable: Callable[[str, int, str], None] | None = None) -> list[Rotated]:
    """Each encrypted column re-encrypted under the first key; ``on_unreadable(table, row_id, label)``
    for a value no key of DATA_KEYS decrypts (left untouched). A row changed meanwhile is not
    overwritten: it is under the first key already."""
    results = []
    for label, model, column in encrypted_columns():
        result = Rotated(label)
        rows = db.session.execute(select(model.id, column).where(column.is_not(None), column != "").order_by(model.id)).all()
        for i, (row_id, stored) in enumerate(rows, 1):
            try:
                fresh = reencrypt(stored)
            except (InvalidToken, ValueError):
                result.unreadable += 1
                if on_unreadable is not None:
                    on_unreadable(model.__tablename__, row_id, label)
                continue
            written = db.session.execute(
                update(model)
                .where(model.id == row_id, column == stored)
                .values({column.key: fresh})
                .execution_options(synchronize_session=False)
            )
            result.done += written.rowcount
            if i % BATCH == 0:
                db.session.commit()
        db.session.commit()
        results.append(result)
    return results
