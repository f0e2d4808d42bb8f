"""The genai control plane as a service: runtime profile, provider instances, deployments and their
bindings, activation with provider preflight, and the runtime that dispatches through the active
bindings (chat, embeddings, vector operations) and builds the execution-scoped snapshot an agent
engine receives (:func:`platform_runtime_snapshot`).

No Litestar here; errors are the family catalogue's (``REASON_CODES.error``), rendered as raised.
Secrets (``secret_refs``) are sealed at rest with the platform's SecretBox and opened only for
validation, preflight and dispatch; a ``modelops://credential/<id>`` ref opens the ModelOps
credential (``genai_credentials``, associated data ``genai:credential:<id>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa

from ridgeline.genai import providers as P
from ridgeline.genai.api import platform_store as T
from ridgeline.genai.api import store as S
from ridgeline.genai.api.errors import REASON_CODES
from ridgeline.genai.settings import PlatformSettings
from ridgeline.genai.transport import LeanOpenAIProvider, LeanTransport
from ridgeline.platform.auth.secrets import mask

E = REASON_CODES.error
CREDENTIAL_REF = "modelops://credential/"
REF_TYPES = {
    "llm_inference": ("managed_model", "builtin_model"),
    "embeddings": ("managed_model", "builtin_model"),
    "vector_store": ("knowledge_base",),
    "mcp_runtime": ("connection_profile",),
    "sandbox_execution": ("connection_profile",),
}
BUILTIN_MODELS = {
    "ridgeline_extractive_chat": P.EXTRACTIVE_MODEL_ID,
    "ridgeline_local_embeddings": P.LOCAL_EMBEDDINGS_MODEL_ID,
}
_VERSION_Q = sa.select(T.platform_version.c.version).where(T.platform_version.c.key == "global")
_MAX_CACHE_AGE_S = 5.0  # a cached resolution is re-read after this even if the version did not move
_CLIENT_TTL_S = 60.0  # a cached dispatch client (and the secrets it holds) is rebuilt after this


def _id() -> str:
    return uuid.uuid4().hex


def _row(r: Any) -> dict[str, Any] | None:
    return dict(r._mapping) if r is not None else None


# ---- request bodies (msgspec; the HTTP layer decodes into these) ------------------------------------


class ResourceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ref_type: str = "managed_model"
    id: str | None = None
    knowledge_base_id: str | None = None
    provider_resource_id: str | None = None  # a vector index name
    provider_instance_id: str | None = None  # the knowledge base's backing provider instance
    metadata: dict[str, Any] = {}
    # what a binding view shows of a resource, so a view can be sent back as it is (derived, ignored)
    name: str | None = None
    origin: str | None = None
    provider_model_id: str | None = None
    managed_model_id: str | None = None


class BindingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider_id: str | None = None
    resources: list[ResourceIn] = []
    default_resource_id: str | None = None
    config: dict[str, Any] = {}


@dataclass
class Active:
    deployment: dict[str, Any]
    binding: dict[str, Any]
    provider: dict[str, Any]
    family: P.ProviderFamily
    mode: str


class PlatformService:
    def __init__(self, ctx: Any, settings: PlatformSettings) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.settings = settings
        self._clients: dict[tuple[str, Any], tuple[float, Any]] = {}
        self._runtime_ids: dict[tuple[str, Any, str], str] = {}
        self._vectors: Any = None
        self._lock = asyncio.Lock()
        # one connection pool for every dispatch client (ridgeline.genai.transport: why not httpcore's)
        self._transport = LeanTransport()
        # cached active-binding resolution (see active()): capability -> Active, valid for _version
        self._active: dict[str, Active] = {}
        self._resolved_at: dict[str, float] = {}
        self._version: int | None = None
        self._checked_at = float("-inf")

    # ---- writes and the version counter ------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        """A write transaction on the control-plane tables. It bumps ``genai_platform_version`` in
        the same transaction, so every worker's cached resolution sees the write at its next check;
        this worker's cache is dropped at once. Anything writing providers, deployments, bindings or
        the runtime profile goes through here."""
        async with self.db.begin() as conn:
            yield conn
            await conn.execute(
                T.platform_version.update()
                .where(T.platform_version.c.key == "global")
                .values(version=T.platform_version.c.version + 1)
            )
        self.invalidate()

    def invalidate(self) -> None:
        self._active.clear()
        self._version = None
        self._checked_at = float("-inf")

    async def ensure_version_row(self) -> None:
        from sqlalchemy.exc import IntegrityError

        try:
            async with self.db.begin() as conn:
                q = sa.select(T.platform_version.c.key).where(T.platform_version.c.key == "global")
                if (await conn.execute(q)).first() is None:
                    await conn.execute(T.platform_version.insert().values(key="global", version=1))
        except IntegrityError:  # another worker inserted it first
            pass

    async def close(self) -> None:
        for _, client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        await self._transport.close_all()
        if self._vectors is not None:
            await self._vectors.flush()

    @property
    def _box(self) -> Any:
        return self.ctx.auth.secrets

    # ---- runtime profile ------------------------------------------------------------------------

    async def mode(self, conn: Any = None) -> str:
        q = sa.select(T.runtime_profile.c.mode).where(T.runtime_profile.c.key == "global")
        if conn is not None:
            return (await conn.execute(q)).scalar() or "online"
        async with self.db.engine.connect() as c:
            return (await c.execute(q)).scalar() or "online"

    async def profile(self) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = _row((await conn.execute(sa.select(T.runtime_profile))).first())
        if row is None:
            return {"mode": "online", "updated_by": None, "updated_at": None}
        return {"mode": row["mode"], "updated_by": row["updated_by"], "updated_at": row["updated_at"]}

    async def set_mode(self, mode: str, actor: str | None) -> dict[str, Any]:
        async with self.write() as conn:
            if mode != "online":
                active = await self._active_deployment(conn)
                if active is not None:
                    for b in await self._bindings(conn, active["id"]):
                        prov = await self._provider(conn, b["provider_id"])
                        if P.FAMILIES[prov["provider_key"]].provider_origin == "cloud":
                            raise E("offline_provider_blocked", provider=prov["slug"],
                                    capability=b["capability"], deployment_id=active["id"])  # fmt: skip
            await self._write_mode(conn, mode, actor)
        return await self.profile()

    async def _write_mode(self, conn: Any, mode: str, actor: str | None) -> None:
        values = {"mode": mode, "updated_by": actor, "updated_at": P.now()}
        done = await conn.execute(
            T.runtime_profile.update().where(T.runtime_profile.c.key == "global").values(**values)
        )
        if not done.rowcount:
            await conn.execute(T.runtime_profile.insert().values(key="global", **values))

    # ---- provider instances ------------------------------------------------------------------------

    async def _provider(self, conn: Any, provider_id: str) -> dict[str, Any]:
        row = _row(
            (await conn.execute(sa.select(T.providers).where(T.providers.c.id == provider_id))).first()
        )
        if row is None:
            raise E("provider_not_found", provider_id=provider_id)
        return row

    def provider_view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        fam = P.FAMILIES[row["provider_key"]]
        out = {
            "id": row["id"],
            "slug": row["slug"],
            "provider_key": row["provider_key"],
            "capability": row["capability"],
            "provider_origin": fam.provider_origin,
            "adapter": fam.adapter,
            "embedded": fam.embedded,
            "display_name": row["display_name"],
            "description": row["description"],
            "endpoint_url": row["endpoint_url"],
            "healthcheck_url": row["healthcheck_url"],
            "enabled": row["enabled"],
            "config": row["config"] or {},
            # what a secret ref is, never what it holds
            "secret_refs": {s["name"]: s for s in row["secret_ref_names"] or []},
            "loaded_model": None,
            "last_validation": row["last_validation"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        if fam.loaded_model_slot:
            out["loaded_model"] = {
                "state": row["loaded_state"],
                "managed_model_id": row["loaded_model_id"],
                "runtime_model_id": row["loaded_runtime_model_id"],
                "loaded_at": row["loaded_at"],
            }
        return out

    async def list_providers(self) -> list[dict[str, Any]]:
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(T.providers).order_by(T.providers.c.created_at, T.providers.c.id)
                )
            ).all()
        return [self.provider_view(r._mapping) for r in rows]

    async def get_provider(self, provider_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            return self.provider_view(await self._provider(conn, provider_id))

    def _seal_refs(
        self, provider_id: str, refs: Mapping[str, str]
    ) -> tuple[str | None, list[dict[str, Any]]]:
        views: list[dict[str, Any]] = []
        for name, value in sorted(refs.items()):
            if not name or not isinstance(value, str) or not value:
                raise E("secret_ref_invalid", name=name)
            if value.startswith(CREDENTIAL_REF):
                cred = value[len(CREDENTIAL_REF) :]
                if not cred or "/" in cred:
                    raise E("secret_ref_invalid", name=name)
                views.append(
                    {"name": name, "kind": "modelops_credential", "ref": value, "credential_id": cred}
                )
            elif value.startswith("modelops://"):
                raise E("secret_ref_invalid", name=name)
            else:
                views.append({"name": name, "kind": "value", "masked": mask(value)})
        if not refs:
            return None, []
        return self._box.seal(msgspec.json.encode(dict(refs)), f"genai:provider:{provider_id}"), views

    def secret_refs(self, row: Mapping[str, Any]) -> dict[str, str]:
        """The provider's refs as stored (values and ``modelops://credential/<id>`` refs), unsealed."""
        if not row["secret_refs_sealed"]:
            return {}
        return msgspec.json.decode(self._box.open(row["secret_refs_sealed"], f"genai:provider:{row['id']}"))  # type: ignore[no-any-return]

    async def resolve_secrets(self, row: Mapping[str, Any]) -> dict[str, str]:
        """The provider's secrets in the clear, for validation, preflight and dispatch only."""
        out: dict[str, str] = {}
        for name, value in self.secret_refs(row).items():
            if value.startswith(CREDENTIAL_REF):
                out[name] = await self._credential(name, value[len(CREDENTIAL_REF) :])
            else:
                out[name] = value
        return out

    async def _credential(self, name: str, credential_id: str) -> str:
        async with self.db.engine.connect() as conn:
            sealed = (
                await conn.execute(
                    sa.select(S.credentials.c.secret_sealed).where(S.credentials.c.id == credential_id)
                )
            ).scalar()
        if sealed is None:
            raise E("secret_ref_unresolvable", name=name, detail=f"credential {credential_id} not found")
        text = bytes(sealed).decode() if isinstance(sealed, bytes | bytearray | memoryview) else str(sealed)
        try:
            return self._box.open(text, f"genai:credential:{credential_id}").decode()
        except Exception:  # SecretError: tampered or sealed for another row
            raise E("secret_ref_unresolvable", name=name, detail="credential does not open") from None

    async def create_provider(self, body: Mapping[str, Any]) -> dict[str, Any]:
        fam = P.FAMILIES.get(body["provider_key"])
        if fam is None:
            raise E("provider_family_not_found", provider_key=body["provider_key"])
        if fam.requires_endpoint and not body.get("endpoint_url"):
            raise E("provider_endpoint_required", provider_key=fam.key)
        pid = _id()
        sealed, views = self._seal_refs(pid, body.get("secret_refs") or {})
        now = P.now()
        values = {
            "id": pid,
            "slug": body["slug"],
            "provider_key": fam.key,
            "capability": fam.capability,
            "display_name": body.get("display_name") or body["slug"],
            "description": body.get("description") or "",
            "endpoint_url": body.get("endpoint_url"),
            "healthcheck_url": body.get("healthcheck_url"),
            "enabled": body.get("enabled", True),
            "config": body.get("config") or {},
            "secret_refs_sealed": sealed,
            "secret_ref_names": views,
            "loaded_state": "empty",
            "loaded_model_id": None,
            "loaded_runtime_model_id": None,
            "loaded_at": None,
            "last_validation": None,
            "created_at": now,
            "updated_at": now,
        }
        async with self.write() as conn:
            if (
                await conn.execute(sa.select(T.providers.c.id).where(T.providers.c.slug == body["slug"]))
            ).first():
                raise E("provider_slug_taken", slug=body["slug"])
            await conn.execute(T.providers.insert().values(**values))
        return self.provider_view(values)

    async def update_provider(self, provider_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        async with self.write() as conn:
            row = await self._provider(conn, provider_id)
            fam = P.FAMILIES[row["provider_key"]]
            changes: dict[str, Any] = {"updated_at": P.now()}
            for key in (
                "slug",
                "display_name",
                "description",
                "endpoint_url",
                "healthcheck_url",
                "enabled",
                "config",
            ):
                if key in body:
                    changes[key] = (
                        body[key]
                        if body[key] is not None or key in ("endpoint_url", "healthcheck_url")
                        else row[key]
                    )
            if "slug" in changes and changes["slug"] != row["slug"]:
                taken = await conn.execute(
                    sa.select(T.providers.c.id).where(
                        T.providers.c.slug == changes["slug"], T.providers.c.id != provider_id
                    )
                )
                if taken.first():
                    raise E("provider_slug_taken", slug=changes["slug"])
            if fam.requires_endpoint and not changes.get("endpoint_url", row["endpoint_url"]):
                raise E("provider_endpoint_required", provider_key=fam.key)
            if body.get("secret_refs") is not None:
                changes["secret_refs_sealed"], changes["secret_ref_names"] = self._seal_refs(
                    provider_id, body["secret_refs"]
                )
            await conn.execute(T.providers.update().where(T.providers.c.id == provider_id).values(**changes))
            row.update(changes)
        return self.provider_view(row)

    async def delete_provider(self, provider_id: str) -> None:
        async with self.write() as conn:
            await self._provider(conn, provider_id)
            used = (
                (
                    await conn.execute(
                        sa.select(T.deployments.c.slug)
                        .join(T.bindings, T.bindings.c.deployment_id == T.deployments.c.id)
                        .where(T.bindings.c.provider_id == provider_id)
                    )
                )
                .scalars()
                .all()
            )
            if used:
                raise E("provider_in_use", provider_id=provider_id, deployments=sorted(set(used)))
            await conn.execute(T.providers.delete().where(T.providers.c.id == provider_id))

    async def _check(self, row: Mapping[str, Any]) -> P.CheckResult:
        fam = P.FAMILIES[row["provider_key"]]
        secrets = await self.resolve_secrets(row)
        return await P.check_provider(
            fam, row["endpoint_url"], secrets, row["config"] or {}, self.settings.genai_provider_timeout_s
        )

    async def validate_provider(self, provider_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = await self._provider(conn, provider_id)
            mode = await self.mode(conn)
        fam = P.FAMILIES[row["provider_key"]]
        if fam.provider_origin == "cloud" and mode != "online":
            raise E("offline_provider_blocked", provider=row["slug"], capability=fam.capability)
        result = await self._check(row)
        report = msgspec.to_builtins(result)
        async with self.write() as conn:
            await conn.execute(
                T.providers.update().where(T.providers.c.id == provider_id).values(last_validation=report)
            )
        row["last_validation"] = report
        return {"provider": self.provider_view(row), "validation": report}

    # ---- the loaded-model slot ------------------------------------------------------------------

    @staticmethod
    def runtime_model_candidates(model: Mapping[str, Any]) -> list[str]:
        meta = model.get("metadata") or {}
        names = [meta.get("runtime_model_id"), model.get("provider_model_id"), model.get("name")]
        if model.get("local_path"):
            names.append(os.path.basename(str(model["local_path"]).rstrip("/")))
        names.append(model.get("source_id"))
        return [str(n) for n in names if n]

    async def _model(self, conn: Any, model_id: str) -> dict[str, Any]:
        row = _row((await conn.execute(sa.select(S.models).where(S.models.c.id == model_id))).first())
        if row is None:
            raise E("binding_model_not_found", model_id=model_id)
        return row

    async def _runtime_call(self, row: Mapping[str, Any], path: str, payload: dict[str, Any]) -> list[str]:
        """POST to the runtime's model controller (llama.cpp router-mode ``/models/load`` and
        ``/models/unload``), then read back what it advertises through ``GET /v1/models``."""
        import httpx

        from ridgeline.ai.providers import ProviderError

        secrets = await self.resolve_secrets(row)
        headers = {"authorization": f"Bearer {secrets['api_key']}"} if "api_key" in secrets else {}
        root = P.server_root(row["endpoint_url"])
        timeout = self.settings.genai_provider_timeout_s
        try:
            async with P._http(timeout) as client:
                r = await client.post(root + path, json=payload, headers=headers)
            if r.status_code >= 400:
                raise E("provider_unreachable", provider=row["slug"], detail=f"POST {path}: {r.status_code}")
            return await P.list_openai_models(row["endpoint_url"], secrets.get("api_key"), timeout)
        except httpx.HTTPError as exc:
            raise E("provider_unreachable", provider=row["slug"], detail=P._describe(exc)) from None
        except ProviderError as exc:
            raise E(
                "provider_unreachable", provider=row["slug"], detail=f"{exc.reason_code}: {exc}"[:300]
            ) from None

    async def set_loaded_model(self, provider_id: str, model_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = await self._provider(conn, provider_id)
            model = await self._model(conn, model_id)
        fam = P.FAMILIES[row["provider_key"]]
        if not fam.loaded_model_slot:
            raise E("provider_slot_unsupported", provider=row["slug"])
        if model["task"] != fam.capability:
            raise E(
                "model_capability_mismatch", model_id=model_id, task=model["task"], capability=fam.capability
            )
        candidates = self.runtime_model_candidates(model)
        runtime_id = candidates[0] if candidates else model_id
        if (
            row["loaded_state"] == "loaded"
            and row["loaded_runtime_model_id"]
            and row["loaded_runtime_model_id"] != runtime_id
        ):
            await self._runtime_call(row, "/models/unload", {"model": row["loaded_runtime_model_id"]})
        advertised = await self._runtime_call(row, "/models/load", {"model": runtime_id})
        if runtime_id not in advertised:
            raise E("provider_unreachable", provider=row["slug"],
                    detail=f"runtime does not advertise {runtime_id} after loading (has {advertised[:10]})")  # fmt: skip
        changes = {"loaded_model_id": model_id, "loaded_runtime_model_id": runtime_id, "loaded_state": "loaded",
                   "loaded_at": P.now(), "updated_at": P.now()}  # fmt: skip
        async with self.write() as conn:
            await conn.execute(T.providers.update().where(T.providers.c.id == provider_id).values(**changes))
        row.update(changes)
        return {"provider": self.provider_view(row), "advertised_models": advertised}

    async def clear_loaded_model(self, provider_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            row = await self._provider(conn, provider_id)
        fam = P.FAMILIES[row["provider_key"]]
        if not fam.loaded_model_slot:
            raise E("provider_slot_unsupported", provider=row["slug"])
        advertised: list[str] = []
        if row["loaded_runtime_model_id"]:
            advertised = await self._runtime_call(
                row, "/models/unload", {"model": row["loaded_runtime_model_id"]}
            )
        changes = {"loaded_model_id": None, "loaded_runtime_model_id": None, "loaded_state": "empty",
                   "loaded_at": None, "updated_at": P.now()}  # fmt: skip
        async with self.write() as conn:
            await conn.execute(T.providers.update().where(T.providers.c.id == provider_id).values(**changes))
        row.update(changes)
        return {"provider": self.provider_view(row), "advertised_models": advertised}

    # ---- deployments and bindings --------------------------------------------------------------

    async def _active_deployment(self, conn: Any) -> dict[str, Any] | None:
        return _row(
            (await conn.execute(sa.select(T.deployments).where(T.deployments.c.is_active.is_(True)))).first()
        )

    async def _deployment(self, conn: Any, deployment_id: str) -> dict[str, Any]:
        row = _row(
            (await conn.execute(sa.select(T.deployments).where(T.deployments.c.id == deployment_id))).first()
        )
        if row is None:
            raise E("deployment_not_found", deployment_id=deployment_id)
        return row

    async def _bindings(self, conn: Any, deployment_id: str) -> list[dict[str, Any]]:
        rows = (
            await conn.execute(sa.select(T.bindings).where(T.bindings.c.deployment_id == deployment_id))
        ).all()
        order = list(P.CAPABILITIES)
        return sorted((dict(r._mapping) for r in rows), key=lambda b: order.index(b["capability"]))

    async def _check_binding(self, conn: Any, capability: str, b: BindingIn) -> dict[str, Any] | None:
        """The binding as stored, after the save-time rules; ``None`` clears an optional capability."""
        if capability not in P.CAPABILITIES:
            raise E("capability_not_found", capability=capability)
        if b.provider_id is None:
            if P.CAPABILITIES[capability]["required"]:
                raise E("binding_provider_required", capability=capability)
            if b.resources:
                raise E("binding_resource_invalid", detail="resources need a provider")
            return None
        prov = await self._provider(conn, b.provider_id)
        if prov["capability"] != capability:
            raise E("binding_provider_mismatch", provider_id=b.provider_id,
                    provider_capability=prov["capability"], capability=capability)  # fmt: skip
        resources: list[dict[str, Any]] = []
        for r in b.resources:
            if r.ref_type not in REF_TYPES[capability]:
                raise E("binding_resource_invalid",
                        detail=f"{capability} resources take ref_type {list(REF_TYPES[capability])}, not {r.ref_type!r}")  # fmt: skip
            resources.append(await self._check_resource(conn, capability, prov, r))
        ids = [r["id"] for r in resources]
        if len(set(ids)) != len(ids):
            raise E("binding_resource_invalid", detail="a resource is listed twice")
        if b.default_resource_id is not None and b.default_resource_id not in ids:
            raise E(
                "binding_resource_invalid",
                detail=f"default_resource_id {b.default_resource_id!r} is not a bound resource",
            )
        return {"capability": capability, "provider_id": prov["id"], "resources": resources,
                "default_resource_id": b.default_resource_id, "config": b.config}  # fmt: skip

    async def _check_resource(
        self, conn: Any, capability: str, prov: Mapping[str, Any], r: ResourceIn
    ) -> dict[str, Any]:
        if r.ref_type == "managed_model":
            if not r.id:
                raise E("binding_resource_invalid", detail="a managed_model resource needs its id")
            model = await self._model(conn, r.id)
            if model["task"] != capability:
                raise E("model_capability_mismatch", model_id=r.id, task=model["task"], capability=capability)
            bindable = (
                await conn.execute(sa.select(S.models.c.id).where(S.models.c.id == r.id, S.BINDABLE_MODEL))
            ).first()
            if bindable is None:
                raise E("model_not_bindable", model_id=r.id)
            return {"id": r.id, "ref_type": "managed_model", "managed_model_id": r.id, "name": model["name"],
                    "origin": model["origin"], "provider_model_id": model["provider_model_id"],
                    "metadata": r.metadata}  # fmt: skip
        if r.ref_type == "builtin_model":
            builtin = BUILTIN_MODELS.get(prov["provider_key"])
            if builtin is None or r.id != builtin:
                raise E("binding_resource_invalid",
                        detail=f"builtin_model resources exist only on embedded providers ({sorted(BUILTIN_MODELS.values())})")  # fmt: skip
            return {"id": builtin, "ref_type": "builtin_model", "name": builtin, "origin": "local",
                    "provider_model_id": builtin, "metadata": r.metadata}  # fmt: skip
        if r.ref_type == "knowledge_base":
            # Knowledge-base records arrive with part 2 (context management); until then the resource
            # names its backing provider instance, and it must be this deployment's vector_store provider.
            if not r.knowledge_base_id or not r.provider_resource_id or not r.provider_instance_id:
                raise E("binding_resource_invalid",
                        detail="a knowledge_base resource needs knowledge_base_id, provider_resource_id and provider_instance_id")  # fmt: skip
            if r.provider_instance_id != prov["id"]:
                raise E("knowledge_base_provider_mismatch", knowledge_base_id=r.knowledge_base_id,
                        kb_provider_id=r.provider_instance_id, provider_id=prov["id"])  # fmt: skip
            # a managed knowledge base (context management) must also be active and ready, on this provider
            from ridgeline.genai.context.service import eligible, managed_knowledge_base

            kb = await managed_knowledge_base(conn, r.knowledge_base_id)
            if kb is not None and kb["provider_instance_id"] != prov["id"]:
                raise E("knowledge_base_provider_mismatch", knowledge_base_id=r.knowledge_base_id,
                        kb_provider_id=kb["provider_instance_id"], provider_id=prov["id"])  # fmt: skip
            if kb is not None and r.provider_resource_id != kb["index_name"]:
                raise E(
                    "binding_resource_invalid",
                    detail=f"knowledge base {kb['id']} has index {kb['index_name']}",
                )
            if kb is not None and not eligible(kb):
                raise E("knowledge_base_not_ready", knowledge_base_id=kb["id"],
                        state=f"{kb['lifecycle_state']}, {kb['sync_state']}")  # fmt: skip
            if r.id is not None and r.id != r.knowledge_base_id:
                raise E(
                    "binding_resource_invalid",
                    detail="a knowledge_base resource's id is its knowledge_base_id",
                )
            return {"id": r.knowledge_base_id, "ref_type": "knowledge_base", "knowledge_base_id": r.knowledge_base_id,
                    "provider_resource_id": r.provider_resource_id, "provider_instance_id": r.provider_instance_id,
                    "metadata": r.metadata}  # fmt: skip
        if not r.id:
            raise E("binding_resource_invalid", detail="a connection_profile resource needs its id")
        return {"id": r.id, "ref_type": "connection_profile", "metadata": r.metadata}

    async def _write_binding(
        self, conn: Any, deployment_id: str, capability: str, b: dict[str, Any] | None
    ) -> None:
        await conn.execute(
            T.bindings.delete().where(
                T.bindings.c.deployment_id == deployment_id, T.bindings.c.capability == capability
            )
        )
        if b is not None:
            await conn.execute(
                T.bindings.insert().values(deployment_id=deployment_id, updated_at=P.now(), **b)
            )

    @staticmethod
    def binding_status(b: Mapping[str, Any], prov: Mapping[str, Any]) -> dict[str, Any]:
        issues: list[str] = []
        if not prov["enabled"]:
            issues.append("provider_disabled")
        if b["capability"] in ("llm_inference", "embeddings", "vector_store"):
            if not b["resources"]:
                issues.append("no_resources")
            if b["default_resource_id"] is None:
                issues.append("no_default_resource")
        state = "ready" if not issues else ("mismatched" if "provider_disabled" in issues else "incomplete")
        return {"state": state, "issues": issues}

    async def _deployment_view(self, conn: Any, dep: Mapping[str, Any]) -> dict[str, Any]:
        out_bindings: list[dict[str, Any]] = []
        for b in await self._bindings(conn, dep["id"]):
            prov = await self._provider(conn, b["provider_id"])
            default = next((r for r in b["resources"] if r["id"] == b["default_resource_id"]), None)
            fam = P.FAMILIES[prov["provider_key"]]
            out_bindings.append({
                "capability": b["capability"],
                "provider_id": prov["id"],
                "provider": {"id": prov["id"], "slug": prov["slug"], "provider_key": prov["provider_key"],
                             "provider_origin": fam.provider_origin, "display_name": prov["display_name"]},
                "provider_origin": fam.provider_origin,
                "resources": b["resources"],
                "default_resource_id": b["default_resource_id"],
                "default_resource": default,
                "config": b["config"] or {},
                "configuration_status": self.binding_status(b, prov),
                "updated_at": b["updated_at"],
            })  # fmt: skip
        bound = {b["capability"]: b for b in out_bindings}
        missing = [c for c in P.REQUIRED_CAPABILITIES if c not in bound]
        states = {c: b["configuration_status"]["state"] for c, b in bound.items()}
        not_ready = [c for c in P.REQUIRED_CAPABILITIES if states.get(c) not in (None, "ready")]
        state = (
            "ready"
            if not missing and not not_ready
            else ("mismatched" if "mismatched" in states.values() else "incomplete")
        )
        return {
            "id": dep["id"], "slug": dep["slug"], "display_name": dep["display_name"],
            "description": dep["description"], "is_active": dep["is_active"],
            "bindings": out_bindings,
            "configuration_status": {"state": state, "missing_capabilities": missing,
                                     "incomplete_capabilities": not_ready, "bindings": states},
            "created_at": dep["created_at"], "updated_at": dep["updated_at"],
        }  # fmt: skip

    async def list_deployments(self) -> list[dict[str, Any]]:
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(T.deployments).order_by(T.deployments.c.created_at, T.deployments.c.id)
                )
            ).all()
            return [await self._deployment_view(conn, r._mapping) for r in rows]

    async def get_deployment(self, deployment_id: str) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            return await self._deployment_view(conn, await self._deployment(conn, deployment_id))

    async def _slug_free(self, conn: Any, slug: str, but: str | None = None) -> None:
        q = sa.select(T.deployments.c.id).where(T.deployments.c.slug == slug)
        if but is not None:
            q = q.where(T.deployments.c.id != but)
        if (await conn.execute(q)).first():
            raise E("deployment_slug_taken", slug=slug)

    async def create_deployment(self, slug: str, display_name: str | None, description: str | None,
                                bindings: Mapping[str, BindingIn]) -> dict[str, Any]:  # fmt: skip
        did = _id()
        now = P.now()
        async with self.write() as conn:
            await self._slug_free(conn, slug)
            checked = await self._check_all(conn, bindings)
            await conn.execute(T.deployments.insert().values(
                id=did, slug=slug, display_name=display_name or slug, description=description or "",
                is_active=False, created_at=now, updated_at=now))  # fmt: skip
            for cap, b in checked.items():
                await self._write_binding(conn, did, cap, b)
        return await self.get_deployment(did)

    async def _check_all(
        self, conn: Any, bindings: Mapping[str, BindingIn]
    ) -> dict[str, dict[str, Any] | None]:
        for cap in bindings:
            if cap not in P.CAPABILITIES:
                raise E("capability_not_found", capability=cap)
        for cap in P.REQUIRED_CAPABILITIES:
            if cap not in bindings or bindings[cap].provider_id is None:
                raise E("binding_provider_required", capability=cap)
        return {cap: await self._check_binding(conn, cap, b) for cap, b in bindings.items()}

    async def replace_deployment(self, deployment_id: str, slug: str, display_name: str | None,
                                 description: str | None, bindings: Mapping[str, BindingIn]) -> dict[str, Any]:  # fmt: skip
        async with self.write() as conn:
            dep = await self._deployment(conn, deployment_id)
            await self._slug_free(conn, slug, but=deployment_id)
            checked = await self._check_all(conn, bindings)
            await self._guard_active_offline(conn, dep, checked)
            await conn.execute(T.deployments.update().where(T.deployments.c.id == deployment_id).values(
                slug=slug, display_name=display_name or slug, description=description or "", updated_at=P.now()))  # fmt: skip
            for cap in P.CAPABILITIES:
                await self._write_binding(conn, deployment_id, cap, checked.get(cap))
        return await self.get_deployment(deployment_id)

    async def patch_deployment(self, deployment_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        async with self.write() as conn:
            await self._deployment(conn, deployment_id)
            values = {
                k: v
                for k, v in changes.items()
                if k in ("slug", "display_name", "description") and v is not None
            }
            if "slug" in values:
                await self._slug_free(conn, values["slug"], but=deployment_id)
            await conn.execute(T.deployments.update().where(T.deployments.c.id == deployment_id).values(
                updated_at=P.now(), **values))  # fmt: skip
        return await self.get_deployment(deployment_id)

    async def _guard_active_offline(
        self, conn: Any, dep: Mapping[str, Any], checked: Mapping[str, Any]
    ) -> None:
        """An active deployment cannot gain a cloud binding while offline (it would be dispatched)."""
        if not dep["is_active"] or await self.mode(conn) == "online":
            return
        for cap, b in checked.items():
            if b is not None:
                prov = await self._provider(conn, b["provider_id"])
                if P.FAMILIES[prov["provider_key"]].provider_origin == "cloud":
                    raise E("offline_provider_blocked", provider=prov["slug"], capability=cap)

    async def put_binding(self, deployment_id: str, capability: str, b: BindingIn) -> dict[str, Any]:
        async with self.write() as conn:
            dep = await self._deployment(conn, deployment_id)
            checked = await self._check_binding(conn, capability, b)
            await self._guard_active_offline(conn, dep, {capability: checked})
            await self._write_binding(conn, deployment_id, capability, checked)
            await conn.execute(
                T.deployments.update().where(T.deployments.c.id == deployment_id).values(updated_at=P.now())
            )
        return await self.get_deployment(deployment_id)

    async def clone_deployment(self, deployment_id: str, slug: str, display_name: str | None,
                               description: str | None) -> dict[str, Any]:  # fmt: skip
        did = _id()
        now = P.now()
        async with self.write() as conn:
            dep = await self._deployment(conn, deployment_id)
            await self._slug_free(conn, slug)
            await conn.execute(T.deployments.insert().values(
                id=did, slug=slug, display_name=display_name or f"{dep['display_name']} (copy)",
                description=dep["description"] if description is None else description,
                is_active=False, created_at=now, updated_at=now))  # fmt: skip
            for b in await self._bindings(conn, deployment_id):
                await conn.execute(T.bindings.insert().values(
                    deployment_id=did, capability=b["capability"], provider_id=b["provider_id"],
                    resources=b["resources"], default_resource_id=b["default_resource_id"],
                    config=b["config"], updated_at=now))  # fmt: skip
        return await self.get_deployment(did)

    async def delete_deployment(self, deployment_id: str) -> None:
        async with self.write() as conn:
            dep = await self._deployment(conn, deployment_id)
            if dep["is_active"]:
                raise E("deployment_active", deployment_id=deployment_id)
            await conn.execute(T.bindings.delete().where(T.bindings.c.deployment_id == deployment_id))
            await conn.execute(T.deployments.delete().where(T.deployments.c.id == deployment_id))

    async def activate(self, deployment_id: str, actor: str | None) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            dep = await self._deployment(conn, deployment_id)
            mode = await self.mode(conn)
            rows = [
                (b, await self._provider(conn, b["provider_id"]))
                for b in await self._bindings(conn, deployment_id)
            ]
            view = await self._deployment_view(conn, dep)
        missing = [c for c in P.REQUIRED_CAPABILITIES if c not in {b["capability"] for b, _ in rows}]
        if missing:
            raise E("binding_provider_required", capability=missing[0])
        if mode != "online":
            for b, prov in rows:
                if P.FAMILIES[prov["provider_key"]].provider_origin == "cloud":
                    raise E("offline_provider_blocked", provider=prov["slug"], capability=b["capability"],
                            deployment_id=deployment_id)  # fmt: skip
        results = await asyncio.gather(*(self._check(prov) for _, prov in rows))
        preflight = [
            {"capability": b["capability"], "provider_id": prov["id"], "provider": prov["slug"],
             **msgspec.to_builtins(res)} | ({"status": "failure", "detail": "provider is disabled"} if not prov["enabled"] else {})
            for (b, prov), res in zip(rows, results, strict=True)
        ]  # fmt: skip
        failed = [p for p in preflight if p["status"] != "success"]
        if failed:
            raise E("deployment_preflight_failed", deployment_id=deployment_id,
                    detail="; ".join(f"{p['capability']} ({p['provider']}): {p['detail']}" for p in failed),
                    preflight=preflight)  # fmt: skip
        now = P.now()
        async with self.write() as conn:
            previous = await self._active_deployment(conn)
            await conn.execute(
                T.deployments.update().where(T.deployments.c.is_active.is_(True)).values(is_active=False)
            )
            await conn.execute(
                T.deployments.update()
                .where(T.deployments.c.id == deployment_id)
                .values(is_active=True, updated_at=now)
            )
            await conn.execute(T.activation_audit.insert().values(
                id=_id(), deployment_id=deployment_id, deployment_slug=dep["slug"],
                previous_deployment_id=previous["id"] if previous else None, activated_by=actor,
                runtime_mode=mode, preflight={"providers": preflight},
                configuration_status=view["configuration_status"], activated_at=now))  # fmt: skip
        return {"deployment": await self.get_deployment(deployment_id), "preflight": preflight}

    async def activation_audit(self, limit: int, offset: int) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(T.activation_audit))
            ).scalar() or 0
            rows = (await conn.execute(
                sa.select(T.activation_audit).order_by(T.activation_audit.c.activated_at.desc(), T.activation_audit.c.id)
                .limit(limit).offset(offset))).all()  # fmt: skip
        return {
            "items": [dict(r._mapping) for r in rows],
            "total": int(total),
            "limit": limit,
            "offset": offset,
        }

    # ---- runtime resolution and dispatch -------------------------------------------------------------

    async def active(self, capability: str) -> Active:
        """The active binding of ``capability``; fail-closed for cloud providers while offline.

        This is on every dispatch, so the resolution is cached per worker and keyed by the
        ``genai_platform_version`` counter that every control-plane write bumps (:meth:`write`). The
        counter is re-read at most every ``GENAI_RESOLUTION_RECHECK_S`` seconds (0 = on every call):
        a write in this worker drops the cache at once, one in another worker is seen within that
        interval. The offline and disabled guards run on every call, on the cached rows. An entry is
        also re-read after ``_MAX_CACHE_AGE_S`` whatever the counter says: a bound on staleness for a
        writer that bypasses :meth:`write`."""
        recheck = self.settings.genai_resolution_recheck_s
        now = time.monotonic()
        hit = self._active.get(capability)
        if hit is None or now - self._checked_at >= recheck:
            if hit is not None:
                # one re-check at a time: concurrent requests keep the cached rows meanwhile
                self._checked_at = now
            try:
                async with self.db.engine.connect() as conn:
                    version = (await conn.execute(_VERSION_Q)).scalar()
                    if version is None or version != self._version:
                        self._active.clear()
                        self._version = version
                    hit = self._active.get(capability)
                    if hit is None or now - self._resolved_at.get(capability, now) > _MAX_CACHE_AGE_S:
                        hit = await self._resolve(conn, capability)
                        if version is not None:
                            self._active[capability] = hit
                            self._resolved_at[capability] = now
            except BaseException:
                self._checked_at = float("-inf")
                raise
            self._checked_at = now if version is not None else float("-inf")
        return self._guard(hit)

    @staticmethod
    def _guard(a: Active) -> Active:
        if a.family.provider_origin == "cloud" and a.mode != "online":
            raise E(
                "offline_provider_blocked", provider=a.provider["slug"], capability=a.binding["capability"]
            )
        if not a.provider["enabled"]:
            raise E("provider_unreachable", provider=a.provider["slug"], detail="the provider is disabled")
        return a

    async def _resolve(self, conn: Any, capability: str) -> Active:
        """Deployment, binding, provider and mode in one statement."""
        d, b, p = T.deployments, T.bindings, T.providers
        mode_q = (
            sa.select(T.runtime_profile.c.mode).where(T.runtime_profile.c.key == "global").scalar_subquery()
        )
        cols = [*(c.label(f"d_{c.name}") for c in d.c), *(c.label(f"b_{c.name}") for c in b.c),
                *(c.label(f"p_{c.name}") for c in p.c), mode_q.label("mode")]  # fmt: skip
        q = (
            sa.select(*cols)
            .select_from(
                d.outerjoin(b, sa.and_(b.c.deployment_id == d.c.id, b.c.capability == capability)).outerjoin(
                    p, p.c.id == b.c.provider_id
                )
            )
            .where(d.c.is_active.is_(True))
        )
        row = (await conn.execute(q)).first()
        if row is None:
            raise E("no_active_deployment")
        m = row._mapping
        if m["b_capability"] is None:
            raise E("capability_not_bound", capability=capability)
        dep = {c.name: m[f"d_{c.name}"] for c in d.c}
        bind = {c.name: m[f"b_{c.name}"] for c in b.c}
        prov = {c.name: m[f"p_{c.name}"] for c in p.c}
        return Active(dep, bind, prov, P.FAMILIES[prov["provider_key"]], m["mode"] or "online")

    @staticmethod
    def pick_resource(a: Active, requested: str | None) -> dict[str, Any]:
        """Active-binding membership: a requested id must be bound; none means the binding default."""
        cap = a.binding["capability"]
        rid = requested if requested is not None else a.binding["default_resource_id"]
        if rid is None:
            raise E("binding_default_missing", capability=cap)
        for r in a.binding["resources"]:
            if r["id"] == rid:
                return r
        raise E("model_not_in_binding", model=rid, capability=cap)

    async def _client(self, a: Active) -> Any:
        """A cached OpenAI-compatible client per provider version (its secrets opened at build time)."""
        from ridgeline.ai.providers import RetryPolicy

        key = (a.provider["id"], a.provider["updated_at"])
        hit = self._clients.get(key)
        if hit is not None and time.monotonic() - hit[0] < _CLIENT_TTL_S:
            return hit[1]
        secrets = await self.resolve_secrets(a.provider)
        client = LeanOpenAIProvider(
            P.openai_base(a.provider["endpoint_url"]), api_key=secrets.get("api_key"),
            timeout=self.settings.genai_provider_timeout_s, retry=RetryPolicy(max_attempts=2),
            transport=self._transport,
        )  # fmt: skip
        for k in [k for k in self._clients if k[0] == key[0]]:
            _, old = self._clients.pop(k)
            await old.aclose()
        self._clients[key] = (time.monotonic(), client)
        return client

    async def runtime_model_id(self, a: Active, resource: Mapping[str, Any]) -> str:
        """Cloud models resolve through provider_model_id; local ones by matching the provider's
        ``/v1/models`` inventory against the managed model's metadata (the loaded slot first)."""
        if resource["ref_type"] == "builtin_model" or a.family.provider_origin == "cloud":
            return resource.get("provider_model_id") or resource.get("name") or resource["id"]
        if a.provider["loaded_model_id"] == resource["id"] and a.provider["loaded_runtime_model_id"]:
            return a.provider["loaded_runtime_model_id"]
        key = (a.provider["id"], a.provider["updated_at"], resource["id"])
        if key in self._runtime_ids:
            return self._runtime_ids[key]
        async with self.db.engine.connect() as conn:
            model = await self._model(conn, resource["id"])
        client = await self._client(a)
        try:
            advertised = {m.id for m in await client.list_models()}
        except Exception as exc:
            raise E("provider_upstream_error", provider=a.provider["slug"], detail=str(exc)[:300]) from None
        for name in self.runtime_model_candidates(model):
            if name in advertised:
                self._runtime_ids[key] = name
                return name
        raise E("runtime_model_unavailable", provider=a.provider["slug"], model_id=resource["id"])

    async def chat(
        self, messages: Sequence[Any], model: str | None, *, authorize: Any = None, **options: Any
    ) -> dict[str, Any]:
        """``authorize(active, resource)``, when given, is awaited once the model is resolved and
        before anything is sent (the policy rules' ``model.inference`` check)."""
        from ridgeline.ai.providers import ExtractiveProvider, ProviderError

        a = await self.active("llm_inference")
        resource = self.pick_resource(a, model)
        if authorize is not None:
            await authorize(a, resource)
        runtime_id = await self.runtime_model_id(a, resource)
        try:
            if a.family.adapter == "extractive_chat":
                resp = await ExtractiveProvider().chat(messages, **options)
            else:
                resp = await (await self._client(a)).chat(messages, model=runtime_id, **options)
        except ProviderError as exc:
            raise E(
                "provider_upstream_error",
                provider=a.provider["slug"],
                detail=f"{exc.reason_code}: {exc}"[:300],
            ) from None
        return {
            "model": resource["id"], "runtime_model_id": runtime_id,
            "provider": {"id": a.provider["id"], "slug": a.provider["slug"], "provider_key": a.family.key,
                         "provider_origin": a.family.provider_origin},
            "deployment_id": a.deployment["id"], "response": resp,
        }  # fmt: skip

    async def embed(self, texts: Sequence[str], model: str | None) -> dict[str, Any]:
        from ridgeline.ai.providers import ProviderError

        a = await self.active("embeddings")
        resource = self.pick_resource(a, model)
        runtime_id = await self.runtime_model_id(a, resource)
        try:
            if a.family.adapter == "local_embeddings":
                from ridgeline.ai import Embedder

                emb = await asyncio.to_thread(Embedder.local)
                vectors = await asyncio.to_thread(emb.embed, list(texts))
            else:
                vectors = (await (await self._client(a)).embed(list(texts), model=runtime_id)).array()
        except ProviderError as exc:
            raise E(
                "provider_upstream_error",
                provider=a.provider["slug"],
                detail=f"{exc.reason_code}: {exc}"[:300],
            ) from None
        except Exception as exc:  # EmbeddingModelError: the bundled model is missing
            if getattr(exc, "reason_code", None):
                raise E(
                    "provider_upstream_error", provider=a.provider["slug"], detail=str(exc)[:300]
                ) from None
            raise
        return {"active": a, "model": resource["id"], "runtime_model_id": runtime_id, "vectors": vectors}

    # ---- vector store ---------------------------------------------------------------------------

    def pick_index(self, a: Active, index_name: str | None) -> str:
        resources = a.binding["resources"]
        if index_name is None:
            default = next((r for r in resources if r["id"] == a.binding["default_resource_id"]), None)
            if default is None:
                raise E("binding_default_missing", capability="vector_store")
            return default["provider_resource_id"]
        if not any(r.get("provider_resource_id") == index_name for r in resources):
            raise E("index_not_bound", index_name=index_name)
        return index_name

    async def _embedded_vectors(self) -> Any:
        async with self._lock:
            if self._vectors is None:
                from ridgeline.platform.vectors import VectorCollections

                vc = VectorCollections(self.db)
                await vc.setup()
                self._vectors = vc
        return self._vectors

    async def vector_store(self, a: Active, index: str, dim: int, metric: str = "cosine") -> Any:
        """An external store (Weaviate/Qdrant) for ``index``; its constructor creates the collection."""
        secrets = await self.resolve_secrets(a.provider)
        url = a.provider["endpoint_url"]
        timeout = self.settings.genai_provider_timeout_s
        if a.family.adapter == "weaviate":
            from ridgeline.ai.vectors.weaviate import WeaviateStore

            return await asyncio.to_thread(
                WeaviateStore, url, index, dim, metric, api_key=secrets.get("api_key"), timeout=timeout
            )
        from ridgeline.ai.vectors.qdrant import QdrantStore

        return await asyncio.to_thread(
            QdrantStore, index, dim, metric, url=url, api_key=secrets.get("api_key")
        )


async def platform_runtime_snapshot(svc: Any, *, include_secrets: bool = False) -> dict[str, Any]:
    """The execution-scoped ``platform_runtime`` an agent engine receives: for each capability the
    active deployment binds, its provider, binding resources, ``default_resource_id``,
    ``default_resource`` and ``resource_policy``; ``capabilities.mcp_runtime`` and
    ``capabilities.sandbox_execution`` when bound. Cloud bindings while offline raise 409
    ``offline_provider_blocked`` (active runtime resolution is fail-closed).

    ``svc`` is the :class:`PlatformService` (or anything with ``ctx.service(PlatformService)``).
    ``include_secrets=True`` adds each provider's opened secrets under ``provider.secrets``: for the
    internal dispatch call to the agent engine only, never for a client response.
    """
    if not isinstance(svc, PlatformService):
        svc = svc.ctx.service(PlatformService)
    async with svc.db.engine.connect() as conn:
        dep = await svc._active_deployment(conn)
        if dep is None:
            raise E("no_active_deployment")
        mode = await svc.mode(conn)
        rows = [
            (b, await svc._provider(conn, b["provider_id"])) for b in await svc._bindings(conn, dep["id"])
        ]
    caps: dict[str, Any] = {}
    for b, prov in rows:
        fam = P.FAMILIES[prov["provider_key"]]
        if fam.provider_origin == "cloud" and mode != "online":
            raise E("offline_provider_blocked", provider=prov["slug"], capability=b["capability"])
        default = next((r for r in b["resources"] if r["id"] == b["default_resource_id"]), None)
        provider: dict[str, Any] = {
            "id": prov["id"], "slug": prov["slug"], "provider_key": fam.key, "provider_origin": fam.provider_origin,
            "adapter": fam.adapter, "endpoint_url": prov["endpoint_url"], "config": prov["config"] or {},
            "loaded_managed_model_id": prov["loaded_model_id"], "loaded_runtime_model_id": prov["loaded_runtime_model_id"],
        }  # fmt: skip
        if fam.adapter == "openai_compatible" and prov["endpoint_url"]:
            provider["openai_base_url"] = P.openai_base(prov["endpoint_url"])
        if fam.adapter == "mcp" and prov["endpoint_url"]:
            provider["mcp_url"] = P.mcp_url(prov["endpoint_url"])
        if fam.adapter == "sandbox_http" and prov["endpoint_url"]:
            provider["execute_url"] = prov["endpoint_url"].rstrip("/") + P.SANDBOX_EXECUTE_PATH
        if include_secrets:
            provider["secrets"] = await svc.resolve_secrets(prov)
        caps[b["capability"]] = {
            "capability": b["capability"], "provider": provider, "resources": b["resources"],
            "default_resource_id": b["default_resource_id"], "default_resource": default,
            "resource_policy": {"mode": "allow_listed", "allowed_resource_ids": [r["id"] for r in b["resources"]],
                                "default_resource_id": b["default_resource_id"],
                                "on_omitted": "binding_default", "on_unlisted": "reject"},
            "config": b["config"] or {},
        }  # fmt: skip
    return {"deployment": {"id": dep["id"], "slug": dep["slug"], "display_name": dep["display_name"]},
            "runtime_mode": mode, "capabilities": caps}  # fmt: skip


async def _model_binding_rows(conn: Any, model_id: str) -> list[dict[str, Any]]:
    """The deployment bindings whose resources list ModelOps model ``model_id``."""
    d, b = T.deployments, T.bindings
    rows = (
        await conn.execute(
            sa.select(d.c.id, d.c.slug, d.c.is_active, b.c.capability, b.c.resources, b.c.default_resource_id)
            .join(b, b.c.deployment_id == d.c.id)
            .order_by(d.c.slug, b.c.capability)
        )
    ).all()
    return [
        {"deployment_id": r.id, "deployment_slug": r.slug, "is_active": r.is_active, "capability": r.capability,
         "is_default": r.default_resource_id == model_id}
        for r in rows
        if any(res.get("ref_type") == "managed_model" and res.get("id") == model_id for res in r.resources or [])
    ]  # fmt: skip


async def model_bindings(db: Any, model_id: str) -> dict[str, Any]:
    """Where a ModelOps model is used by the control plane (for ModelOps' usage and its "refused
    while bound" delete): the deployment bindings that list it and the provider slots that hold it."""
    p = T.providers
    async with db.engine.connect() as conn:
        bindings = await _model_binding_rows(conn, model_id)
        slots = (
            await conn.execute(
                sa.select(p.c.id, p.c.slug, p.c.loaded_state).where(p.c.loaded_model_id == model_id)
            )
        ).all()
    return {
        "bindings": bindings,
        "loaded_in": [{"provider_id": s.id, "provider_slug": s.slug, "state": s.loaded_state} for s in slots],
        "bound": bool(bindings),
    }


def install_modelops_hooks(svc: PlatformService) -> None:
    """Wire ModelOps' view of the control plane (:data:`ridgeline.genai.modelops_runtimes.HOOKS`) to
    this service's tables: provider instances with their slot, the bindings that list a model, the
    providers whose secret refs name a credential, and the runtime profile."""
    from ridgeline.genai import modelops_runtimes as MR

    async def list_providers(conn: Any) -> list[MR.RuntimeProvider]:
        rows = (await conn.execute(sa.select(T.providers).order_by(T.providers.c.slug))).mappings().all()
        out = []
        for r in rows:
            fam = P.FAMILIES.get(r["provider_key"])
            try:
                secrets = await svc.resolve_secrets(r)
            except Exception:  # an unresolvable ref: the provider is listed, without a key
                secrets = {}
            out.append(
                MR.RuntimeProvider(
                    id=r["id"],
                    slug=r["slug"],
                    provider_family=r["provider_key"],
                    capability=r["capability"],
                    origin=fam.provider_origin if fam is not None else "local",
                    base_url=r["endpoint_url"],
                    enabled=bool(r["enabled"]),
                    display_name=r["display_name"],
                    loaded_model_id=r["loaded_model_id"],
                    api_key=secrets.get("api_key"),
                )
            )
        return out

    async def bindings_of(conn: Any, model_id: str) -> list[dict[str, Any]]:
        keys = ("deployment_id", "deployment_slug", "capability", "is_default")  # ModelOps' shape
        return [{k: b[k] for k in keys} for b in await _model_binding_rows(conn, model_id)]

    async def credential_referenced(conn: Any, credential_id: str) -> bool:
        ref = CREDENTIAL_REF + credential_id
        rows = (
            await conn.execute(
                sa.select(T.providers.c.id, T.providers.c.secret_refs_sealed).where(
                    T.providers.c.secret_refs_sealed.is_not(None)
                )
            )
        ).all()
        return any(ref in svc.secret_refs(r._mapping).values() for r in rows)

    async def runtime_offline(conn: Any) -> bool:
        return (await svc.mode(conn)) != "online"

    MR.HOOKS.list_providers = list_providers
    MR.HOOKS.bindings_of = bindings_of
    MR.HOOKS.credential_referenced = credential_referenced
    MR.HOOKS.runtime_offline = runtime_offline
