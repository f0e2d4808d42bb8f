"""Typed ModelOps responses (msgspec Structs), so the OpenAPI document gives each route a specific
response schema instead of a generic object. The handlers still build their views as dicts
(``model_view``, ``credential_view``, the download view) and convert them here on the way out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

T = TypeVar("T")


class ModelView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    task: str
    origin: str
    provider_family: str | None = None
    provider_model_id: str | None = None
    source: str
    source_id: str | None = None
    local_path: str | None = None
    credential_id: str | None = None
    lifecycle_state: str
    is_validation_current: bool
    last_validation_status: str | None = None
    last_validated_at: datetime | None = None
    metadata: dict[str, Any] = {}
    owner_id: str | None = None
    visibility: str
    created_at: datetime
    updated_at: datetime


class ModelPage(msgspec.Struct, kw_only=True):
    items: list[ModelView]
    page: int
    page_size: int
    total: int


class Deleted(msgspec.Struct, kw_only=True):
    id: str
    deleted: bool


class CredentialView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    provider: str
    secret_masked: str
    owner_id: str | None = None
    created_at: datetime


class CreatedCredential(CredentialView, kw_only=True):
    secret_ref: str  # modelops://credential/<id>, for a provider instance's secret_refs


class CredentialList(msgspec.Struct, kw_only=True):
    items: list[CredentialView]


class DownloadFile(msgspec.Struct, kw_only=True):
    path: str
    size: int | None = None
    sha256: str | None = None
    blob_id: str | None = None
    verified: str | None = None  # sha256 | git_blob_sha1 once checked


class DownloadView(msgspec.Struct, kw_only=True):
    id: str
    job_id: str | None = None
    job_state: str | None = None
    source_id: str
    revision: str
    status: str  # queued | running | succeeded | failed | cancelled
    task: str | None = None
    bytes_total: int | None = None
    bytes_done: int
    resumed_bytes: int
    progress: float
    files: list[DownloadFile]
    source_info: dict[str, Any] = {}
    target_dir: str | None = None
    model_id: str | None = None
    error: dict[str, Any] | None = None  # {reason_code, message, ...}
    created_at: datetime
    updated_at: datetime


class DownloadPage(msgspec.Struct, kw_only=True):
    items: list[DownloadView]
    limit: int
    offset: int


def typed(value: Any, cls: type[T]) -> T:
    """``value`` (a view dict) as ``cls``; unknown keys are dropped, a missing one is a bug (500)."""
    return msgspec.convert(value, cls, from_attributes=False)


class ValidationCheck(msgspec.Struct, kw_only=True):
    name: str
    ok: bool
    detail: Any = None


class ValidationRecord(msgspec.Struct, kw_only=True):
    id: str
    model_id: str
    status: str  # success | failure
    checks: list[ValidationCheck]
    actor: str | None = None
    created_at: datetime


class Validated(msgspec.Struct, kw_only=True):
    validation: ValidationRecord
    model: ModelView


class ValidationPage(msgspec.Struct, kw_only=True):
    items: list[ValidationRecord]
    limit: int
    offset: int


class Sharing(msgspec.Struct, kw_only=True):
    model_id: str
    name: str
    visibility: str  # private | shared | public
    owner_id: str | None = None
    user_ids: list[str]
    roles: list[str]


class SharingList(msgspec.Struct, kw_only=True):
    items: list[Sharing]


# ---- tests and test runtimes -------------------------------------------------------------------


class ModelTestUsage(msgspec.Struct, kw_only=True):
    input_tokens: int
    output_tokens: int


class ModelTestOutput(msgspec.Struct, kw_only=True):
    """What a test produced: a chat test ``content``/``finish_reason``/``usage``, an embeddings
    test ``vectors``/``dimensions``, a failed one the provider's ``reason_code``. Only the fields of
    the test's kind are present (UNSET fields are left out of the JSON)."""

    content: str | UnsetType = UNSET
    finish_reason: str | UnsetType | None = UNSET
    usage: ModelTestUsage | UnsetType | None = UNSET
    vectors: int | UnsetType = UNSET
    dimensions: int | UnsetType = UNSET
    reason_code: str | UnsetType = UNSET


class ModelTestRecord(msgspec.Struct, kw_only=True):
    id: str
    model_id: str
    provider_id: str
    runtime_model_id: str | None = None
    status: str  # success | failure
    latency_ms: float | None = None
    output: ModelTestOutput
    error: str | None = None
    actor: str | None = None
    created_at: datetime


class ModelTestPage(msgspec.Struct, kw_only=True):
    items: list[ModelTestRecord]
    limit: int
    offset: int


class AdvertisedEntry(msgspec.Struct, kw_only=True):
    id: str
    object: str | None = None
    owned_by: str | None = None
    created: int | None = None
    meta: dict[str, Any] | None = None
    matches_model: bool


class RuntimeReport(msgspec.Struct, kw_only=True):
    """One compatible local runtime for a ModelOps test: its slot, what it advertises, and whether
    it serves the model right now (``reason`` says why not)."""

    provider_id: str
    provider_slug: str | None = None
    provider_family: str | None = None
    display_name: str | None = None
    capability: str
    slot_state: str  # empty | loaded
    loaded_model_id: str | None = None
    loaded_model_name: str | None = None
    slot_holds_model: bool
    reachable: bool
    runtime_error: str | None = None
    runtime_model_id: str | None = None
    advertised: list[AdvertisedEntry]
    serves_model: bool
    reason: str | None = (
        None  # slot_empty | slot_holds_other_model | runtime_unreachable | model_not_advertised
    )


class ModelTestRuntimes(msgspec.Struct, kw_only=True):
    model_id: str
    task: str
    items: list[RuntimeReport]


# ---- usage ---------------------------------------------------------------------------------------


class UsageBinding(msgspec.Struct, kw_only=True):
    deployment_id: str
    deployment_slug: str
    capability: str
    is_default: bool


class HistorySummary(msgspec.Struct, kw_only=True):
    count: int
    last_status: str | None = None
    last_at: datetime | None = None


class ModelUsage(msgspec.Struct, kw_only=True):
    model_id: str
    lifecycle_state: str
    bound: bool
    bindings: list[UsageBinding]
    tests: HistorySummary
    validations: HistorySummary
    loaded_in: list[str]  # provider ids whose loaded-model slot holds the model


# ---- catalog -------------------------------------------------------------------------------------


class CatalogEntry(msgspec.Struct, kw_only=True):
    id: str
    name: str
    task: str
    origin: str
    provider_family: str | None = None
    provider_model_id: str | None = None
    source: str
    source_id: str | None = None
    description: str
    metadata: dict[str, Any]
    builtin: bool
    created_by: str | None = None
    created_at: datetime | None = None  # None for the built-in entries


class CatalogList(msgspec.Struct, kw_only=True):
    items: list[CatalogEntry]


# ---- discovery -----------------------------------------------------------------------------------


class HubModel(msgspec.Struct, kw_only=True):
    """A hub search result (``GET /api/models``)."""

    source_id: str
    name: str
    author: str | None = None
    pipeline_tag: str | None = None
    task: str | None = None
    downloads: int | None = None
    likes: int | None = None
    tags: list[str]
    library_name: str | None = None
    gated: bool
    private: bool


class HubFile(msgspec.Struct, kw_only=True):
    path: str
    size: int | None = None
    sha256: str | None = None
    blob_id: str | None = None
    lfs: bool


class HubModelDetail(HubModel, kw_only=True):
    revision_sha: str | None = None
    license: str | None = None
    files: list[HubFile]
    total_size: int


class CachedFile(msgspec.Struct, kw_only=True):
    """A file of a model in the local cache; the hashes are present when known (a finished
    download's manifest, the bundled model's weights)."""

    path: str
    size: int | None = None
    sha256: str | UnsetType | None = UNSET
    blob_id: str | UnsetType | None = UNSET
    verified: str | UnsetType | None = UNSET


class CachedModel(msgspec.Struct, kw_only=True):
    """A model in the local cache: the AI layer's bundled model or a finished download."""

    source_id: str
    name: str
    source: str  # bundled | huggingface
    pipeline_tag: str | None = None
    task: str | None = None
    license: str | None = None
    revision: str | None = None
    local_path: str
    files: list[CachedFile]
    total_size: int


class DiscoveryRemote(msgspec.Struct, kw_only=True, tag_field="mode", tag="remote"):
    hub: str | None
    remote_disabled_reason: None = None
    items: list[HubModel]


class DiscoveryLocal(msgspec.Struct, kw_only=True, tag_field="mode", tag="local_cache"):
    hub: None = None
    remote_disabled_reason: str | None
    items: list[CachedModel]


class DiscoveredRemote(HubModelDetail, kw_only=True, tag_field="mode", tag="remote"):
    remote_disabled_reason: None = None


class DiscoveredLocal(CachedModel, kw_only=True, tag_field="mode", tag="local_cache"):
    remote_disabled_reason: str | None
