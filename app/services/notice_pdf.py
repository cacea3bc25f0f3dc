"""The printable notice for a site's entrance (A4, large type), in French or English: who runs
the analysis, why, that no image is kept and nobody is identified, how long numbers are kept,
and whom to contact."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from app.labels import CAVEAT, PURPOSE_LABELS
from app.models import Site, Tenant
from app.services.reports.pdf import font_dir


def tracks_notice() -> str:
    """The notice's sentence on anonymous tracks (the privacy page says the same)."""
    return _(
        "Faces are followed between frames only by their position in the picture, under a random code that is "
        "forgotten a few seconds after the person leaves the view; the code never identifies anyone and cannot be "
        "matched across cameras or days."
    )


def render_notice(site: Site, tenant: Tenant, language: str) -> bytes:
    from fpdf import FPDF

    with force_locale(language):
        pdf = FPDF(format="A4")
        pdf.set_title(_("Facial expression analysis"))
        fonts = font_dir()
        pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
        pdf.add_page()
        width = pdf.epw

        def block(text: str, size: int, bold: bool = False, gap: float = 4) -> None:
            pdf.set_font("DejaVu", "B" if bold else "", size)
            pdf.multi_cell(width, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(gap)

        block(_("Facial expression analysis in progress"), 26, bold=True, gap=8)
        block(_("Place: %(site)s", site=site.name), 16)
        block(_("Run by: %(organisation)s", organisation=tenant.name), 16)
        purpose = PURPOSE_LABELS.get(site.purpose, site.purpose) if site.purpose != "unspecified" else _("not declared yet")
        block(_("Purpose: %(purpose)s", purpose=purpose), 16, gap=8)
        block(_("No image is recorded or kept. Nobody is identified."), 18, bold=True)
        block(
            _(
                "A camera estimates facial expressions (for example a smile) as numbers, on the spot; only these numbers "
                "are stored, without any image, and they are deleted after %(days)d days.",
                days=tenant.retention_days,
            ),
            13,
        )
        block(tracks_notice(), 13)
        block(str(CAVEAT), 13, gap=8)
        contact = tenant.privacy_contact or _("the reception desk")
        block(_("Questions, objections or requests about your data: %(contact)s", contact=contact), 14, bold=True)
        return bytes(pdf.output())
