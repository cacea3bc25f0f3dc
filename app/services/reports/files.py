"""Report files to download: their bytes, type and name."""

from __future__ import annotations

import re
import unicodedata


def report_filename(report: dict, fmt: str) -> str:
    """``emotiscan-<scope>-<from>_<to>.<fmt>``, ASCII only (safe in a Content-Disposition header)."""
    # Accents dropped, not the letters they sit on: "École Jean-Jaurès" is ecole-jean-jaures.
    plain = unicodedata.normalize("NFKD", report["scope"]["name"]).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower()[:40] or report["scope"]["kind"]
    return f"emotiscan-{name}-{report['period']['from']}_{report['period']['to']}.{fmt}"


def report_file(report: dict, fmt: str) -> tuple[bytes | str, str, str]:
    """(body, MIME type, file name) of a report as CSV or PDF."""
    if fmt == "csv":
        from app.reporting.csv_export import report_csv

        return report_csv(report), "text/csv", report_filename(report, fmt)
    from app.services.reports.pdf import render_pdf

    return render_pdf(report), "application/pdf", report_filename(report, fmt)


def attachment(name: str) -> dict[str, str]:
    """The header that makes a browser save the response as ``name`` (ASCII only)."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}
