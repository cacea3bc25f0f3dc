"""What a broken page leaves behind though a person may not notice it at once: console errors,
uncaught page errors, failed requests and answers of 400 or more. ``watch(page)`` records them on a
Playwright page or on a whole browser context (every page it opens), and a test asserts the list
is empty at its end.

A test that provokes a failure on purpose (a refused capture link, a staff member opening an
admin page) names it in ``expect``: regular expressions searched in each problem's line, which
reads ``console: <text> @ <url>``, ``page error: <message>``, ``request failed: <url> <reason>`` or
``<status> <method> <url>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Not the app's failures: a request cut short because the page moved on (a navigation, a download,
# the live room's long-poll when leaving it) ends as net::ERR_ABORTED; a websocket that was still
# opening when the page left is reported by Chromium as a console error.
NAVIGATION_ARTEFACTS = (
    r"^request failed: .* net::ERR_ABORTED$",
    r"^console: WebSocket connection to .* failed: WebSocket is closed before the connection is established",
)


class Problems(list[str]):
    """The problems seen so far; ``expect`` patterns (and the navigation artefacts) are left out."""

    def __init__(self, expect: Iterable[str] = ()):
        super().__init__()
        self.patterns = [re.compile(p) for p in (*NAVIGATION_ARTEFACTS, *expect)]

    def add(self, line: str) -> None:
        if not any(p.search(line) for p in self.patterns):
            self.append(line)

    def expect(self, *patterns: str) -> None:
        """Allows more failures from now on (for example before a step that is refused on purpose)."""
        self.patterns += [re.compile(p) for p in patterns]


def watch(target, expect: Iterable[str] = (), problems: Problems | None = None) -> Problems:
    """Records the problems of a page or of a browser context (all its pages, present and future)."""
    problems = problems if problems is not None else Problems(expect)

    def console(message) -> None:
        if message.type == "error":
            problems.add(f"console: {message.text} @ {message.location.get('url', '')}")

    def response(answer) -> None:
        if answer.status >= 400:
            problems.add(f"{answer.status} {answer.request.method} {answer.url}")

    target.on("console", console)
    # A context reports its pages' uncaught errors as "weberror", a page as "pageerror".
    if hasattr(target, "new_page"):
        target.on("weberror", lambda error: problems.add(f"page error: {error.error}"))
    else:
        target.on("pageerror", lambda error: problems.add(f"page error: {error}"))
    target.on("requestfailed", lambda request: problems.add(f"request failed: {request.url} {request.failure}"))
    target.on("response", response)
    return problems


def signed_in(browser, base: str, email: str, lang: str = "en", size: tuple[int, int] = (1280, 800), problems=None):
    """A browser context in ``lang`` at ``size``, watched (``problems``: a list to add to), with a
    page signed in as ``email`` (the tests' password) on the live room: (context, page, problems)."""
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, locale=lang, extra_http_headers={"Accept-Language": lang}
    )
    problems = watch(context, problems=problems)
    page = context.new_page()
    page.goto(base + "/auth/login")
    page.fill("#email", email)
    page.fill("#password", "secret-pass-1")
    page.click("input[type=submit]")
    page.wait_for_url(base + "/live")
    return context, page, problems
