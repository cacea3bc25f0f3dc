"""Thin views over app.services.reports and app.services.reports.schedules."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time, get_day_names
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from app.admin.forms import ConfirmForm
from app.inference.labels import EMOTIONS
from app.infra.ids import parse_id
from app.infra.pagination import paginate
from app.labels import EMOTION_LABELS
from app.models import GeneratedReport, ReportSchedule
from app.reporting.periods import PRESETS, local_today, preset_period
from app.reports import bp
from app.reports.forms import FREQUENCY_CHOICES, PERIOD_CHOICES, ScheduleForm
from app.services import listings, reports
from app.services.errors import ServiceError
from app.services.reports import schedules as report_schedules
from app.services.reports.files import attachment, report_file
from app.tenancy import check_role, current_actor, get_for_tenant
from app.timefmt import as_moment

HISTORY_PAGE = 20


@bp.before_request
def _managers_only():
    if current_actor() is None:
        return redirect(url_for("auth.login", next=request.full_path))
    check_role("admin", "manager")


def _scope_choices() -> list[tuple[str, str]]:
    """ "tenant", "site:<id>" and "camera:<id>" values for the scopes the user may read."""
    user = current_actor()
    sites = listings.sites_by_name()
    cameras = listings.cameras_by_name()
    choices = [("tenant", gettext("All my sites") if user.role != "admin" and not user.all_sites else user.tenant.name)]
    for site in sites:
        choices.append((f"site:{site.id}", site.name))
        choices += [(f"camera:{c.id}", f"{site.name} / {c.name}") for c in cameras if c.site_id == site.id]
    return choices


def _parse_scope(value: str) -> tuple[int | None, int | None]:
    kind, _, raw = (value or "tenant").partition(":")
    object_id = parse_id(raw)
    if kind not in ("tenant", "site", "camera") or kind != "tenant" and object_id is None:
        abort(404)
    return (object_id, None) if kind == "site" else (None, object_id) if kind == "camera" else (None, None)


def _requested() -> tuple[reports.Scope, object, dict]:
    """Scope and period from the query string (the form on the page)."""
    args = request.args
    site_id, camera_id = _parse_scope(args.get("scope", "tenant"))
    scope = reports.request_scope(current_actor(), site_id, camera_id)
    preset = args.get("period", "last_7_days")
    if preset in PRESETS:
        from zoneinfo import ZoneInfo

        period = preset_period(preset, local_today(ZoneInfo(reports.scope_time_zone(scope))))
    else:
        period = reports.request_period(scope, args.get("from"), args.get("to"))
        preset = "custom"
    form = {
        "scope": args.get("scope", "tenant"),
        "period": preset,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
    }
    return scope, period, form


def _period_message(exc: ServiceError) -> str:
    """The service's (English) refusal of the dates, in the page's language."""
    from app.reporting.periods import MAX_DAYS

    messages = {
        "format": lambda: gettext("Dates are written YYYY-MM-DD."),
        "range": lambda: gettext("Dates must lie between 2000 and 2100."),
        "order": lambda: gettext("The start date is after the end date."),
        "too_long": lambda: gettext("A report covers at most %(n)d days.", n=MAX_DAYS),
    }
    message = messages.get(getattr(exc.__cause__, "reason", ""))
    return message() if message else exc.message


def _requested_report() -> tuple[dict, dict] | None:
    """The report the query string asks for and the form's values; None (with a message) when
    the dates are not valid."""
    try:
        scope, period, form = _requested()
    except ServiceError as exc:
        flash(_period_message(exc), "error")
        return None
    return reports.build_report(scope, period), form


@bp.get("/")
def index():
    requested = _requested_report()
    if requested is None:
        return redirect(url_for("reports.index"))
    report, form = requested
    return render_template(
        "reports/index.html",
        report=report,
        form=form,
        scopes=_scope_choices(),
        periods=PERIOD_CHOICES,
        query=form,
        **page_figures(report),
    )


def hour_label(hour: str) -> str:
    """An hour of the report (ISO, with its site's offset) as the page's language writes it, on that
    site's clock: "7 déc. 07:00" in French, "Dec 7 07:00" in English."""
    moment = datetime.fromisoformat(hour)
    day = format_skeleton("MMMd", moment, tzinfo=moment.tzinfo, locale=get_locale())
    return f"{day} {format_time(moment, 'HH:mm', tzinfo=moment.tzinfo, locale=get_locale())}"


def page_figures(report: dict) -> dict:
    """What the page needs beyond the report: chart data, heatmap cells and their shade."""
    heatmap = {(c["weekday"], c["hour"]): c for c in report["heatmap"]}
    peak = max((c["faces"] for c in report["heatmap"]), default=0)
    chart = {
        "labels": [hour_label(row["hour"]) for row in report["hourly"]],
        "series": [
            {
                "key": e,
                "label": str(EMOTION_LABELS[e]),
                "values": [row["scores"][e] if row["scores"] else None for row in report["hourly"]],
            }
            for e in EMOTIONS
        ],
    }
    # One offset for the whole period goes in the column's heading; a period across a change of
    # clocks (or sites in several zones) keeps it on each row.
    offsets = {row["hour"][19:] for row in report["hourly"]}
    return {
        "chart": chart,
        "hour_offset": next(iter(offsets)) if len(offsets) == 1 else None,
        "heatmap": heatmap,
        "emotions": EMOTIONS,
        "hour_label": hour_label,
        "heat_level": lambda cell: min(9, int(10 * cell["faces"] / peak)) if cell and peak else 0,
        "weekdays": [get_day_names("abbreviated", locale=get_locale())[d] for d in range(7)],
        "from_date": date.fromisoformat(report["period"]["from"]),
        "to_date": date.fromisoformat(report["period"]["to"]),
        # Shown in the (first) site's zone, labelled with it, as the PDF does.
        "generated_at": as_moment(report["generated_at"]).astimezone(ZoneInfo((report["period"]["time_zones"] or ["UTC"])[0])),
    }


@bp.get("/download.<fmt>")
def download(fmt: str):
    if fmt not in ("csv", "pdf"):
        abort(404)
    requested = _requested_report()
    if requested is None:
        return redirect(url_for("reports.index"))
    body, mimetype, name = report_file(requested[0], fmt)
    return Response(body, mimetype=mimetype, headers=attachment(name))


def _schedule_form() -> ScheduleForm:
    form = ScheduleForm()
    form.scope.choices = _scope_choices()
    people = listings.report_recipients()
    form.recipients.choices = [(u.id, u.email) for u in people]
    return form


@bp.route("/schedules", methods=["GET", "POST"])
def schedules():
    user = current_actor()
    form = _schedule_form()
    if form.validate_on_submit():
        site_id, camera_id = _parse_scope(form.scope.data)
        scope = reports.request_scope(user, site_id, camera_id)
        schedule = report_schedules.create_schedule(
            user.tenant_id, user.id, form.frequency.data, form.language.data, form.recipients.data, scope.site_id, scope.camera_id
        )
        # The last complete period is made at once, so the first report is there without waiting.
        report_schedules.run_schedule(schedule)
        flash(gettext("Schedule added. The report of the last complete period is ready below."), "success")
        return redirect(url_for("reports.schedules"))
    items = listings.report_schedules()
    labels = dict(_scope_choices())
    people = dict(form.recipients.choices)
    history, cursor = paginate(
        listings.generated_reports(),
        GeneratedReport.id,
        request.args.get("cursor"),
        HISTORY_PAGE,
        newest_first=True,
    )
    return render_template(
        "reports/schedules.html",
        form=form,
        schedules=items,
        labels=labels,
        people=people,
        history=history,
        next_cursor=cursor,
        confirm=ConfirmForm(),
        frequencies=dict(FREQUENCY_CHOICES),
    ), 400 if form.errors else 200


@bp.route("/schedules/<id:schedule_id>/delete", methods=["GET", "POST"])
def schedule_delete(schedule_id: int):
    schedule = get_for_tenant(ReportSchedule, schedule_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        report_schedules.delete_schedule(schedule, current_actor().id)
        flash(gettext("Schedule removed; its reports stay in the history."), "success")
        return redirect(url_for("reports.schedules"))
    return render_template(
        "admin/confirm.html",
        form=form,
        title=gettext("Remove this schedule?"),
        detail=gettext("No more reports will be made by it."),
        back=url_for("reports.schedules"),
    )


@bp.get("/files/<id:report_id>.<fmt>")
def stored_file(report_id: int, fmt: str):
    stored = get_for_tenant(GeneratedReport, report_id)
    if fmt not in ("csv", "pdf"):
        abort(404)
    body, mimetype = (stored.pdf, "application/pdf") if fmt == "pdf" else (stored.csv, "text/csv")
    name = f"emotiscan-report-{stored.id}-{stored.period_from.isoformat()}_{stored.period_to.isoformat()}.{fmt}"
    return Response(body, mimetype=mimetype, headers=attachment(name))
