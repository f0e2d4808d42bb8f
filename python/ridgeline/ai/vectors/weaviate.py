"""Weaviate as a :class:`~ridgeline.ai.vectors.base.VectorStore`, through its REST and GraphQL API
with httpx (no Weaviate client library). Talks to the network only at the ``url`` it is given.

Endpoints used: ``GET/POST /v1/schema`` (the class is created with ``vectorizer: "none"``: vectors
always come from us), ``POST /v1/schema/{class}/properties``, ``POST /v1/batch/objects`` (upsert),
``DELETE /v1/batch/objects`` (delete by id), ``POST /v1/graphql`` (``Get`` with ``nearVector``, ``where``
and ``distance``; ``Aggregate`` for the count).

Mapping: our string ids become UUIDv5 object ids; the id is also stored in ``rid_id`` and the whole
metadata as JSON in ``meta_json`` (returned as is). Every scalar metadata value whose key is a valid
GraphQL name is also stored as a property ``m_<key>`` (declared on first sight with the value's type:
text, int, number, boolean) so filters run inside Weaviate. Filters on other keys, on list values or
with ``None`` raise ``invalid_filter``. Scores: cosine ``1 - distance``; ``ip``: Weaviate's dot distance
is the negated product, so ``-distance``; ``l2`` uses ``l2-squared`` and the score is ``-sqrt(distance)``
(the negated Euclidean distance, as the other stores report it).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ridgeline.ai.providers.base import Secret, mask_secret, scrub
from ridgeline.ai.vectors.base import Hit, MetadataFilter, Metric, VectorStoreError
from ridgeline.ai.vectors.qdrant import _check_batch, _check_query

if TYPE_CHECKING:
    import httpx

__all__ = ["WeaviateStore"]

_NS = uuid.UUID("9c1f6a52-3b7d-4c1e-8f0a-6d2b5e4a7c30")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
_CLASS = re.compile(r"^[A-Z][_0-9A-Za-z]*$")
_DISTANCE = {"cosine": "cosine", "ip": "dot", "l2": "l2-squared"}
_TYPES = {bool: "boolean", int: "int", float: "number", str: "text"}
_VALUE_FIELD = {"boolean": "valueBoolean", "int": "valueInt", "number": "valueNumber", "text": "valueText"}
_ARRAY_FIELD = {"int": "valueIntArray", "number": "valueNumberArray", "text": "valueTextArray"}
BATCH = 200
DELETE_BATCH = 1000


def object_id(rid: str) -> str:
    return str(uuid.uuid5(_NS, rid))


def _gql(value: Any) -> str:
    """A GraphQL input literal (JSON strings are valid GraphQL strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ",".join(_gql(v) for v in value) + "]"
    if isinstance(value, _Enum):
        return value.name
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_gql(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


class _Enum:
    def __init__(self, name: str) -> None:
        self.name = name


def _type_of(value: Any) -> str | None:
    return _TYPES.get(type(value))


class WeaviateStore:
    """A Weaviate class (collection) behind the ``VectorStore`` interface (created when missing)."""

    def __init__(
        self,
        url: str,
        collection: str,
        dim: int,
        metric: Metric = "cosine",
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        if metric not in _DISTANCE:
            raise VectorStoreError("invalid_metric", f"metric must be cosine, l2 or ip, got {metric!r}")
        if not _CLASS.match(collection):
            raise VectorStoreError(
                "invalid_collection", f"Weaviate class names start with a capital letter: {collection!r}"
            )
        self.url = url.rstrip("/")
        self.collection = collection
        self.dim = int(dim)
        self.metric: Metric = metric
        self._key = Secret(api_key or "")
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=self.url, timeout=timeout, headers=headers, transport=transport, trust_env=False
        )
        self._props: dict[str, str] = {}
        self._ensure_class()

    def __repr__(self) -> str:
        key = f", api_key={mask_secret(self._key.reveal())!r}" if self._key else ""
        return (
            f"WeaviateStore({self.url!r}, {self.collection!r}, dim={self.dim}, metric={self.metric!r}{key})"
        )

    # ------------------------------------------------------------------------------------------ http
    def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)) -> httpx.Response:
        import httpx

        try:
            resp = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise VectorStoreError(
                "store_unavailable", self._scrub(f"weaviate {method} {path}: {exc}")
            ) from None
        if resp.status_code not in ok:
            raise VectorStoreError(
                "store_error",
                self._scrub(f"weaviate {method} {path}: HTTP {resp.status_code}: {resp.text[:500]}"),
            )
        return resp

    def _scrub(self, text: str) -> str:
        return scrub(text, [self._key.reveal()])

    def _graphql(self, query: str) -> dict[str, Any]:
        data = self._call("POST", "/v1/graphql", {"query": query}).json()
        if data.get("errors"):
            msg = "; ".join(str(e.get("message")) for e in data["errors"])
            raise VectorStoreError("store_error", self._scrub(f"weaviate graphql: {msg}"))
        return data.get("data") or {}

    # ---------------------------------------------------------------------------------------- schema
    def _ensure_class(self) -> None:
        resp = self._call("GET", f"/v1/schema/{self.collection}", ok=(200, 404))
        if resp.status_code == 404:
            body = {
                "class": self.collection,
                "vectorizer": "none",
                "vectorIndexType": "hnsw",
                "vectorIndexConfig": {"distance": _DISTANCE[self.metric]},
                "properties": [
                    {"name": "rid_id", "dataType": ["text"], "tokenization": "field"},
                    {
                        "name": "meta_json",
                        "dataType": ["text"],
                        "indexFilterable": False,
                        "indexSearchable": False,
                    },
                ],
            }
            self._call("POST", "/v1/schema", body)
            self._props = {"rid_id": "text", "meta_json": "text"}
            return
        cls = resp.json()
        distance = (cls.get("vectorIndexConfig") or {}).get("distance", "cosine")
        if cls.get("vectorizer") != "none" or distance != _DISTANCE[self.metric]:
            raise VectorStoreError(
                "collection_mismatch",
                f"class {self.collection!r} has vectorizer {cls.get('vectorizer')!r} and distance {distance!r}; "
                f"need 'none' and {_DISTANCE[self.metric]!r}",
            )
        self._props = {p["name"]: p["dataType"][0] for p in cls.get("properties") or []}

    def _declare(self, name: str, dtype: str) -> None:
        have = self._props.get(name)
        if have == dtype:
            return
        if have is not None:
            raise VectorStoreError(
                "metadata_type_conflict", f"metadata {name[2:]!r} was stored as {have}, now given as {dtype}"
            )
        prop: dict[str, Any] = {"name": name, "dataType": [dtype]}
        if dtype == "text":
            prop["tokenization"] = "field"  # exact-value equality, not per-word
        self._call("POST", f"/v1/schema/{self.collection}/properties", prop)
        self._props[name] = dtype

    # ------------------------------------------------------------------------------------ operations
    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadata: Sequence[Mapping[str, Any]] | None = None
    ) -> None:
        v = _check_batch(ids, vectors, metadata, self.dim)
        objects = []
        for i, rid in enumerate(ids):
            meta = dict(metadata[i]) if metadata else {}
            props: dict[str, Any] = {"rid_id": rid, "meta_json": json.dumps(meta, separators=(",", ":"))}
            for key, value in meta.items():
                dtype = _type_of(value)
                if dtype and _NAME.match(key):
                    self._declare(f"m_{key}", dtype)
                    props[f"m_{key}"] = value
            objects.append(
                {"class": self.collection, "id": object_id(rid), "vector": v[i].tolist(), "properties": props}
            )
        for start in range(0, len(objects), BATCH):
            results = self._call(
                "POST", "/v1/batch/objects", {"objects": objects[start : start + BATCH]}
            ).json()
            errors = [
                e.get("message")
                for r in results or []
                for e in ((r.get("result") or {}).get("errors") or {}).get("error") or []
            ]
            if errors:
                raise VectorStoreError(
                    "store_error", self._scrub(f"weaviate batch: {'; '.join(map(str, errors))}")
                )

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        oids = list(dict.fromkeys(map(object_id, ids)))
        removed = 0
        # batches well under the server's per-request match limit (QUERY_MAXIMUM_RESULTS, 10,000)
        for start in range(0, len(oids), DELETE_BATCH):
            where = {
                "path": ["id"],
                "operator": "ContainsAny",
                "valueTextArray": oids[start : start + DELETE_BATCH],
            }
            body = {"match": {"class": self.collection, "where": where}, "output": "minimal"}
            results = self._call("DELETE", "/v1/batch/objects", body).json().get("results") or {}
            removed += int(results.get("successful", results.get("matches", 0)))
        return removed

    def count(self) -> int:
        data = self._graphql(f"{{ Aggregate {{ {self.collection} {{ meta {{ count }} }} }} }}")
        rows = (data.get("Aggregate") or {}).get(self.collection) or [{}]
        return int((rows[0].get("meta") or {}).get("count") or 0)

    def _where(self, flt: MetadataFilter | None) -> dict[str, Any] | None:
        if not flt:
            return None
        operands = []
        for key, want in flt.items():
            name = f"m_{key}"
            if not _NAME.match(key):
                raise VectorStoreError(
                    "invalid_filter", f"metadata key {key!r} is not filterable in Weaviate"
                )
            values = list(want) if isinstance(want, list | tuple | set | frozenset) else [want]
            if any(x is None for x in values):
                raise VectorStoreError(
                    "invalid_filter", f"null filter for {key!r} is not supported by this store"
                )
            types = {_type_of(x) for x in values}
            if None in types:
                raise VectorStoreError("invalid_filter", f"unsupported filter value for {key!r}")
            have = self._props.get(name)
            if have is None or have not in types:
                return {"_nothing": True}  # no stored object has this key with such a value
            values = [x for x in values if _type_of(x) == have]
            if len(values) == 1:
                operands.append({"path": [name], "operator": _Enum("Equal"), _VALUE_FIELD[have]: values[0]})
            elif have == "boolean":
                operands.append(
                    {
                        "operator": _Enum("Or"),
                        "operands": [
                            {"path": [name], "operator": _Enum("Equal"), "valueBoolean": x} for x in values
                        ],
                    }
                )
            else:
                operands.append(
                    {"path": [name], "operator": _Enum("ContainsAny"), _ARRAY_FIELD[have]: values}
                )
        return operands[0] if len(operands) == 1 else {"operator": _Enum("And"), "operands": operands}

    def search(
        self,
        query: np.ndarray,
        k: int = 10,
        *,
        filter: MetadataFilter | None = None,
        threshold: float | None = None,
    ) -> list[Hit]:
        q = _check_query(query, self.dim, k)
        if filter and any(isinstance(w, list | tuple | set | frozenset) and not w for w in filter.values()):
            return []
        where = self._where(filter)
        if where is not None and where.get("_nothing"):
            return []
        near: dict[str, Any] = {"vector": [float(x) for x in q]}
        if threshold is not None:
            if self.metric == "cosine":
                near["distance"] = 1.0 - threshold
            elif self.metric == "ip":
                near["distance"] = -threshold
            else:
                if threshold > 0:
                    return []
                near["distance"] = threshold * threshold
        args = f"nearVector:{_gql(near)}, limit:{int(k)}"
        if where is not None:
            args += f", where:{_gql(where)}"
        gql = (
            f"{{ Get {{ {self.collection}({args}) {{ rid_id meta_json _additional {{ id distance }} }} }} }}"
        )
        rows = (self._graphql(gql).get("Get") or {}).get(self.collection) or []
        hits = []
        for r in rows:
            d = float(r["_additional"]["distance"])
            score = (
                1.0 - d
                if self.metric == "cosine"
                else (-d if self.metric == "ip" else -math.sqrt(max(d, 0.0)))
            )
            if threshold is not None and score < threshold:
                continue
            hits.append(Hit(r["rid_id"], score, json.loads(r.get("meta_json") or "{}")))
        hits.sort(key=lambda h: -h.score)
        return hits

    def close(self) -> None:
        self._http.close()
