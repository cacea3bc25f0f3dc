"""The API's data as pydantic models: every request body and query string under /api/v1, and every answer.

Requests are validated with these models (app/api/validation.py) and openapi.json is built from their
JSON schemas (app/api/openapi.py): the document and the checks cannot disagree. Rules a JSON schema
cannot state (a password in the common list, a site id of another tenant, a report over more than
366 days) stay in the services, which answer them with a 400 in the same error format.
"""

import re
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from email_validator import EmailNotValidError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from app.inference.labels import EMOTIONS
from app.infra.ids import MAX_ID
from app.infra.pagination import CURSOR_PATTERN
from app.models import ROLES
from app.rules import RULE_TYPES
from app.rules.kinds import KINDS as RULE_KINDS
from app.rules.kinds import Param
from app.services.accounts import MIN_PASSWORD, check_email
from app.services.cameras import KINDS, MAX_CREDENTIAL, MAX_FPS, MAX_URL, STREAM_STATUSES
from app.services.privacy import PURPOSES, SETTINGS
from app.text_rules import BIDI, CONTROL, INVISIBLE, NOTE_CONTROL, SPACE, SURROGATE, is_blank  # noqa: F401 - re-exported
from config import Config

MAX_ITEMS = 1000  # site_ids of one user


class Doc:
    """Annotated metadata that adds keywords to a type's JSON schema (what a custom validator checks)."""

    def __init__(self, **keywords: Any):
        self.keywords = keywords

    def __get_pydantic_json_schema__(self, core_schema, handler) -> dict:
        schema = handler(core_schema)
        schema.update(self.keywords)
        return schema


def refuse(reason: str, message: str) -> PydanticCustomError:
    """A validation error whose type is the reason shown in ``fields`` (see validation.REASONS)."""
    return PydanticCustomError(reason, message)


def _text(max_len: int, forbidden: str, *, blank: bool, strip: bool = True, **keywords: Any) -> Any:
    """A string of at most ``max_len`` characters as sent, none of them in ``forbidden``; stripped
    unless ``strip`` is false; ``blank`` false: it must hold more than white space."""
    bad = re.compile(f"[{forbidden}{SURROGATE}]")
    pattern = f"^[^{forbidden}]*$" if blank else f"^[^{forbidden}]*[^{forbidden}{SPACE}{INVISIBLE}][^{forbidden}]*$"

    def clean(value: str) -> str:
        if bad.search(value):
            raise refuse("invalid", "Control characters and text-direction overrides are not allowed.")
        stripped = value.strip() if strip else value
        if not blank and is_blank(stripped):
            raise refuse("required", "A value is required.")
        return stripped

    return Annotated[
        str, StringConstraints(strict=True, max_length=max_len), AfterValidator(clean), Doc(**{"pattern": pattern, **keywords})
    ]


def Name(max_len: int, blank: bool = False) -> Any:
    """What people read as a name: no control characters, no bidi overrides."""
    return _text(max_len, CONTROL + BIDI, blank=blank)


def Line(max_len: int, blank: bool = False, **keywords: Any) -> Any:
    return _text(max_len, CONTROL, blank=blank, **keywords)


def _email(value: str) -> str:
    try:
        return check_email(value)
    except EmailNotValidError:
        raise refuse("invalid", "The e-mail address is not valid.") from None


def Email(max_len: int) -> Any:
    # As the forms: .invalid, .local, .localhost... are refused, .test and .example accepted (accounts.check_email).
    return Annotated[Line(max_len), AfterValidator(_email), Doc(format="email")]


def Password(min_len: int | None = MIN_PASSWORD, invitation: bool = False) -> Any:
    """Kept exactly as typed (spaces are part of it). Its strength (length, common passwords) is
    checked by accounts.check_password_strength: ``minLength`` documents it, ``weak_password`` answers it."""
    if invitation:  # empty: the user chooses a password from the invitation e-mail
        return _text(200, CONTROL, blank=True, strip=False, pattern=f"^(?:[^{CONTROL}]{{{min_len},}})?$")
    return _text(200, CONTROL, blank=True, strip=False, **({"minLength": min_len} if min_len else {}))


def _integral(value: Any) -> Any:
    # JSON Schema's integer is a value, not a spelling: 30.0 is the integer 30 (30.5, true and "30" are not)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def Int(minimum: int, maximum: int) -> Any:
    return Annotated[int, Field(strict=True, ge=minimum, le=maximum), BeforeValidator(_integral)]


def Number(minimum: float, maximum: float) -> Any:
    return Annotated[float, Field(strict=True, ge=minimum, le=maximum, allow_inf_nan=False)]


def _in_zones(value: str) -> str:
    if value not in ZONES:
        raise refuse("invalid", "Unknown time zone.")
    return value


ZONES = frozenset(available_timezones())  # what services.sites accepts
Id = Int(1, MAX_ID)
Bool = Annotated[bool, Field(strict=True)]
HHMM = Annotated[str, StringConstraints(strict=True, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
TimeZone = Annotated[
    str, StringConstraints(strict=True, max_length=64), AfterValidator(_in_zones), Doc(enum=sorted(ZONES), example="Europe/Paris")
]
Role = Literal[ROLES]
Emotion = Literal[tuple(RULE_TYPES)]
Severity = Literal["info", "warning", "critical"]


def _known_kind(value: str) -> str:
    """A registered rule kind, refused as a Literal would be (reason invalid, the choices in the message)."""
    if value not in RULE_KINDS:
        names = [repr(k) for k in RULE_KINDS]
        expected = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
    return value


class _KindEnum:
    """The registered kinds as the schema's enum, read when a document is built."""

    def __get_pydantic_json_schema__(self, core_schema, handler) -> dict:
        schema = handler(core_schema)
        schema["enum"] = list(RULE_KINDS)
        return schema


# One of the registered kinds (app/rules/kinds), read at each validation: a kind registered later is accepted.
RuleKind = Annotated[str, StringConstraints(strict=True), AfterValidator(_known_kind), _KindEnum()]


def _kind_branches(answer: bool) -> list[dict]:
    """One schema per rule kind (app/rules/kinds): its ``kind`` and its own fields. In a body a missing
    kind is a share rule, so only the other branches require ``kind``."""
    branches = []
    for name, kind in RULE_KINDS.items():
        branch: dict = {"title": f"{name} rule", "properties": {"kind": {"const": name}, **kind.json_schema()}}
        if answer or name != "share":
            branch["required"] = ["kind", *([p.name for p in kind.params] if answer else [])]
        branches.append(branch)
    return branches


def kind_params() -> dict[str, tuple[Param, list[str]]]:
    """Each kind-specific field (flat in rule bodies and answers) -> its parameter and the kinds that
    have it, read from the registry when called (a kind registered later is included)."""
    found: dict[str, tuple[Param, list[str]]] = {}
    for name, kind in RULE_KINDS.items():
        for param in kind.params:
            found.setdefault(param.name, (param, []))[1].append(name)
    return found


def _param_type(param: Param) -> Any:
    """The type of a kind's parameter in a body: its bounds, strict as every field."""
    return Int(int(param.minimum), int(param.maximum)) if param.integer else Number(param.minimum, param.maximum)


def _kind_properties(answer: bool) -> dict[str, dict]:
    """The flat properties of the kinds' parameters, as a pydantic field of the parameter's type would state them."""
    properties = {}
    for name, (param, kinds) in kind_params().items():
        json_type = "integer" if param.integer else "number"
        if answer:
            properties[name] = {"anyOf": [{"type": json_type}, {"type": "null"}], "description": f"{', '.join(kinds)} rules only"}
        else:
            properties[name] = {
                "type": json_type,
                "minimum": param.minimum,
                "maximum": param.maximum,
                "description": f"{', '.join(kinds)}: {param.doc or name} (default {param.default:g})",
            }
    return properties


def _rule_kinds_schema(answer: bool) -> Any:
    def extra(schema: dict) -> None:
        schema.setdefault("properties", {}).update(_kind_properties(answer))
        schema["oneOf"] = _kind_branches(answer)
        schema["discriminator"] = {"propertyName": "kind"}

    return extra


class KindFields:
    """Rule bodies validate the kinds' own parameters from the registry (app/rules/kinds), besides
    their pydantic fields: see validation.validate."""

    @classmethod
    def validate_kind_fields(cls, data: dict) -> tuple[dict, list[dict]]:
        """(values of the kind parameters present in ``data``, pydantic-style errors located at their names)."""
        values, errors = {}, []
        for name, (param, _) in kind_params().items():
            if name not in data:
                continue
            try:
                values[name] = _adapter(param).validate_python(data[name])
            except ValidationError as exc:
                errors.extend({**e, "loc": (name, *e["loc"])} for e in exc.errors())
        return values, errors


@cache
def _adapter(param: Param) -> TypeAdapter:
    return TypeAdapter(_param_type(param))


Setting = Literal[SETTINGS[1:]]  # "unspecified" is the state before a declaration, not a choice
Purpose = Literal[PURPOSES[1:]]
Locale = Literal[tuple(Config.LANGUAGES)]


class Body(BaseModel):
    """A JSON request body: unknown fields are ignored, types are strict (true is not 1, "1" is not 1)."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Signup(Body):
    organisation: Name(120)
    email: Email(200)
    password: Password()


class Credentials(Body):
    email: Line(254)
    password: Password(min_len=None)  # an account's password from before the strength rules still signs in
    name: Name(80, blank=True) = None
    ttl_days: Int(1, 365) = None


class UserIn(Body):
    email: Email(200)
    password: Password(invitation=True) = None
    role: Role
    site_ids: Annotated[list[Id], Field(max_length=MAX_ITEMS)] = None


class UserPatch(UserIn):
    email: Email(200) = None
    password: Password() = None
    role: Role = None
    notify_alerts: Bool = None


class MePatch(Body):
    # With a new password, the current one: a session or a token alone does not change it.
    model_config = ConfigDict(
        strict=True, extra="ignore", json_schema_extra={"dependentRequired": {"password": ["current_password"]}}
    )
    locale: Locale | None = None
    password: Password() = None
    current_password: Line(200, strip=False) = Field(
        None,
        description="Required with password (400 if missing, 403 wrong_password if wrong; wrong ones count towards the lock)",
    )
    notify_alerts: Bool = None


class SiteIn(Body):
    name: Name(120)
    timezone: TimeZone = None
    setting: Setting = Field(None, description="Given with purpose (or after it was declared): both are recorded")
    purpose: Purpose = None


class SitePatch(SiteIn):
    name: Name(120) = None


SOURCE_URL_DOC = (
    "A stream camera's source: rtsp://, rtsps://, http(s):// MJPEG or snapshot URL, without user name or "
    "password (given inside the URL they are moved to username/password). The server pulls it only if its "
    "host resolves into the operator's STREAM_SOURCES_ALLOW networks; otherwise 400 source_not_allowed: "
    "create a browser camera and feed it with the edge agent (emotiscan-agent) and its capture token."
)


class CameraIn(Body):
    site_id: Id
    name: Name(120)
    fps: Int(1, MAX_FPS) = Field(None, description="Default 5 (browser), 2 (stream)")
    kind: Literal[KINDS] = Field(
        None,
        description="browser (default): frames pushed over /capture with the capture token, by a browser or the edge "
        "agent; stream: the server's gateway pulls source_url",
        json_schema_extra={"default": "browser"},
    )
    source_url: Line(MAX_URL, blank=True) = Field(None, description=SOURCE_URL_DOC)
    username: Line(MAX_CREDENTIAL, blank=True) = Field(None, description="Stream source's user; stored encrypted, never shown")
    password: Password(min_len=None) = Field(None, description="Stream source's password; stored encrypted, never shown")


class CameraPatch(Body):
    """A camera's kind does not change (a kind sent is ignored)."""

    site_id: Id = None
    name: Name(120) = None
    fps: Int(1, MAX_FPS) = None
    source_url: Line(MAX_URL, blank=True) = Field(None, description=SOURCE_URL_DOC)
    username: Line(MAX_CREDENTIAL, blank=True) = Field(None, description="Empty with an empty password: no credentials")
    password: Password(min_len=None) = None
    enabled: Bool = Field(None, description="false: no frame is taken (a stream camera is no longer pulled)")


class RuleIn(KindFields, Body):
    model_config = ConfigDict(json_schema_extra=_rule_kinds_schema(answer=False))

    kind: RuleKind = Field(
        None,
        json_schema_extra={"default": "share"},
        description="share: a frame hits when its highest face does; person: one anonymous track sustains it; "
        "rise: the mean rises by threshold between two windows; baseline: above the usual level for the hour",
    )
    camera_id: Id | None = Field(None, description="A camera rule; else site_id")
    site_id: Id | None = None
    name: Name(120, blank=True) = None
    emotion: Emotion
    threshold: Number(0, 1)
    duration_s: Int(1, 3600)
    min_share: Number(0.05, 1) = Field(None, json_schema_extra={"default": 0.6})
    min_faces: Int(1, 50) = Field(None, json_schema_extra={"default": 1})
    cooldown_s: Int(0, 86400) = Field(None, json_schema_extra={"default": 300})
    active_from: HHMM | None = Field(None, description="With active_to: the rule's daily window, site time")
    active_to: HHMM | None = None
    severity: Severity = Field(None, json_schema_extra={"default": "warning"})
    enabled: Bool = Field(None, json_schema_extra={"default": True})
    escalate_after_s: Int(30, 86400) | None = None
    # and each kind's own parameters (baseline: min_weeks), from the registry: KindFields


class RuleSimulation(RuleIn):
    hours: Number(0.1, 72) = Field(None, json_schema_extra={"default": 4})


class RulePatch(RuleIn):
    emotion: Emotion = None
    threshold: Number(0, 1) = None
    duration_s: Int(1, 3600) = None


class WebhookIn(Body):
    url: Line(500, format="uri")


class AckIn(Body):
    note: _text(2000, NOTE_CONTROL, blank=True) | None = None


# Query strings: values arrive as text; an empty value is no value (as before).


def _query_int(value: Any) -> Any:
    if isinstance(value, str):
        match = re.fullmatch(r"(-?[0-9]+)(?:\.0+)?", value)  # 5.0 is the integer 5, as in JSON Schema
        if not match:
            raise refuse("wrong_type", "A whole number is expected.")
        if len(match[1]) > 12:  # past any id: refused before int() reads thousands of digits
            raise refuse("out_of_range", "The number is out of range.")
        return int(match[1])
    return value


_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def _query_datetime(value: Any) -> Any:
    """RFC 3339 (any year, offset and precision), else what datetime.fromisoformat reads (no offset: UTC);
    a moment past what datetime holds in UTC is clamped, since it only bounds a search."""
    if not isinstance(value, str):
        return value
    match = _RFC3339.fullmatch(value)
    try:
        if match:
            year, month, day, hour, minute, second, fraction, _, sign, off_h, off_m = match.groups()
            moment = datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                min(int(second), 59),
                int((fraction or "0")[:6].ljust(6, "0")),
            )
            offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0)) * (-1 if sign == "-" else 1)
            if offset >= timedelta(days=1):
                raise ValueError("offset")
        else:
            moment = datetime.fromisoformat(value)
            offset = moment.utcoffset() or timedelta()
            moment = moment.replace(tzinfo=None)
    except ValueError:
        raise refuse("invalid", "Dates and times are written as in ISO 8601 (2026-01-31T08:00:00Z).") from None
    try:
        return (moment - offset).replace(tzinfo=UTC)
    except OverflowError:
        return (datetime.min if offset > timedelta() else datetime.max).replace(tzinfo=UTC)


def QueryInt(minimum: int, maximum: int) -> Any:
    return Annotated[int, Field(strict=True, ge=minimum, le=maximum), BeforeValidator(_query_int)]


QueryId = QueryInt(1, MAX_ID)
QueryDateTime = Annotated[datetime, BeforeValidator(_query_datetime), Field(strict=True)]


class Query(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)


class ListQuery(Query):
    cursor: Annotated[str, StringConstraints(strict=True)] = Field(
        None, json_schema_extra={"pattern": CURSOR_PATTERN}, description="next_cursor of the previous page"
    )  # decoded (and refused: invalid_cursor) by paginate
    limit: QueryInt(1, Config.PAGE_SIZE_MAX) = Field(None, json_schema_extra={"default": Config.PAGE_SIZE})


class CameraQuery(ListQuery):
    site_id: QueryId = None


class AlertQuery(ListQuery):
    status: Literal["open", "acknowledged", "resolved"] = Field(None, description="All statuses by default")
    camera_id: QueryId = None
    since: QueryDateTime = Field(None, description="Alerts that started at or after this moment")


class ObservationQuery(ListQuery):
    camera_id: QueryId = None
    since: QueryDateTime = None
    until: QueryDateTime = None


class ReportQuery(Query):
    site_id: QueryId = None
    camera_id: QueryId = None
    start: Line(10, blank=True, format="date") = Field(
        None, alias="from", description="First day, inclusive, in the site's time zone (default: 6 days before 'to')"
    )
    end: Line(10, blank=True, format="date") = Field(
        None, alias="to", description="Last day, inclusive (default: today); data up to the request is included"
    )
    format: Literal["json", "csv", "pdf"] = Field(None, json_schema_extra={"default": "json"})


# Answers: what the serializers (serializers.py, services' *_dict) return.


class Answer(BaseModel):
    pass


class ErrorDetail(Answer):
    code: str
    message: str
    fields: dict[str, str] = Field(
        None, description="Field name -> reason: required, wrong_type, too_long, out_of_range, invalid, unknown..."
    )


class Error(Answer):
    error: ErrorDetail


class Tenant(Answer):
    id: int
    name: str
    timezone: str = Field(description="Where events of no site (sign-ins, audit, webhook deliveries) are shown")


class OrganisationPatch(Body):
    timezone: TimeZone = None


class User(Answer):
    id: int
    email: str
    role: Role
    site_ids: list[int]
    all_sites: bool
    locale: str | None
    notify_alerts: bool
    created_at: datetime
    locked_until: datetime | None


class Me(Answer):
    user: User
    tenant: Tenant


class Token(Answer):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class TokenIssued(Answer):
    token: str
    expires_at: datetime
    id: int


class SignedUp(Answer):
    tenant: Tenant
    user: User
    token: str
    expires_at: datetime


class Site(Answer):
    id: int
    name: str
    timezone: str
    created_at: datetime
    setting: Literal[SETTINGS]
    purpose: Literal[PURPOSES]
    purpose_declared_at: datetime | None
    analysis_refused: str | None = Field(description="Why the analysis is refused at this site, if it is")


class StreamStatus(Answer):
    status: Literal[STREAM_STATUSES]
    error: str | None = Field(description="The last error seen pulling the source (unreachable)")
    updated_at: datetime | None


class Camera(Answer):
    id: int
    site_id: int
    name: str
    fps: int
    last_seen_at: datetime | None
    created_at: datetime
    kind: Literal[KINDS]
    enabled: bool
    source_url: str | None = Field(description="A stream camera's source, never with credentials")
    has_credentials: bool
    stream_status: StreamStatus | None = Field(description="A stream camera's pulling status; null for a browser camera")


class CaptureToken(Answer):
    capture_token: str = Field(description="Shown only now")
    capture_url: str
    qr_svg: str = Field(description="The capture URL as a QR code (data: URI)")


class CameraCreated(Camera, CaptureToken):
    pass


class Rule(Answer):
    id: int
    site_id: int
    camera_id: int | None
    name: str
    emotion: str
    threshold: float
    duration_s: int
    min_share: float
    min_faces: int
    cooldown_s: int
    active_from: str | None
    active_to: str | None
    severity: str
    enabled: bool
    escalate_after_s: int | None
    kind: RuleKind
    # and each kind's own parameters (baseline: min_weeks), stated from the registry: _rule_kinds_schema
    created_at: datetime

    model_config = ConfigDict(json_schema_extra=_rule_kinds_schema(answer=True))


class SimulatedEvent(Answer):
    camera_id: int
    event: Literal["started", "ended"]
    at: datetime
    value: float | None
    details: dict[str, Any] | None = Field(None, description="The kind's numbers and opaque ids (person: track_id, box)")


class Alert(Answer):
    id: int
    rule_id: int | None = Field(description="None for a camera_offline alert")
    camera_id: int
    site_id: int
    emotion: str
    severity: str
    value: float
    status: Literal["open", "acknowledged", "resolved"]
    started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    note: str | None
    resolved_at: datetime | None
    escalated_at: datetime | None
    details: dict[str, Any] | None = Field(
        None, description="The rule kind's numbers and opaque ids: person: track_id and box; rise; baseline"
    )


class AuditEntry(Answer):
    id: int
    actor_id: int | None
    action: str
    target_type: str
    target_id: int | None
    details: dict[str, Any]
    created_at: datetime


class Webhook(Answer):
    id: int
    url: str
    enabled: bool
    created_at: datetime


class WebhookCreated(Webhook):
    secret: str = Field(description="The signing secret, shown only now")


class Delivery(Answer):
    id: int
    webhook_id: int
    alert_id: int | None
    event: str
    attempt: int
    status_code: int | None
    ok: bool
    error: str | None
    created_at: datetime


class Observation(Answer):
    id: int
    camera_id: int
    site_id: int
    ts: datetime
    model_version: str
    faces: list[dict[str, Any]] = Field(
        description="Per face: box, emotion, confidence, scores and track_id (anonymous, per camera, ends when the face is gone)"
    )
    latency_ms: float
    people: int | None = Field(None, description="Faces in view: anonymous tracks not yet ended")


#: Mean score per expression class: one required property per class, in the model's order.
Scores = create_model(
    "Scores",
    __base__=Answer,
    **{e: (Annotated[float, Field(ge=0, le=1)], ...) for e in EMOTIONS},  # type: ignore[call-overload]
)


class Totals(Answer):
    observations: int
    faces: int
    classified_observations: int
    scores: Scores | None = Field(description="Mean score per expression; null without a classified face")
    dominant_emotion: Literal[EMOTIONS] | None


class ReportScope(Answer):
    kind: Literal["tenant", "site", "camera"]
    tenant_id: int
    organisation: str
    site_id: int | None
    camera_id: int | None
    name: str


class ReportPeriod(Answer):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    time_zones: list[str]


class PeopleCount(Answer):
    people_seen: int = Field(ge=0, description="Distinct anonymous face tracks (per camera: never linked across cameras)")
    median_time_in_view_s: float | None = Field(description="Median seconds from a track's first to last frame; null without one")


class PeopleSite(PeopleCount):
    site_id: int
    name: str


class PeopleCamera(PeopleCount):
    camera_id: int
    camera: str
    site_id: int


class PeopleHour(PeopleCount):
    site_id: int
    camera_id: int
    hour: datetime = Field(description="Local hour start in the site's zone, with the offset then in force")


class ReportPeople(PeopleCount):
    """People seen without identity: anonymous tracks that overlap the period."""

    sites: list[PeopleSite]
    cameras: list[PeopleCamera]
    hourly: list[PeopleHour] = Field(description="Per camera and local hour: tracks whose span touches that hour")


class Report(Answer):
    scope: ReportScope
    period: ReportPeriod
    generated_at: datetime
    totals: Totals
    hourly: list[dict[str, Any]] = Field(description="Totals per local hour: {hour, ...Totals}")
    heatmap: list[dict[str, Any]] = Field(description="Totals per weekday and hour: {weekday, hour, ...Totals}")
    sites: list[dict[str, Any]] = Field(description="Totals per site: {site_id, name, time_zone, ...Totals}")
    site_hourly: list[dict[str, Any]] = Field(
        description="Per site and local hour: {site_id, hour, ...Totals, people_seen, median_time_in_view_s}"
    )
    alerts: dict[str, Any] = Field(description="{total, by_severity, by_rule, time_to_ack}")
    coverage: list[dict[str, Any]] = Field(description="Per camera: {camera_id, camera, site_id, seconds_sending, share}")
    people: ReportPeople


@cache
def page(item: type[BaseModel], cursor: bool = True) -> type[BaseModel]:
    """The answer of a list: ``{"items": [...], "next_cursor"}``; without ``cursor`` it is always null."""
    next_cursor = (Annotated[str, Field(pattern=CURSOR_PATTERN)] | None) if cursor else None
    return create_model(f"{item.__name__}List", __base__=Answer, items=(list[item], ...), next_cursor=(next_cursor, ...))
