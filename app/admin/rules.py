"""Alert rule pages (admins edit; everyone in the tenant reads) and the alert history."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ConfirmForm
from app.admin.rule_forms import PRESETS, RuleForm, kind_help, kind_only_fields, rule_form_class, threshold_labels
from app.infra.ids import parse_id
from app.infra.pagination import paginate
from app.models import Alert, AlertRule, Camera, Site
from app.models.base import utcnow
from app.services import alerts, listings
from app.services.errors import ServiceError
from app.tenancy import check_role, get_for_tenant


def _targets() -> list[tuple[str, str]]:
    sites, cams = listings.sites_by_name(), listings.cameras_by_name()
    return [(f"site:{s.id}", gettext("Site: %(name)s (all its cameras)", name=s.name)) for s in sites] + [
        (f"camera:{c.id}", gettext("Camera: %(name)s (%(site)s)", name=c.name, site=c.site.name)) for c in cams
    ]


def _rule_form(rule: AlertRule | None = None) -> RuleForm:
    form = rule_form_class()(obj=rule)
    form.target.choices = _targets()
    if rule is not None and not form.is_submitted():
        form.target.data = f"camera:{rule.camera_id}" if rule.camera_id else f"site:{rule.site_id}"
        form.kind.data = rule.kind or "share"
        for name, value in alerts.kind_fields(rule).items():
            if name != "kind":
                getattr(form, name).data = value
    preset = PRESETS.get(request.args.get("preset", ""))
    if rule is None and preset and not form.is_submitted():
        for key, value in preset.items():
            getattr(form, key).data = value
    return form


def _form_data(form: RuleForm) -> tuple[dict, Site | None, Camera | None]:
    kind, _, target_id = form.target.data.partition(":")
    site = get_for_tenant(Site, target_id) if kind == "site" else None
    camera = get_for_tenant(Camera, target_id) if kind == "camera" else None
    data = {name: getattr(form, name).data for name in alerts.RULE_FIELDS}
    data["threshold"], data["min_share"] = float(data["threshold"]), float(data["min_share"])
    data["active_from"], data["active_to"] = data["active_from"] or None, data["active_to"] or None
    data["name"] = data["name"] or ""
    data["kind"] = form.kind.data
    for name in alerts.kind_field_names():
        value = getattr(form, name).data
        data[name] = float(value) if isinstance(value, Decimal) else value
    return data, site, camera


def _save(form: RuleForm, rule: AlertRule) -> AlertRule:
    data, site, camera = _form_data(form)
    return alerts.save_rule(rule, data, site, camera, current_user.id)


def _simulate(form: RuleForm) -> list[dict]:
    """The rule replayed on the last 4 hours of its cameras' observations, before saving."""
    data, site, camera = _form_data(form)
    rule = AlertRule(id=0, **{k: v for k, v in data.items() if k in alerts.RULE_FIELDS})
    alerts.apply_kind(rule, data)
    target_site = camera.site if camera is not None else site
    camera_ids = [camera.id] if camera is not None else [c.id for c in target_site.cameras]
    # Each moment carries the site's zone: the page shows it in that zone, labelled.
    return [
        dict(e, zone=target_site.timezone, explain=alerts.explain_details(rule.kind, e.get("details")))
        for e in alerts.simulate(rule, target_site.timezone, camera_ids, 4)
    ]


def _try(form: RuleForm) -> list[dict] | None:
    try:
        return _simulate(form)
    except ServiceError as exc:
        flash(exc.message, "error")
        return None


@bp.route("/rules", methods=["GET", "POST"])
def rules_list():
    user = check_role("admin", "manager", "staff")
    form = _rule_form()
    simulation = None
    if request.method == "POST":
        check_role("admin")
        if form.validate_on_submit() and form.simulate.data:
            simulation = _try(form)
        elif form.validate_on_submit():
            try:
                _save(form, AlertRule(tenant_id=user.tenant_id))
            except ServiceError as exc:
                flash(exc.message, "error")
            else:
                flash(gettext("Rule saved."), "success")
                return redirect(url_for("admin.rules_list"))
    rules = listings.alert_rules_by_id()
    return render_template(
        "admin/rules.html",
        rules=rules,
        descriptions={r.id: alerts.describe_rule(r) for r in rules},
        form=form,
        presets=PRESETS,
        simulation=simulation,
        targets=dict(_targets()),
        kind_help=kind_help(),
        kind_only=kind_only_fields(),
        threshold_labels=threshold_labels(),
    ), 400 if form.errors else 200


@bp.route("/rules/<id:rule_id>", methods=["GET", "POST"])
def rule_detail(rule_id: int):
    rule = get_for_tenant(AlertRule, rule_id)
    check_role("admin")
    form = _rule_form(rule)
    simulation = None
    if form.validate_on_submit() and form.simulate.data:
        simulation = _try(form)
    elif form.validate_on_submit():
        try:
            _save(form, rule)
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            flash(gettext("Rule saved."), "success")
            return redirect(url_for("admin.rules_list"))
    return render_template(
        "admin/rule_detail.html",
        rule=rule,
        form=form,
        simulation=simulation,
        kind_help=kind_help(),
        kind_only=kind_only_fields(),
        threshold_labels=threshold_labels(),
    )


@bp.route("/rules/<id:rule_id>/delete", methods=["GET", "POST"])
def rule_delete(rule_id: int):
    rule = get_for_tenant(AlertRule, rule_id)
    check_role("admin")
    form = ConfirmForm()
    if form.validate_on_submit():
        alerts.delete_rule(rule, current_user.id)
        flash(gettext("Rule deleted."), "success")
        return redirect(url_for("admin.rules_list"))
    title = gettext("Delete the rule “%(name)s”?", name=rule.name or rule.id)
    return render_template(
        "admin/confirm.html",
        form=form,
        title=title,
        detail=gettext("Its past alerts are deleted too."),
        back=url_for("admin.rules_list"),
    )


PERIODS = {"day": 1, "week": 7, "month": 31}


@bp.get("/alerts")
def alert_history():
    check_role("admin", "manager", "staff")
    filters = {k: request.args.get(k, "") for k in ("site_id", "camera_id", "rule_id", "status", "period")}
    ids = {k: parse_id(filters[k]) for k in ("site_id", "camera_id", "rule_id")}
    stmt = alerts.alerts_query(
        **ids,
        status=filters["status"] if filters["status"] in alerts.ALERT_STATUSES else None,
        since=utcnow() - timedelta(days=PERIODS[filters["period"]]) if filters["period"] in PERIODS else None,
    )
    items, cursor = paginate(stmt, Alert.id, request.args.get("cursor"), 50, newest_first=True)
    names = listings.alert_history_names()
    query = {k: v for k, v in filters.items() if v}
    return render_template(
        "admin/alert_history.html",
        alerts=items,
        next_cursor=cursor,
        sites=names["sites"],
        cameras=names["cameras"],
        rules=names["rules"],
        users=names["users"],
        filters=filters,
        query=query,
        now=datetime.now(),
    )
