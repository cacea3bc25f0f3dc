"""Emotion reports: JSON, CSV or PDF, built synchronously from the stored numbers."""

from __future__ import annotations

from flask import Response

from app.api import bp
from app.api import schemas as s
from app.api.contract import operation
from app.api.validation import params
from app.services import reports
from app.services.reports.files import attachment, report_file
from app.tenancy import check_role


@bp.get("/reports/emotions")
@operation(
    "Emotion report of the tenant, a site or a camera: JSON, CSV or PDF (manager, admin)",
    query=s.ReportQuery,
    returns=s.Report,
    errors=(403, 404),
    media=("text/csv", "application/pdf"),
)
def emotions_report():
    user = check_role("admin", "manager", "staff")  # 401 without credentials
    args = params()
    scope = reports.request_scope(user, args.get("site_id"), args.get("camera_id"))  # 404 before 403
    check_role("admin", "manager")
    report = reports.build_report(scope, reports.request_period(scope, args.get("from"), args.get("to")))
    fmt = args.get("format", "json")
    if fmt == "json":
        return report
    body, mimetype, name = report_file(report, fmt)
    return Response(body, mimetype=mimetype, headers=attachment(name))
