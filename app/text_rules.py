"""What a name or a line of text may hold, for the API's schemas and the pages' forms alike.

Character classes in regex syntax that Python, ECMA-262 and Rust agree on: the API document's
patterns are checked by clients, by its conformance tests and by us.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

CONTROL = r"\x00-\x1f\x7f-\x9f"  # Unicode Cc: NUL, C0, DEL, C1
NOTE_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # the same but tab, LF and CR: notes have lines
BIDI = r"\u202a-\u202e\u2066-\u2069"  # embeddings, overrides, isolates: they reorder what people read
# What str.strip() removes besides control characters (tests/api/test_api_schemas.py recomputes it).
SPACE = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Zero-width characters: allowed inside a name (emoji and some scripts join with them), but a name
# of nothing else is invisible.
INVISIBLE = r"\u200b-\u200d\u2060\ufeff"
SURROGATE = r"\ud800-\udfff"  # lone surrogates (escaped in JSON) cannot be stored; Rust regex cannot say them

_INVISIBLE = re.compile(f"[{INVISIBLE}]")


def is_blank(text: str) -> bool:
    """Nothing a person would see: empty, spaces or zero-width characters only."""
    return not _INVISIBLE.sub("", text).strip()


class PlainText:
    """A form field's text as the API takes it: no control characters, no text-direction overrides
    (``bidi``), and, where the field is filled in, something visible."""

    def __init__(self, bidi: bool = True):
        self.bad = re.compile(f"[{CONTROL}{BIDI if bidi else ''}{SURROGATE}]")

    def __call__(self, form, field) -> None:
        text = field.data
        if not isinstance(text, str) or text == "":
            return
        if self.bad.search(text):
            raise ValidationError(_l("Control characters and text-direction marks are not allowed."))
        if is_blank(text):
            raise ValidationError(_l("Write something visible."))
