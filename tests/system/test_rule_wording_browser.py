"""The rules list in headless Chromium: each kind's rule reads in its own terms, in English and
French, and the longer sentences keep the page within a phone's width; screenshots at three widths."""

from __future__ import annotations

import pytest

from tests.processes import ApiClient
from tests.rules.test_rule_wording import LIST_EN, LIST_FR, RULES
from tests.system.test_browser import SCREENSHOTS, WIDTHS, browser  # noqa: F401  (the fixture)
from tests.system.watch import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.process]


def test_the_rules_list_words_each_kind_and_fits_a_phone(embedded, browser):  # noqa: F811
    base, proc = embedded
    tenant = ApiClient(base, "Wording Shop")
    camera = tenant.camera()
    for kind, fields in RULES.items():
        r = tenant.call("POST", "/api/v1/alert-rules", json={"camera_id": camera["id"], "emotion": "joy", "kind": kind, **fields})
        assert r.status_code == 201, r.text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for lang, expected in (("en", LIST_EN), ("fr", LIST_FR)):
        context, page, errors = signed_in(browser, base, tenant.email, lang)
        page.goto(base + "/admin/rules")
        table = page.locator("main table").first
        text = " ".join(table.inner_text().replace("\u202f", " ").replace("\u00a0", " ").split())
        for kind, words in expected.items():
            assert words in text, (lang, kind, text)
        for name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(100)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (lang, name, overflow)
            # No column hidden in a sideways scroller: on a phone each rule is a card, every cell in view.
            hidden = table.evaluate("t => t.scrollWidth - t.clientWidth")
            assert hidden <= 0, (lang, name, hidden)
            page.screenshot(path=str(SCREENSHOTS / f"rules-list-kinds-{lang}-{name}.png"), full_page=True)
            table.screenshot(path=str(SCREENSHOTS / f"rules-list-kinds-table-{lang}-{name}.png"))
        # The score's label follows the chosen kind: a change for a rise, a level for the others.
        page.select_option("#kind", "rise")
        visible = page.locator("label[for=threshold]:visible").all_inner_texts()
        assert visible == [{"en": "Rise of at least (0 to 1)", "fr": "Hausse d'au moins (0 à 1)"}[lang]], visible
        page.select_option("#kind", "share")
        visible = page.locator("label[for=threshold]:visible").all_inner_texts()
        assert visible == [{"en": "Above this score (0 to 1)", "fr": "Au-dessus de ce score (0 à 1)"}[lang]], visible
        # Decimals as the language writes them, typed back the same way (a French admin types 0,7).
        decimal = {"en": ".", "fr": ","}[lang]
        assert page.input_value("#threshold") == f"0{decimal}60" and page.input_value("#min_share") == f"0{decimal}60"
        assert page.get_attribute("#threshold", "inputmode") == "decimal"
        page.fill("#threshold", f"0{decimal}85")
        page.fill("#name", f"Decimal {lang}")
        for name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.locator("#threshold").scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"rule-form-decimal-{lang}-{name}.png"))
        with page.expect_navigation():
            page.click("#submit")
        saved = " ".join(page.locator("main table").first.inner_text().replace("\u202f", " ").replace("\u00a0", " ").split())
        assert f"Decimal {lang}" in saved and f"0{decimal}85" in saved, saved
        assert errors == [], errors
        context.close()
    assert "Traceback" not in proc.output()
