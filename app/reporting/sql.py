"""SQL expressions that mean the same on SQLite and PostgreSQL, so that every report figure is
one grouped query on either database (no Python loop over observation rows)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from app.inference.labels import EMOTION_COLUMNS


class epoch_bucket(FunctionElement):
    """Whole ``size``-second slots since 1970 (UTC) of a timestamp column: exact integer
    arithmetic on both databases, so that a value on a boundary falls in the same slot."""

    type = BigInteger()
    inherit_cache = True

    def __init__(self, column: ColumnElement, size: int):
        self.size = int(size)
        super().__init__(column)


@compiles(epoch_bucket, "postgresql")
def _bucket_pg(element, compiler, **kw):
    (column,) = list(element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(column, **kw)}) / {element.size}) AS BIGINT)"


@compiles(epoch_bucket, "sqlite")
def _bucket_sqlite(element, compiler, **kw):
    # Timestamps are stored as naive UTC text; strftime('%s') gives whole seconds.
    (column,) = list(element.clauses)
    return f"(CAST(strftime('%s', {compiler.process(column, **kw)}) AS INTEGER) / {element.size})"


class seconds_between(FunctionElement):
    """``later - earlier`` in seconds, as a float."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _between_pg(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def rollup_backfill_sql(dialect: str, where: str = "TRUE") -> str:
    """INSERT ... SELECT that builds observation_rollups from raw observations (used by the
    benchmark's seeding; migration 0008 holds its own frozen copy). Per-minute groups first, so
    that the slot's minute bitmask is a plain sum of distinct bits on both databases."""
    if dialect == "postgresql":
        epoch = "CAST(FLOOR(EXTRACT(EPOCH FROM ts)) AS BIGINT)"
    else:
        epoch = "CAST(strftime('%s', ts) AS INTEGER)"
    emotions = EMOTION_COLUMNS
    # Every score column is null exactly when the frame had no classified face: count the last.
    scored = EMOTION_COLUMNS[-1]
    inner_sums = ", ".join(f"SUM(COALESCE({e}, 0)) AS {e}" for e in emotions)
    outer_sums = ", ".join(f"SUM({e})" for e in emotions)
    return (
        f"INSERT INTO observation_rollups (camera_id, slot, tenant_id, site_id, observations, faces, classified, minutes, "
        f"{', '.join(emotions)}) "
        f"SELECT camera_id, slot, MIN(tenant_id), MIN(site_id), SUM(n), SUM(faces), SUM(classified), SUM(1 << minute), "
        f"{outer_sums} FROM ("
        f"SELECT camera_id, {epoch} / 900 AS slot, CAST(({epoch} / 60) % 15 AS INTEGER) AS minute, MIN(tenant_id) AS tenant_id, "
        f"MIN(site_id) AS site_id, COUNT(*) AS n, SUM(face_count) AS faces, COUNT({scored}) AS classified, {inner_sums} "
        f"FROM observations WHERE {where} GROUP BY 1, 2, 3) AS per_minute GROUP BY camera_id, slot"
    )
