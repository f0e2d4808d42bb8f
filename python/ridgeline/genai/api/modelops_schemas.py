"""Typed ModelOps responses (msgspec Structs), so the OpenAPI document gives each route a specific
response schema instead of a generic object. The handlers still build their views as dicts
(``model_view``, ``credential_view``, the download view) and convert them here on the way out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import msgspec

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
