"""The PDF of a report: organisation, scope, period, generation time, charts and tables, in the
language of the current locale. Charts are drawn in memory (matplotlib, Agg) and never written
to disk; the font is DejaVu Sans from matplotlib's own files, so French prints correctly."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from app.inference.labels import EMOTION_COLOURS, EMOTIONS
from app.labels import CAVEAT, EMOTION_LABELS, SEVERITY_LABELS


def font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _figure_png(draw) -> io.BytesIO:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 2.8), dpi=130)
    ax = fig.add_subplot()
    draw(ax)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    buf.seek(0)
    return buf


def _hourly_chart(report: dict) -> io.BytesIO:
    rows = [r for r in report["hourly"] if r["scores"]]
    xs = [datetime.fromisoformat(r["hour"]).replace(tzinfo=None) for r in rows]

    def draw(ax):
        for emotion in EMOTIONS:
            ax.plot(
                xs,
                [r["scores"][emotion] for r in rows],
                label=str(EMOTION_LABELS[emotion]),
                color=EMOTION_COLOURS[emotion],
                linewidth=1,
            )
        ax.set_ylabel(_("Mean score"))
        ax.set_ylim(0, 1)
        ax.legend(fontsize=6, ncol=7, loc="upper center")
        ax.tick_params(labelsize=6)
        if not rows:
            ax.text(0.5, 0.5, _("No data in this period"), ha="center", transform=ax.transAxes)

    return _figure_png(draw)


def _heatmap_chart(report: dict) -> io.BytesIO:
    import numpy as np

    grid = np.zeros((7, 24))
    for cell in report["heatmap"]:
        grid[cell["weekday"], cell["hour"]] = cell["faces"]

    def draw(ax):
        image = ax.imshow(grid, aspect="auto", cmap="Blues")
        ax.set_yticks(range(7), [format_date(datetime(2024, 1, 1 + d), "EEE") for d in range(7)], fontsize=6)
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}h" for h in range(0, 24, 2)], fontsize=6)
        ax.set_title(_("Faces counted by weekday and hour (local time)"), fontsize=8)
        ax.figure.colorbar(image, ax=ax)

    return _figure_png(draw)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def _pair(label: str, value) -> str:
    """ "Label: value", with the space French puts before a colon."""
    return _("%(label)s: %(value)s", label=label, value=value)


def render_pdf(report: dict) -> bytes:
    """The report's PDF (A4)."""
    from fpdf import FPDF

    zone = ZoneInfo((report["period"]["time_zones"] or ["UTC"])[0])
    generated = datetime.fromisoformat(report["generated_at"].replace("Z", "+00:00")).astimezone(zone)
    pdf = FPDF(format="A4")
    pdf.set_title(_("Emotion report"))
    pdf.set_author("EmotiScan")
    fonts = font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: int = 10, bold: bool = False, height: float = 6) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(width, height, text, new_x="LMARGIN", new_y="NEXT")

    def table(headers: list[str], rows: list[list[str]], widths: list[float]) -> None:
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=5) as t:
            head = t.row()
            for h in headers:
                head.cell(h)
            for row in rows:
                r = t.row()
                for value in row:
                    r.cell(str(value))
        pdf.ln(3)

    scope, period, totals = report["scope"], report["period"], report["totals"]
    start, end = (datetime.fromisoformat(period[k]) for k in ("from", "to"))
    line(_("Emotion report"), 16, bold=True, height=9)
    line(_pair(_("Organisation"), scope["organisation"]))
    line(_pair(_("Scope"), scope["name"]))
    line(_pair(_("Period"), f"{format_date(start, 'long')} – {format_date(end, 'long')} ({', '.join(period['time_zones'])})"))
    line(_pair(_("Generated"), format_datetime(generated, "long", tzinfo=zone, locale=get_locale())))
    pdf.ln(2)
    line(
        f"{_pair(_('Observations'), totals['observations'])}    {_pair(_('Faces counted'), totals['faces'])}    "
        f"{_pair(_('Alerts'), report['alerts']['total'])}",
        bold=True,
    )
    if totals["dominant_emotion"]:
        line(_pair(_("Dominant expression"), EMOTION_LABELS[totals["dominant_emotion"]]))
    pdf.ln(2)

    line(_("Share of each expression by hour"), 12, bold=True)
    pdf.image(_hourly_chart(report), w=width)
    line(_("When faces are seen"), 12, bold=True)
    pdf.image(_heatmap_chart(report), w=width)

    line(_("Sites"), 12, bold=True)
    score_head = [str(EMOTION_LABELS[e]) for e in EMOTIONS]
    table(
        [_("Site"), _("Observations"), _("Dominant"), *score_head],
        [
            [
                s["name"],
                s["observations"],
                EMOTION_LABELS[s["dominant_emotion"]] if s["dominant_emotion"] else "—",
                *((f"{s['scores'][e]:.2f}" if s["scores"] else "—") for e in EMOTIONS),
            ]
            for s in report["sites"]
        ]
        or [[_("No data in this period"), "", "", *[""] * len(EMOTIONS)]],
        [30, 18, 20, *[14] * len(EMOTIONS)],
    )

    line(_("Alerts"), 12, bold=True)
    ack = report["alerts"]["time_to_ack"]
    line(
        "    ".join(
            (
                _pair(_("Acknowledged"), ack["acknowledged"]),
                _pair(_("Median time to acknowledge"), _duration(ack["median_s"])),
                _pair(_("90th percentile"), _duration(ack["p90_s"])),
            )
        )
    )
    rule_rows = [
        [
            r["name"] or EMOTION_LABELS.get(r["emotion"], r["emotion"]),
            EMOTION_LABELS.get(r["emotion"], r["emotion"]),
            SEVERITY_LABELS.get(r["severity"], r["severity"]),
            r["count"],
        ]
        for r in report["alerts"]["by_rule"]
    ]
    table(
        [_("Rule"), _("Expression"), _("Severity"), _("Alerts")],
        rule_rows or [[_("No alert in this period"), "", "", ""]],
        [60, 60, 35, 25],
    )

    line(_("Data coverage"), 12, bold=True)
    table(
        [_("Camera"), _("Time sending"), _("Share of the period")],
        [[c["camera"], _duration(c["seconds_sending"]), f"{c['share'] * 100:.1f} %"] for c in report["coverage"]]
        or [[_("No camera"), "", ""]],
        [80, 50, 50],
    )
    pdf.ln(2)
    line(str(CAVEAT), 8)
    return bytes(pdf.output())
