"""A printable A4 sheet per camera: site, camera, the QR code of its capture link, short set-up
instructions and the notice text, in the reader's language. Built in memory; the link is the only
secret on it, and the sheet is never stored."""

from __future__ import annotations

import hmac
import io

import segno
from flask_babel import force_locale
from flask_babel import gettext as _

from app.infra.secrets import token_hash
from app.labels import CAVEAT
from app.models import Camera, Site, Tenant
from app.services.reports.pdf import font_dir

QR_MM = 90  # large enough to scan from an arm's length on A4


def token_is_current(camera: Camera, token: str | None) -> bool:
    """The token shown once on the camera's link page, still the camera's own (constant-time compare)."""
    return bool(token) and hmac.compare_digest(token_hash(token), camera.token_hash)


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


def render_qr_sheet(camera: Camera, site: Site, tenant: Tenant, capture_url: str, language: str) -> bytes:
    from fpdf import FPDF

    with force_locale(language):
        pdf = FPDF(format="A4")
        pdf.set_title(_("QR sheet of camera %(camera)s", camera=camera.name))
        fonts = font_dir()
        pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
        pdf.add_page()
        width = pdf.epw

        def block(text: str, size: float, bold: bool = False, gap: float = 3) -> None:
            pdf.set_font("DejaVu", "B" if bold else "", size)
            pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(gap)

        block(_("Camera: %(camera)s", camera=camera.name), 22, bold=True)
        block(_("Place: %(site)s", site=site.name), 15)
        block(_("Run by: %(organisation)s", organisation=tenant.name), 12, gap=4)
        pdf.image(io.BytesIO(qr_png(capture_url)), x=pdf.l_margin + (width - QR_MM) / 2, w=QR_MM, h=QR_MM)
        pdf.ln(4)
        block(_("How to set up the tablet"), 14, bold=True)
        steps = (
            _("1. Open the camera app of the tablet and point it at this code, then open the link it shows."),
            _("2. Allow the camera when the browser asks, then press “Start the camera”."),
            _("3. Place the tablet facing the people, at face height, and keep it on its charger."),
            _("Keep this sheet private: anyone with the code can send frames as this camera."),
        )
        for step in steps:
            block(step, 11, gap=1.5)
        pdf.ln(4)
        block(_("Facial expression analysis in progress"), 14, bold=True)
        block(_("No image is recorded or kept. Nobody is identified."), 11, bold=True, gap=1.5)
        block(
            _(
                "A camera estimates facial expressions (for example a smile) as numbers, on the spot; only these numbers "
                "are stored, without any image, and they are deleted after %(days)d days.",
                days=tenant.retention_days,
            ),
            10,
            gap=1.5,
        )
        block(str(CAVEAT), 10, gap=1.5)
        contact = tenant.privacy_contact or _("the reception desk")
        block(_("Questions, objections or requests about your data: %(contact)s", contact=contact), 10)
        return bytes(pdf.output())


def sheet_for(camera: Camera, capture_url: str, language: str) -> bytes:
    """The sheet of ``camera`` (the caller checked that it belongs to the actor's tenant)."""
    from app.extensions import db

    site = db.session.get(Site, camera.site_id)
    tenant = db.session.get(Tenant, camera.tenant_id)
    return render_qr_sheet(camera, site, tenant, capture_url, language)
