"""baseline: the camera's window mean exceeds its usual level for this weekday and hour by
``threshold``. The usual level is learnt from the 15-minute rollups of at least ``min_weeks``
past weeks (the caller puts it in the rule's context); without enough history the rule is silent."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.numformat import number
from app.rules import engine
from app.rules.kinds import register
from app.rules.kinds.base import Kind, Param, emotion_words, points
from app.rules.kinds.rise import Rise, _mean
from app.rules.registry import RULE_TYPES

SLOT_S = 900  # the rollups' 15-minute slots
HISTORY_WEEKS = 12  # how far back the usual levels are learnt


def learn_levels(rows: list[tuple[int, int, float]], timezone: str, min_weeks: int) -> dict[str, float]:
    """ "weekday:hour" (site time) -> usual mean score, from rollup rows (slot, classified faces,
    score sum of the rule's expression); an hour seen in fewer than ``min_weeks`` distinct weeks
    has no level."""
    zone = ZoneInfo(timezone)
    weeks: dict[str, dict[tuple[int, int], list[float]]] = {}
    for slot, classified, total in rows:
        if not classified:
            continue
        local = datetime.fromtimestamp(slot * SLOT_S, zone)
        key = f"{local.weekday()}:{local.hour}"
        week = local.isocalendar()[:2]
        sums = weeks.setdefault(key, {}).setdefault(week, [0.0, 0])
        sums[0] += total
        sums[1] += classified
    return {
        key: round(sum(s / n for s, n in by_week.values()) / len(by_week), 4)
        for key, by_week in weeks.items()
        if len(by_week) >= min_weeks
    }


def level_at(rule, now: float) -> float | None:
    local = datetime.fromtimestamp(now, ZoneInfo(rule.timezone))
    return (rule.context.get("levels") or {}).get(f"{local.weekday()}:{local.hour}")


class Baseline(Kind):
    name = "baseline"
    position = 4
    label = _l("Unusual for the hour")
    help = _l(
        "Fires when the camera's mean exceeds its usual level for this weekday and hour by the score given above. "
        "Silent until enough past weeks are recorded."
    )
    threshold_label = _l("Above the usual level by at least (0 to 1)")
    params = (
        Param(
            "min_weeks",
            1,
            52,
            3,
            integer=True,
            label=_l("Past weeks of history needed before it fires"),
            doc="past weeks of history needed",
        ),
    )
    context_ttl_s = SLOT_S  # usual levels change by the week: learnt again at most every rollup slot, not per frame

    def context(self, rule, history, now: float) -> dict:
        """The usual levels ("weekday:hour" -> mean score) from the camera's rollups of past weeks:
        the same weekday and hour is at least 7 days ago, so today is left out."""
        since = int(now - HISTORY_WEEKS * 7 * 86400) // SLOT_S
        this_week = int(now - 86400) // SLOT_S
        rows = history.rollups(RULE_TYPES[rule.emotion], since, this_week)
        min_weeks = int((getattr(rule, "params", None) or {}).get("min_weeks", self.params[0].default))
        return {"levels": learn_levels([tuple(r) for r in rows], history.timezone, min_weeks)}

    sample = Rise.sample

    def describe(self, rule) -> str:
        return gettext(
            "%(emotion)s: %(threshold)s above its usual level for the weekday and hour, over %(seconds)d s "
            "(once %(weeks)d past weeks are recorded)",
            emotion=emotion_words(rule.emotion),
            threshold=number(rule.threshold),
            seconds=rule.duration_s,
            weeks=(rule.params or {}).get("min_weeks", self.params[0].default),
        )

    def explain(self, details: dict | None) -> str:
        if not details or details.get("usual_level") is None:
            return ""
        return gettext(
            "%(excess)d points above its usual %(level)d %%",
            excess=points(details["excess"]),
            level=points(details["usual_level"]),
        )

    def alert_text(self, emotion: str, value: float, details: dict | None) -> str:
        return gettext(
            "%(emotion)s at %(value)d %%, above its usual level for this hour (%(change)s)",
            emotion=emotion,
            value=round(value * 100),
            change=self.explain(details) or "?",
        )

    def decide(self, rule, state, samples: list, now: float) -> tuple:
        window, covered = engine.window_of(rule, samples, now)
        mean, level = _mean(window), level_at(rule, now)
        excess = mean - level if covered and mean is not None and level is not None else None
        if state.open_since is None:
            if excess is not None and excess >= rule.threshold and engine.may_open(rule, state, now):
                return engine.opened(state, rule, now, round(mean, 4), {"usual_level": level, "excess": round(excess, 4)})
        elif excess is None or excess < rule.threshold / 2 or not rule.active_at(now):
            return engine.closed(state, rule, now)
        return state, []


register(Baseline())
