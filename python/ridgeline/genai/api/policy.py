"""Policy rules: ``POST /v1/policy/rules`` and ``GET /v1/policy/rules`` (superadmin, contract 004).

A rule is a named allow/deny statement over subjects (``role:<role>``, ``user:<id>``, ``*``),
actions (``agent.execute``, ``model.inference``, ...) and resources (registry ids or ``*``), with free
conditions, a priority (lower first) and an enabled flag. Names are unique (409
``policy_rule_exists``). The list is ordered by priority, then name, and filters on ``enabled`` and
``effect``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery, JSONBody

from ridgeline.genai.api.catalog_store import caller, catalog_of
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


@post("/v1/policy/rules", status_code=201, opt={**raises(409), **_SUPER}, tags=["policy"])
async def create_rule(
    svc: Service[GenaiService], request: Request[Any, Any, Any], data: JSONBody[RuleCreate]
) -> Rule:
    user_id, _ = caller(request)
    store = await catalog_of(svc)
    row = await store.create_rule({**msgspec.to_builtins(data), "created_by": user_id})
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
