"""The live room's curves before it opened: each camera's expressions over the last minutes, read
back from the stored observations (numbers only) in short buckets, so that a wall tablet that
reloads shows the recent trend at once instead of an empty chart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.inference.labels import EMOTION_COLUMNS, EMOTIONS
from app.models import Observation, User
from app.models.base import utcnow
from app.tenancy import scoped
from app.timefmt import as_moment, iso_utc

WINDOW_S = 300  # the live chart's span (live.js WINDOW_MS)
BUCKET_S = 5


def recent_trend(
    camera_ids: Sequence[int],
    now: datetime | None = None,
    window_s: int = WINDOW_S,
    bucket_s: int = BUCKET_S,
    user: User | None = None,
) -> dict[int, list[dict]]:
    """{camera id: [{t, scores}]}: the mean scores of the classified faces of each ``bucket_s``
    seconds of the last ``window_s``, oldest first; only cameras of the actor's tenant and sites."""
    if not camera_ids:
        return {}
    now = now or utcnow()
    columns = [getattr(Observation, c) for c in EMOTION_COLUMNS]
    stmt = (
        scoped(select(Observation.camera_id, Observation.ts, *columns), Observation, user)
        .where(
            Observation.camera_id.in_(list(camera_ids)),
            Observation.ts >= now - timedelta(seconds=window_s),
            Observation.ts <= now,
            columns[0].is_not(None),  # a frame without a classified face has no scores
        )
        .order_by(Observation.ts)
    )
    sums: dict[tuple[int, int], list[float]] = {}
    for camera_id, ts, *scores in db.session.execute(stmt):
        acc = sums.setdefault((camera_id, int(as_moment(ts).timestamp()) // bucket_s), [0.0] * (len(EMOTIONS) + 1))
        acc[0] += 1
        for i, value in enumerate(scores, start=1):
            acc[i] += value or 0.0
    trend: dict[int, list[dict]] = {camera_id: [] for camera_id in camera_ids}
    for (camera_id, bucket), acc in sorted(sums.items(), key=lambda item: item[0][1]):
        middle = datetime.fromtimestamp(bucket * bucket_s + bucket_s / 2, UTC)
        trend[camera_id].append(
            {"t": iso_utc(min(middle, now)), "scores": {e: round(acc[i + 1] / acc[0], 4) for i, e in enumerate(EMOTIONS)}}
        )
    return trend
