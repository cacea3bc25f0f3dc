"""Numbers in forms: a decimal typed and shown as people of the interface's language write it,
and whole numbers; either says once, alone, that a text is not a number.

French writes 0,6 where English writes 0.6. A number input (WTForms' default for decimals)
shows and accepts the browser's own convention, not the page's: a French page in a browser set to
English showed "0.60", and the same page reads differently from one browser to the next. This
field is a text input with the decimal keyboard: it shows its value with the interface
language's sign and takes either sign back; the stored value is the same Decimal either way.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from wtforms import DecimalField, IntegerField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput


def _decimal_sign() -> str:
    locale = get_locale()
    return get_decimal_symbol(locale) if locale is not None else "."


class LocalDecimalField(DecimalField):
    """DecimalField that reads "0,6" as well as "0.6" and shows "0,60" in French; a touch keyboard
    with the decimal sign (``inputmode="decimal"``)."""

    widget = TextInput()

    def __init__(self, *args, **kwargs):
        render_kw = {"inputmode": "decimal", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list) -> None:
        if valuelist and isinstance(valuelist[0], str):
            # One sign at most: "1,000.5" or "0,6,1" stay invalid instead of being guessed at.
            text = valuelist[0].strip()
            if text.count(",") == 1 and "." not in text:
                text = text.replace(",", ".")
            valuelist = [text, *valuelist[1:]]
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            # Decimal reads "NaN", "sNaN" and "Infinity"; a signalling NaN even breaks the range
            # check that comes next (comparing it raises).
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))

    def pre_validate(self, form) -> None:
        _one_error(self)

    def _value(self) -> str:
        if self.raw_data:  # what the person typed, as typed, when the form comes back with an error
            return str(self.raw_data[0])
        text = super()._value()
        return text.replace(".", _decimal_sign()) if text else text


class WholeNumberField(IntegerField):
    """IntegerField that says one thing when the text is not a number ("1e5", "abc"): that it is not
    one, without the range check's message under it too."""

    def pre_validate(self, form) -> None:
        _one_error(self)


def _one_error(field) -> None:
    """The value could not be read: its own message stands alone (the range check is skipped)."""
    typed = field.raw_data[0] if field.raw_data else ""
    if field.process_errors and isinstance(typed, str) and typed.strip():  # empty: Optional() decides
        raise StopValidation()
