"""Watch events: one JSON object per line, ``{event_id, firm_id, type, date, payload}``.

``event_id`` is any non-empty string, unique over the stream (a repeated id is ignored); ``firm_id`` is the
firm's 统一社会信用代码 as in the register; ``date`` is the day the fact took effect (YYYY-MM-DD); ``payload``
depends on ``type``. Money is in 万元.

Event types and their payloads:

``figures`` — annual or quarterly statistics.
    ``{"year": 2024, "period": "annual", "values": {"revenue": 12000, "employees": 180}}``.
    ``period`` is ``annual`` (default) or ``Q1``…``Q4`` (year-to-date figures). ``values`` keys are yearly numeric
    field ids of tiering/fields.py. Annual figures replace the register's values for that year; quarterly figures
    only fill a year that has no annual figures yet (a later quarter replaces an earlier one).
``patent_granted`` / ``patent_lapsed`` — ``{"ip_class": 1, "count": 1, "title": "一种…"}``; adds to (or takes
    from) Ⅰ类 (``ip_class: 1``) or Ⅱ类 (``2``) 知识产权数量.
``certificate_issued`` — ``{"certificate": "hitech", "expiry": "2027-12-01"}``; ``certificate`` is ``hitech``
    (高新技术企业证书, ``expiry`` required), ``software`` (软件企业及软件产品证书) or ``rd_institution``
    (省部级以上研发机构认定).
``certificate_expired`` / ``certificate_revoked`` — ``{"certificate": "hitech"}``.
``credit_listed`` — ``{"list": "abnormal_operation"}``; ``list`` is ``abnormal_operation`` (经营异常名录),
    ``serious_dishonesty`` (严重违法失信名单) or ``research_misconduct`` (科研严重失信); the Chinese names are
    accepted too.
``credit_cleared`` — ``{"list": "abnormal_operation", "erroneous": false}``. The rules exclude a firm listed in
    the previous fiscal year *or* the current year, so an ordinary clearance is recorded but does not restore the
    firm in the current window; ``"erroneous": true`` (the listing was a mistake) removes the listing.
``accident_reported`` — ``{"kind": "重大安全事故", "description": "…"}``: a major safety or quality accident,
    serious environmental violation or serious fraud.
``investment_received`` — ``{"amount": 800, "investor": "某创投基金"}``: one venture investment in 万元; the year's
    单笔创业投资额 is the largest single investment.

Status events (everything but ``figures``) dated in or after the data year are recorded on the firm's data-year
row (application year − 1), because the rules' conditions "上一会计年度及当年" read that row; earlier-dated ones on
the row of their own year.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tiering.errors import TieringError
from tiering.fields import BY_ID, DType, Kind
from tiering.register.row import parse_number

SET, ADD, MAX = "set", "add", "max"
BASE_RANK = 15
"""Rank of a value read from the register: annual figures and status events (20) override it, quarterly (10) not."""
ANNUAL_RANK, QUARTER_RANK = 20, 10

_NUMERIC = (DType.MONEY, DType.INT, DType.RATIO, DType.SCORE)
CREDIT_LISTS = {"abnormal_operation": "经营异常名录", "serious_dishonesty": "严重违法失信名单",
                "research_misconduct": "科研严重失信"}
_CREDIT_ALIASES = {"经营异常": "abnormal_operation", "经营异常名录": "abnormal_operation",
                   "严重违法失信": "serious_dishonesty", "严重违法失信名单": "serious_dishonesty",
                   "科研失信": "research_misconduct", "科研严重失信": "research_misconduct"}
CERTIFICATE_FIELDS = {"hitech": "hitech_cert", "software": "software_cert", "rd_institution": "rd_institution"}


class EventError(TieringError, ValueError, error_id="event-refused"):
    """A line that is not a usable event; the message says what is wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(_Strict):
    """One event of the stream (the envelope; ``payload`` is checked against its type's model)."""

    event_id: str = Field(min_length=1)
    firm_id: str = Field(min_length=1)
    type: str
    date: dt.date
    payload: dict[str, Any] = Field(default_factory=dict)


class Figures(_Strict):
    year: int = Field(ge=1990, le=2100)
    period: Literal["annual", "Q1", "Q2", "Q3", "Q4"] = "annual"
    values: dict[str, float] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _known_fields(cls, values: dict[str, float]) -> dict[str, float]:
        checked = {}
        for key, value in values.items():
            f = BY_ID.get(key)
            if f is None or f.kind != Kind.YEAR or f.dtype not in _NUMERIC:
                raise ValueError(f"“{key}”不是 tiering/fields.yaml 中按年度填报的数值字段 id")
            if not math.isfinite(value):
                raise ValueError(f"{f.label}（{key}）应为有限数字，不能是 {value}")
            # the register's own cell rule, so an event is refused exactly where a register cell would be
            try:
                number = parse_number(f, value)
            except ValueError as exc:
                raise ValueError(f"{f.label}（{key}）{exc}：{value:,.10g}") from None
            checked[key] = float(value if number is None else number)
        return checked


class Patent(_Strict):
    ip_class: Literal[1, 2]
    count: int = Field(default=1, ge=1)
    title: str | None = None


class Certificate(_Strict):
    certificate: Literal["hitech", "software", "rd_institution"]
    expiry: dt.date | None = None
    number: str | None = None


class CreditList(_Strict):
    list: Literal["abnormal_operation", "serious_dishonesty", "research_misconduct"]
    erroneous: bool = False
    authority: str | None = None

    @field_validator("list", mode="before")
    @classmethod
    def _chinese_names(cls, value: Any) -> Any:
        return _CREDIT_ALIASES.get(value, value) if isinstance(value, str) else value


class Accident(_Strict):
    kind: str | None = None
    description: str | None = None


class Investment(_Strict):
    amount: float = Field(gt=0, allow_inf_nan=False)
    investor: str | None = None


PAYLOADS: dict[str, type[_Strict]] = {
    "figures": Figures,
    "patent_granted": Patent,
    "patent_lapsed": Patent,
    "certificate_issued": Certificate,
    "certificate_expired": Certificate,
    "certificate_revoked": Certificate,
    "credit_listed": CreditList,
    "credit_cleared": CreditList,
    "accident_reported": Accident,
    "investment_received": Investment,
}
"""Every event type and the model its payload must satisfy."""


@dataclass(frozen=True)
class Op:
    """One change to a cell of the firm state: ``year`` None means a firm-level field (every row)."""

    year: int | None
    field: str
    how: str
    value: Any
    rank: int = ANNUAL_RANK


@dataclass(frozen=True)
class Parsed:
    """A valid event with its checked payload."""

    event: Event
    payload: _Strict

    @property
    def key(self) -> tuple[dt.date, str]:
        """The order in which events are applied: by date, then event id (ties broken the same everywhere)."""
        return self.event.date, self.event.event_id


_PYDANTIC_ZH = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识此项（多余的键）",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文本",
    "string_too_short": "不能为空",
    "dict_type": "应为 JSON 对象",
    "too_short": "不能为空",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "date_parsing": "应为日期，如 2025-03-01",
    "date_from_datetime_parsing": "应为日期，如 2025-03-01",
    "date_type": "应为日期，如 2025-03-01",
    "finite_number": "应为有限数字",
}
"""Chinese for the pydantic checks an event can fail; others keep pydantic's (English) text after the field."""


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(整行)"
        ctx = err.get("ctx") or {}
        if err["type"] == "literal_error":
            text = f"应为 {ctx.get('expected', '')} 之一"
        elif err["type"] in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            word = {"greater_than": "大于", "greater_than_equal": "不小于", "less_than": "小于",
                    "less_than_equal": "不大于"}[err["type"]]
            text = f"应{word} {next(iter(ctx.values()), '')}"
        else:
            text = _PYDANTIC_ZH.get(err["type"], err["msg"].removeprefix("Value error, "))
        parts.append(f"{where}：{text}")
    return "；".join(parts)


def parse_event(line: str) -> Parsed:
    """Parse one JSON line into an event; raise :class:`EventError` saying what is wrong."""
    try:
        event = Event.model_validate_json(line)  # the fast path; a failure is re-parsed below for the message
        model = PAYLOADS.get(event.type)
        if model is not None and event.type != "certificate_issued":
            return Parsed(event, model.model_validate(event.payload))
    except ValidationError:
        pass
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"不是 JSON：第 {exc.colno} 列起无法解析") from exc
    if not isinstance(raw, dict):
        raise EventError("一个事件应为 JSON 对象 {event_id, firm_id, type, date, payload}")
    try:
        event = Event.model_validate(raw)
    except ValidationError as exc:
        raise EventError(_reason(exc)) from exc
    model = PAYLOADS.get(event.type)
    if model is None:
        raise EventError(f"未知的事件类型“{event.type}”；可用的类型：{'、'.join(PAYLOADS)}")
    try:
        payload = model.model_validate(event.payload)
    except ValidationError as exc:
        raise EventError(f"“{event.type}”事件的 payload：{_reason(exc)}") from exc
    if event.type == "certificate_issued" and payload.certificate == "hitech" and payload.expiry is None:
        raise EventError("“certificate_issued”事件的 payload：高新技术企业证书（hitech）须写明有效期 expiry")
    return Parsed(event, payload)


def ops_of(parsed: Parsed, data_year: int) -> list[Op]:
    """The cell changes an event makes, for a watch whose data year is ``data_year``."""
    e, p = parsed.event, parsed.payload
    row = min(e.date.year, data_year)
    if isinstance(p, Figures):
        rank = ANNUAL_RANK if p.period == "annual" else QUARTER_RANK
        return [Op(p.year, field, SET, float(v), rank) for field, v in sorted(p.values.items())]
    if isinstance(p, Patent):
        sign = 1 if e.type == "patent_granted" else -1
        return [Op(row, f"ip_class{p.ip_class}", ADD, float(sign * p.count))]
    if isinstance(p, Certificate):
        field = CERTIFICATE_FIELDS[p.certificate]
        if e.type == "certificate_issued":
            ops = [Op(row, field, SET, 1.0)]
            if p.certificate == "hitech":
                ops.append(Op(None, "hitech_cert_expiry", SET, p.expiry.isoformat()))  # type: ignore[union-attr]
            return ops
        return [Op(row, field, SET, 0.0)]
    if isinstance(p, CreditList):
        if e.type == "credit_listed":
            return [Op(row, p.list, SET, 1.0)]
        return [Op(row, p.list, SET, 0.0)] if p.erroneous else []
    if isinstance(p, Accident):
        return [Op(row, "major_accident", SET, 1.0)]
    assert isinstance(p, Investment)
    return [Op(row, "vc_investment", MAX, float(p.amount))]


def describe(parsed: Parsed) -> str:
    """A short Chinese description of what happened, for alert texts."""
    e, p = parsed.event, parsed.payload
    if isinstance(p, Figures):
        period = "年报" if p.period == "annual" else f"{p.period}季报"
        shown = "、".join(f"{BY_ID[k].label} {v:g}{BY_ID[k].unit}" for k, v in sorted(p.values.items()))
        return f"{p.year}年{period}：{shown}"
    if isinstance(p, Patent):
        verb = "获授权" if e.type == "patent_granted" else "失效"
        return f"{'Ⅰ' if p.ip_class == 1 else 'Ⅱ'}类知识产权{verb} {p.count} 项"
    if isinstance(p, Certificate):
        name = {"hitech": "高新技术企业证书", "software": "软件企业证书", "rd_institution": "省部级以上研发机构"}
        verb = {"certificate_issued": "取得", "certificate_expired": "到期", "certificate_revoked": "被撤销"}[e.type]
        return f"{name[p.certificate]}{verb}"
    if isinstance(p, CreditList):
        verb = "列入" if e.type == "credit_listed" else "移出"
        return f"{verb}{CREDIT_LISTS[p.list]}"
    if isinstance(p, Accident):
        return f"报告{p.kind or '重大事故或严重违法行为'}"
    assert isinstance(p, Investment)
    return f"获得创业投资 {p.amount:g}万元"
