"""Policy rules: ``POST /v1/policy/rules`` and ``GET /v1/policy/rules`` (superadmin, contract 004),
and their enforcement (:func:`enforce`).

A rule is a named allow/deny statement over subjects (``role:<role>``, ``user:<id>``, ``*``),
actions (``agent.execute``, ``tool.use``, ``model.inference``; glob patterns such as ``agent.*``)
and resources (registry or model ids, glob patterns, ``*``), with conditions, a priority (lower
first) and an enabled flag. Names are unique (409 ``policy_rule_exists``). The list is ordered by
priority, then name, and filters on ``enabled`` and ``effect``.

Enforcement: the enabled rules matching (subject, action, resource, conditions) are taken in
priority order, a deny before an allow of the same priority; the first decides. No matching rule
means allowed (the route's role already admitted the caller). A deny is 403 ``policy_denied`` with
the rule's id and name, the action and the resource. Conditions are equality tests on the request's
attributes (a list value: any of them); a condition on an attribute the action does not have never
matches. Rules are insert-only, so their count is their version: each worker caches the enabled
rules and re-counts at most every ``GENAI_RESOLUTION_RECHECK_S`` (a rule created in this worker
takes effect at once).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Request, get, post
from litestar.params import FromQuery, JSONBody

from ridgeline.genai.api import catalog_store as CS
from ridgeline.genai.api.catalog_store import caller, catalog_of
from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.api.service import GenaiService
from ridgeline.platform.auth import Role
from ridgeline.platform.auth.policy import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.openapi import raises

Item = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Items = Annotated[list[Item], msgspec.Meta(min_length=1, max_length=50)]
Effect = Literal["allow", "deny"]


class RuleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    effect: Effect
    subjects: Items
    actions: Items
    resources: Items = msgspec.field(default_factory=lambda: ["*"])
    conditions: Annotated[dict[str, Any], msgspec.Meta(max_length=50)] = {}
    priority: Annotated[int, msgspec.Meta(ge=0, le=10000)] = 100
    enabled: bool = True


class Rule(msgspec.Struct, kw_only=True):
    id: str
    name: str
    description: str
    effect: str
    subjects: list[str]
    actions: list[str]
    resources: list[str]
    conditions: dict[str, Any]
    priority: int
    enabled: bool
    created_by: str | None
    created_at: str


class RuleList(msgspec.Struct, kw_only=True):
    rules: list[Rule]
    total: int


_SUPER = Policy.role(Role.SUPERADMIN).opt()


# ---- enforcement ------------------------------------------------------------------------------------

ACTIONS = ("agent.execute", "tool.use", "model.inference")
_STATE_KEY = "genai.policy_rules"


class _Rules:
    """The enabled rules of one worker, in decision order, re-read when their count changes."""

    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self.count: int | None = None
        self.checked_at = float("-inf")

    async def current(self, db: Any, recheck: float) -> list[dict[str, Any]]:
        now = time.monotonic()
        if self.count is not None and now - self.checked_at < recheck:
            return self.rules
        self.checked_at = now  # one re-check at a time; the others use the cached rules meanwhile
        t = CS.policy_rules
        try:
            async with db.engine.connect() as conn:
                count = (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar()
                if count != self.count:
                    q = sa.select(t).where(t.c.enabled.is_(True))
                    rows = [dict(r._mapping) for r in await conn.execute(q)]
                    # lower priority first; a deny before an allow of the same priority; then by name
                    rows.sort(key=lambda r: (r["priority"], r["effect"] != "deny", r["name"]))
                    self.rules, self.count = rows, count
        except BaseException:
            self.checked_at = float("-inf")
            raise
        return self.rules


def _rules_of(ctx: Any) -> _Rules:
    got = ctx.state.get(_STATE_KEY)
    if got is None:
        got = ctx.state[_STATE_KEY] = _Rules()
    return got


def _recheck_s(ctx: Any) -> float:
    from ridgeline.genai.runtime import PlatformService

    try:
        return ctx.service(PlatformService).settings.genai_resolution_recheck_s
    except Exception:  # the control plane did not start: re-count every time
        return 0.0


def _subject_matches(patterns: list[str], user_id: str | None, role: str | None) -> bool:
    for s in patterns:
        if (
            s == "*"
            or (role is not None and s == f"role:{role}")
            or (user_id is not None and s == f"user:{user_id}")
        ):
            return True
    return False


def _conditions_match(conditions: Mapping[str, Any], attrs: Mapping[str, Any]) -> bool:
    for key, want in conditions.items():
        if key not in attrs:
            return False
        have = attrs[key]
        if isinstance(want, list) and not isinstance(have, list):
            if have not in want:
                return False
        elif have != want:
            return False
    return True


def decide(
    rules: list[dict[str, Any]],
    user_id: str | None,
    role: str | None,
    action: str,
    resource: str,
    attrs: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The first rule (in decision order) that applies, or None."""
    for r in rules:
        if (_subject_matches(r["subjects"], user_id, role)
                and any(fnmatch.fnmatchcase(action, a) for a in r["actions"])
                and any(fnmatch.fnmatchcase(resource, x) for x in r["resources"])
                and _conditions_match(r["conditions"] or {}, attrs)):  # fmt: skip
            return r
    return None


def principal_of(request: Any) -> tuple[str | None, str | None]:
    from ridgeline.platform.auth import current_principal

    p = current_principal(request)
    if p is None:
        return None, None
    return p.user_id, (p.role.value if p.role is not None else None)


async def enforce(
    ctx: Any, request: Any, action: str, resource: str, attrs: Mapping[str, Any] | None = None
) -> None:
    """Raise 403 ``policy_denied`` when the stored rules deny ``action`` on ``resource`` to the
    caller of ``request``."""
    rules = await _rules_of(ctx).current(ctx.db, _recheck_s(ctx))
    if not rules:
        return
    user_id, role = principal_of(request)
    rule = decide(rules, user_id, role, action, resource, attrs or {})
    if rule is not None and rule["effect"] == "deny":
        raise REASON_CODES.error(
            "policy_denied", action=action, resource=resource, rule_id=rule["id"], rule_name=rule["name"]
        )


@post("/v1/policy/rules", status_code=201, opt={**raises(409), **_SUPER}, tags=["policy"])
async def create_rule(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[RuleCreate]
) -> Rule:
    user_id, _ = caller(request)
    store = await catalog_of(svc)
    row = await store.create_rule({**msgspec.to_builtins(data), "created_by": user_id})
    _rules_of(svc.ctx).checked_at = float("-inf")  # effective at once in this worker
    return msgspec.convert(row, Rule)


@get("/v1/policy/rules", opt=_SUPER, tags=["policy"])
async def list_rules(
    svc: Service[GenaiService],
    enabled: FromQuery[bool | None] = None,
    effect: FromQuery[Effect | None] = None,
) -> RuleList:
    store = await catalog_of(svc)
    rules = await store.list_rules(enabled=enabled, effect=effect)
    return RuleList(rules=msgspec.convert(rules, list[Rule]), total=len(rules))


ROUTES = [create_rule, list_rules]
