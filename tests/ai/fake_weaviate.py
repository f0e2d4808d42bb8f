"""An in-process fake of the Weaviate REST + GraphQL subset the adapter uses, plugged into httpx as a
transport: schema get/create/add-property, batch objects (upsert), batch delete by id, and GraphQL
``Get`` with ``nearVector`` (``vector``, ``distance`` or ``certainty``), ``limit`` and ``where`` (Equal,
ContainsAny, And, Or on ``valueText``/``valueInt``/``valueNumber``/``valueBoolean`` and array forms),
plus ``Aggregate { meta { count } }``. GraphQL is parsed with graphql-core, so a malformed query fails
here as it would on a server. With auto-schema off (as we run it): unknown properties are errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
from graphql import GraphQLError, parse
from graphql.language import ast


def _value(node: ast.ValueNode) -> Any:
    if isinstance(node, ast.IntValueNode):
        return int(node.value)
    if isinstance(node, ast.FloatValueNode):
        return float(node.value)
    if isinstance(node, ast.StringValueNode):
        return node.value
    if isinstance(node, ast.BooleanValueNode):
        return node.value
    if isinstance(node, ast.EnumValueNode):
        return ("enum", node.value)
    if isinstance(node, ast.ListValueNode):
        return [_value(v) for v in node.values]
    if isinstance(node, ast.ObjectValueNode):
        return {f.name.value: _value(f.value) for f in node.fields}
    if isinstance(node, ast.NullValueNode):
        return None
    raise ValueError(f"unsupported GraphQL value {type(node).__name__}")


class FakeWeaviate:
    def __init__(self) -> None:
        self.classes: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = []
        self.auth_seen: list[str | None] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -------------------------------------------------------------------------------------- helpers
    @staticmethod
    def _err(status: int, message: str) -> httpx.Response:
        return httpx.Response(status, json={"error": [{"message": message}]})

    def _distance(self, cls: str, a: np.ndarray, b: np.ndarray) -> float:
        kind = self.classes[cls]["vectorIndexConfig"]["distance"]
        if kind == "cosine":
            na, nb = np.linalg.norm(a), np.linalg.norm(b)
            return float(1.0 - np.dot(a, b) / (na * nb)) if na and nb else 1.0
        if kind == "dot":
            return float(-np.dot(a, b))
        if kind == "l2-squared":
            return float(np.sum((a - b) ** 2))
        raise AssertionError(kind)

    def _match(self, cls: str, obj: dict[str, Any], where: dict[str, Any]) -> bool:
        op = where["operator"]
        op = op[1] if isinstance(op, tuple) else op
        if op == "And":
            return all(self._match(cls, obj, w) for w in where["operands"])
        if op == "Or":
            return any(self._match(cls, obj, w) for w in where["operands"])
        (prop,) = where["path"]
        value_keys = [k for k in where if k.startswith("value")]
        if len(value_keys) != 1:
            raise ValueError("exactly one value* field is required")
        vk = value_keys[0]
        if prop == "id":
            have = obj["id"]
        else:
            dtype = self._prop_type(cls, prop)
            if dtype is None:
                raise ValueError(f"no such prop with name '{prop}' found in class '{cls}'")
            expected = {"text": "Text", "int": "Int", "number": "Number", "boolean": "Boolean"}[dtype]
            if vk.removeprefix("value").removesuffix("Array") != expected:
                raise ValueError(f"data type filter cannot use {vk} on type {dtype}")
            have = obj["properties"].get(prop)
        want = where[vk]
        if op == "Equal":
            return have == want
        if op == "ContainsAny":
            return have in want
        raise ValueError(f"operator {op} not supported by this fake")

    def _prop_type(self, cls: str, name: str) -> str | None:
        for p in self.classes[cls]["properties"]:
            if p["name"] == name:
                return p["dataType"][0]
        return None

    # -------------------------------------------------------------------------------------- routing
    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.calls.append((method, path))
        self.auth_seen.append(request.headers.get("authorization"))
        body = json.loads(request.content) if request.content else None
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "schema"]:
            if method == "GET" and len(parts) == 3:
                cls = self.classes.get(parts[2])
                return httpx.Response(200, json=cls) if cls else httpx.Response(404)
            if method == "POST" and len(parts) == 2:
                name = body["class"]
                if name in self.classes:
                    return self._err(422, f"class name {name!r} already exists")
                if body.get("vectorizer") != "none":
                    return self._err(422, "this fake has no vectorizer modules")
                self.classes[name] = {
                    "class": name,
                    "vectorizer": "none",
                    "vectorIndexConfig": {
                        "distance": (body.get("vectorIndexConfig") or {}).get("distance", "cosine")
                    },
                    "properties": list(body.get("properties") or []),
                }
                self.objects[name] = {}
                return httpx.Response(200, json=self.classes[name])
            if method == "POST" and len(parts) == 4 and parts[3] == "properties":
                cls = self.classes.get(parts[2])
                if cls is None:
                    return self._err(404, "class not found")
                if self._prop_type(parts[2], body["name"]) is not None:
                    return self._err(422, f"property {body['name']!r} already exists")
                cls["properties"].append(body)
                return httpx.Response(200, json=body)
        if path == "/v1/batch/objects" and method == "POST":
            out = []
            for o in body["objects"]:
                cls = o["class"]
                errors = []
                if cls not in self.classes:
                    errors.append({"message": f"class {cls!r} not found"})
                else:
                    for k, v in o["properties"].items():
                        dtype = self._prop_type(cls, k)
                        if dtype is None:
                            errors.append({"message": f"no such prop with name '{k}' found in class '{cls}'"})
                        elif dtype == "int" and not (isinstance(v, int) and not isinstance(v, bool)):
                            errors.append({"message": f"invalid integer property '{k}'"})
                    dims = {len(x["vector"]) for x in self.objects[cls].values()}
                    if dims and len(o["vector"]) not in dims:
                        errors.append({"message": "vector lengths don't match"})
                if not errors:
                    self.objects[cls][o["id"]] = {
                        "id": o["id"],
                        "vector": np.asarray(o["vector"]),
                        "properties": o["properties"],
                    }
                out.append(
                    {
                        **{k: v for k, v in o.items() if k != "vector"},
                        "result": {"errors": {"error": errors}} if errors else {},
                    }
                )
            return httpx.Response(200, json=out)
        if path == "/v1/batch/objects" and method == "DELETE":
            cls = body["match"]["class"]
            where = body["match"]["where"]
            store = self.objects.get(cls, {})
            hit = [oid for oid, o in store.items() if self._match(cls, o, where)]
            for oid in hit:
                del store[oid]
            return httpx.Response(
                200,
                json={
                    "match": body["match"],
                    "results": {"matches": len(hit), "successful": len(hit), "failed": 0, "limit": 10000},
                },
            )
        if path == "/v1/graphql" and method == "POST":
            try:
                return httpx.Response(200, json={"data": self._graphql(body["query"])})
            except (GraphQLError, ValueError, KeyError) as exc:
                return httpx.Response(200, json={"errors": [{"message": str(exc)}]})
        return self._err(404, f"no route {method} {path}")

    def _graphql(self, query: str) -> dict[str, Any]:
        doc = parse(query)
        (op,) = doc.definitions
        out: dict[str, Any] = {}
        for top in op.selection_set.selections:
            out[top.name.value] = {}
            for sel in top.selection_set.selections:
                cls = sel.name.value
                if cls not in self.classes:
                    raise ValueError(f"Cannot query field {cls!r} on type {top.name.value!r}")
                args = {a.name.value: _value(a.value) for a in sel.arguments or ()}
                if top.name.value == "Aggregate":
                    out["Aggregate"][cls] = [{"meta": {"count": len(self.objects[cls])}}]
                elif top.name.value == "Get":
                    out["Get"][cls] = self._get(cls, args, sel.selection_set)
                else:
                    raise ValueError(f"unsupported root {top.name.value}")
        return out

    def _get(self, cls: str, args: dict[str, Any], selection: ast.SelectionSetNode) -> list[dict[str, Any]]:
        near = args.get("nearVector")
        if near is None:
            raise ValueError("this fake needs nearVector")
        unknown = set(args) - {"nearVector", "limit", "where"}
        if unknown:
            raise ValueError(f"Unknown argument {sorted(unknown)}")
        q = np.asarray(near["vector"], dtype=np.float64)
        kind = self.classes[cls]["vectorIndexConfig"]["distance"]
        if "certainty" in near and kind != "cosine":
            raise ValueError(
                "can't compute and return certainty when vector index is not configured with cosine distance"
            )
        rows = []
        for o in self.objects[cls].values():
            if args.get("where") and not self._match(cls, o, args["where"]):
                continue
            if len(o["vector"]) != len(q):
                raise ValueError("vector search: the query vector's dimensions do not match the index")
            d = self._distance(cls, q, o["vector"])
            if "distance" in near and d > near["distance"]:
                continue
            if "certainty" in near and 1 - d / 2 < near["certainty"]:
                continue
            rows.append((d, o))
        rows.sort(key=lambda r: r[0])
        rows = rows[: int(args.get("limit", 10))]
        fields = [f for f in selection.selections]
        res = []
        for d, o in rows:
            item: dict[str, Any] = {}
            for f in fields:
                name = f.name.value
                if name == "_additional":
                    add = {}
                    for a in f.selection_set.selections:
                        an = a.name.value
                        add[an] = {
                            "id": o["id"],
                            "distance": d,
                            "certainty": (1 - d / 2) if kind == "cosine" else None,
                        }[an]
                    item["_additional"] = add
                elif self._prop_type(cls, name) is None:
                    raise ValueError(f"Cannot query field {name!r} on type {cls!r}")
                else:
                    item[name] = o["properties"].get(name)
            res.append(item)
        return res
