"""The privacy page tells admins, in English and French, that face tracks are anonymous and
expire: the sentence is visible, and the page fits 1280, 768 and 390 px (screenshots under
test-screenshots/)."""

from __future__ import annotations

import pytest

from tests.processes import ApiClient
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401  (the fixture)
from tests.system.test_navigation_browser import WIDEST, sign_in
from tests.system.watch import watch

pytestmark = [pytest.mark.browser, pytest.mark.process]
SENTENCE = {
    "en": "forgotten a few seconds after the person leaves the view",
    "fr": "oublié quelques secondes après que la personne a quitté le champ",
}


def test_privacy_page_says_tracks_are_anonymous_and_expire(embedded, browser):  # noqa: F811
    base, _ = embedded
    tenant = ApiClient(base, "Track Shop")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "fr"):
        for name, (width, height) in WIDTHS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale=lang, extra_http_headers={"Accept-Language": lang}
            )
            page = context.new_page()
            errors = watch(page)
            sign_in(page, base, tenant.email)
            page.goto(base + "/admin/privacy")
            paragraph = page.locator("p", has_text=SENTENCE[lang])
            assert paragraph.is_visible(), lang
            assert page.evaluate(WIDEST) <= width, (lang, width)
            paragraph.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"privacy-tracks-{name}-{lang}.png"), full_page=True)
            assert errors == [], errors
            context.close()
