"""The PDF of a report: organisation, scope, period, generation time, charts and tables, in the
language of the current locale. Charts are drawn in memory (matplotlib, Agg) and never written
to disk; the font is DejaVu Sans from matplotlib's own files, so French prints correctly."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from app.inference.labels import EMOTION_COLOURS, EMOTIONS
from app.labels import CAVEAT, EMOTION_LABELS, SEVERITY_LABELS
from app.numformat import number, percent
from app.timefmt import as_moment


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


def hourly_series(report: dict) -> tuple[list[datetime], dict[str, list[float]], tuple[datetime, datetime] | None]:
    """The chart's data: local wall-clock hours (the site's time zone), each expression's mean
    score, and the x range. A single hour gets a range of one hour around it, since an axis of
    one instant otherwise falls back to matplotlib's default span of years (2025-2029)."""

    rows = [r for r in report["hourly"] if r["scores"]]
    xs = [datetime.fromisoformat(r["hour"]).replace(tzinfo=None) for r in rows]
    values = {e: [r["scores"][e] for r in rows] for e in EMOTIONS}
    if not xs:
        return xs, values, None
    pad = timedelta(minutes=30)
    return xs, values, (min(xs) - pad, max(xs) + pad)


def _hourly_chart(report: dict, sink: dict | None = None) -> io.BytesIO:
    xs, values, span = hourly_series(report)

    def draw(ax):
        from matplotlib.dates import AutoDateLocator, DateFormatter

        # Markers so that one hour (or isolated hours between gaps) shows as points.
        marker = "o" if len(xs) <= 48 else None
        for emotion in EMOTIONS:
            ax.plot(
                xs,
                values[emotion],
                label=str(EMOTION_LABELS[emotion]),
                color=EMOTION_COLOURS[emotion],
                linewidth=1,
                marker=marker,
                markersize=3,
            )
        ax.set_ylabel(_("Mean score"))
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=6)
        ax.set_xlabel(_pair(_("Local time of each site"), ", ".join(report["period"]["time_zones"]) or "—"), fontsize=6)
        if span:
            ax.set_xlim(*span)
            locator = AutoDateLocator(minticks=2, maxticks=8)
            ax.xaxis.set_major_locator(locator)
            short = span[1] - span[0] <= timedelta(days=2)
            ax.xaxis.set_major_formatter(DateFormatter("%d/%m %H:%M" if short else "%d/%m"))
            ax.legend(fontsize=6, ncol=7, loc="upper center")
        else:
            ax.set_xticks([])
            ax.text(0.5, 0.5, _("No data in this period"), ha="center", transform=ax.transAxes)
        if sink is not None:
            sink["xlim"] = ax.get_xlim()
            sink["points"] = sum(len(line.get_xdata()) for line in ax.get_lines())

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


def people_by_hour(report: dict) -> list[tuple[datetime, int]]:
    """People seen per local wall-clock hour (each site's zone; sites' counts of one hour added),
    hours without anyone left out."""
    totals: dict[datetime, int] = defaultdict(int)
    for row in report.get("site_hourly", []):
        if row.get("people_seen"):
            totals[datetime.fromisoformat(row["hour"]).replace(tzinfo=None)] += row["people_seen"]
    return sorted(totals.items())


def _people_chart(report: dict) -> io.BytesIO:
    hours = people_by_hour(report)

    def draw(ax):
        from matplotlib.dates import AutoDateLocator, DateFormatter
        from matplotlib.ticker import MaxNLocator

        # Each bar spans its hour (width in days, matplotlib's date unit).
        ax.bar([h for h, _ in hours], [n for _, n in hours], width=0.8 / 24, align="edge", color="#3b6ea5")
        ax.set_ylabel(_("People seen"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=6)
        ax.set_xlabel(_pair(_("Local time of each site"), ", ".join(report["period"]["time_zones"]) or "—"), fontsize=6)
        first, last = hours[0][0], hours[-1][0] + timedelta(hours=1)
        ax.set_xlim(first - timedelta(minutes=30), last + timedelta(minutes=30))
        ax.xaxis.set_major_locator(AutoDateLocator(minticks=2, maxticks=8))
        ax.xaxis.set_major_formatter(DateFormatter("%d/%m %H:%M" if last - first <= timedelta(days=2) else "%d/%m"))

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


def render_pdf(report: dict, chart_data: dict | None = None) -> bytes:
    """The report's PDF (A4); ``chart_data``, if given, receives the hourly chart's x range and
    number of points drawn (for tests)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    zone = ZoneInfo((report["period"]["time_zones"] or ["UTC"])[0])
    generated = as_moment(report["generated_at"]).astimezone(zone)
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

    def heading(text: str, keep: float) -> None:
        """A section title kept with the first ``keep`` mm of what follows (never alone at a page's foot)."""
        if pdf.will_page_break(9 + keep):
            pdf.add_page()
        line(text, 12, bold=True)

    def table(headers: list[str], rows: list[list[str]], widths: list[float]) -> None:
        total = sum(widths)
        cols = [width * w / total for w in widths]
        # Headers wrap between words only: shrink the header font until each word fits its column.
        size = 8.0
        pdf.set_font("DejaVu", "B", size)
        while size > 5 and any(
            pdf.get_string_width(word) > col - 2 * pdf.c_margin - 0.5
            for h, col in zip(headers, cols, strict=True)
            for word in h.split()
        ):
            size -= 0.5
            pdf.set_font("DejaVu", "B", size)
        pdf.set_font("DejaVu", "", 8)
        head_style = FontFace(emphasis="BOLD", size_pt=size)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=5, headings_style=head_style) as t:
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
    days = format_date(start, "long") if end == start else f"{format_date(start, 'long')} – {format_date(end, 'long')}"
    line(_pair(_("Period"), f"{days} ({', '.join(period['time_zones'])})"))
    line(_pair(_("Generated"), format_datetime(generated, "long", tzinfo=zone, locale=get_locale())))
    pdf.ln(2)
    line(
        f"{_pair(_('Observations'), number(totals['observations']))}    {_pair(_('Faces counted'), number(totals['faces']))}    "
        f"{_pair(_('Alerts'), number(report['alerts']['total']))}",
        bold=True,
    )
    if totals["dominant_emotion"]:
        line(_pair(_("Dominant expression"), EMOTION_LABELS[totals["dominant_emotion"]]))
    pdf.ln(2)

    chart_h = width * 2.8 / 7.2  # the figures' aspect ratio
    heading(_("Share of each expression by hour"), chart_h)
    pdf.image(_hourly_chart(report, chart_data), w=width)
    heading(_("When faces are seen"), chart_h)
    pdf.image(_heatmap_chart(report), w=width)

    heading(_("Sites"), 20)
    score_head = [str(EMOTION_LABELS[e]) for e in EMOTIONS]
    table(
        [_("Site"), _("Observations"), _("Dominant"), *score_head],
        [
            [
                s["name"],
                number(s["observations"]),
                EMOTION_LABELS[s["dominant_emotion"]] if s["dominant_emotion"] else "—",
                # shares of the period's faces, as the page shows them, in the reader's notation
                *((percent(s["scores"][e]) if s["scores"] else "—") for e in EMOTIONS),
            ]
            for s in report["sites"]
        ]
        or [[_("No data in this period"), "", "", *[""] * len(EMOTIONS)]],
        [30, 18, 20, *[14] * len(EMOTIONS)],
    )

    people = report.get("people") or {"people_seen": 0, "median_time_in_view_s": None, "cameras": []}
    heading(_("People seen"), 25)
    line(
        "    ".join(
            (
                _pair(_("People seen"), people["people_seen"]),
                _pair(_("Median time in view"), _duration(people["median_time_in_view_s"])),
            )
        )
    )
    line(_("Anonymous tracks: a person seen by two cameras, or who comes back later, counts again."), 8)
    if len(people.get("sites", [])) > 1:
        table(
            [_("Site"), _("People seen"), _("Median time in view")],
            [[s["name"], s["people_seen"], _duration(s["median_time_in_view_s"])] for s in people["sites"]],
            [80, 50, 50],
        )
    table(
        [_("Camera"), _("People seen"), _("Median time in view")],
        [[c["camera"], c["people_seen"], _duration(c["median_time_in_view_s"])] for c in people["cameras"]]
        or [[_("No camera"), "", ""]],
        [80, 50, 50],
    )
    if people_by_hour(report):
        heading(_("People seen by hour"), chart_h)
        pdf.image(_people_chart(report), w=width)

    heading(_("Alerts"), 25)
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
            number(r["count"]),
        ]
        for r in report["alerts"]["by_rule"]
    ]
    table(
        [_("Rule"), _("Expression"), _("Severity"), _("Alerts")],
        rule_rows or [[_("No alert in this period"), "", "", ""]],
        [60, 60, 35, 25],
    )

    heading(_("Data coverage"), 20)
    table(
        [_("Camera"), _("Time sending"), _("Share of the period")],
        [[c["camera"], _duration(c["seconds_sending"]), percent(c["share"], 1)] for c in report["coverage"]]
        or [[_("No camera"), "", ""]],
        [80, 50, 50],
    )
    pdf.ln(2)
    line(str(CAVEAT), 8)
    return bytes(pdf.output())
