"""Emotion reports: JSON, CSV or PDF, built synchronously from the stored numbers."""

from __future__ import annotations

from flask import Response, request

from app.api import bp
from app.api.validation import query_int
from app.services import reports
from app.services.errors import ServiceError
from app.services.report_files import attachment, report_file
from app.tenancy import check_role

FORMATS = ("json", "csv", "pdf")


@bp.get("/reports/emotions")
def emotions_report():
    user = check_role("admin", "manager", "staff")  # 401 without credentials
    scope = reports.request_scope(user, query_int("site_id"), query_int("camera_id"))  # 404 before 403
    check_role("admin", "manager")
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        raise ServiceError("validation_error", "'format' must be one of json, csv, pdf.", fields={"format": "invalid"})
    report = reports.build_report(scope, reports.request_period(scope, request.args.get("from"), request.args.get("to")))
    if fmt == "json":
        return report
    body, mimetype, name = report_file(report, fmt)
    return Response(body, mimetype=mimetype, headers=attachment(name))
