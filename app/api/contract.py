"""Each view's contract, declared once beside it: summary, body and query models, answer and errors.

validation.payload()/params() validate with it and openapi.py documents it, so that what is checked
and what is published are the same declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app, request
from pydantic import BaseModel

F = TypeVar("F", bound=Callable)


@dataclass(frozen=True)
class Operation:
    summary: str
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    returns: type[BaseModel] | None = None  # None: no content (204) unless ``status`` says otherwise
    status: int = 200
    errors: tuple[int, ...] = ()  # beyond those implied: 400 (input), 401 (not public), 404 (path id), 413/415 (body), 429
    public: bool = False
    media: tuple[str, ...] = ()  # other media types of the answer, beside application/json


def operation(summary: str, **details) -> Callable[[F], F]:
    """Attach the contract to a view (below the route decorator, above the role checks)."""

    def attach(view: F) -> F:
        view.operation = Operation(summary, **details)
        return view

    return attach


def current_operation() -> Operation:
    return current_app.view_functions[request.endpoint].operation
