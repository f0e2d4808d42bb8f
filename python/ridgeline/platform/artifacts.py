"""Artifact store: files under ``<data_dir>/artifacts/<namespace>/<owner_id>/<name>``, each recorded
with its SHA-256 in ``platform_artifacts``. Writes are atomic (temp file + rename) so a reader never
sees half a file, and names are confined to their folder (no path traversal).
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import sqlalchemy as sa

from ridgeline.platform.db import Database, UTCDateTime, metadata, row_to
from ridgeline.platform.hashing import sha256_file, sha256_hex
from ridgeline.platform.problems import EngineError

artifacts_table = sa.Table(
    "platform_artifacts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("namespace", sa.String(64), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("relpath", sa.String(1024), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("namespace", "owner_id", "name", name="uq_platform_artifacts_owner_name"),
)

_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class ArtifactError(ValueError):
    pass


class Artifact(msgspec.Struct, kw_only=True):
    id: str
    namespace: str
    owner_id: str
    name: str
    relpath: str
    sha256: str
    size: int
    media_type: str
    created_at: datetime


class ArtifactIntegrityError(EngineError):
    """409: the stored file is missing or no longer matches its recorded SHA-256."""

    def __init__(self, artifact: Artifact, *, reason_code: str = "artifact_integrity", missing: bool = False):
        what = "is missing" if missing else "no longer matches its recorded SHA-256"
        super().__init__(409, reason_code, f"Artifact {artifact.name} {what}.", artifact=artifact.name)
        self.artifact = artifact


def safe_part(part: str, what: str = "name") -> str:
    """Reject anything that is not a plain file or folder name (dot-dot, separators, encodings)."""
    if not _SAFE_PART.fullmatch(part) or ".." in part:
        raise ArtifactError(f"invalid artifact {what}: {part!r}")
    return part


class ArtifactStore:
    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = root.resolve()

    def path_of(self, artifact: Artifact) -> Path:
        path = (self.root / artifact.relpath).resolve()
        if not path.is_relative_to(self.root):
            raise ArtifactError("artifact path escapes the store")
        return path

    async def put(
        self,
        namespace: str,
        owner_id: str,
        name: str,
        data: bytes,
        media_type: str = "application/octet-stream",
    ) -> Artifact:
        """Write (or overwrite) one artifact and record its hash."""
        rel = Path(safe_part(namespace, "namespace")) / safe_part(owner_id, "owner") / safe_part(name)
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        art = Artifact(
            id=uuid.uuid4().hex,
            namespace=namespace,
            owner_id=owner_id,
            name=name,
            relpath=rel.as_posix(),
            sha256=sha256_hex(data),
            size=len(data),
            media_type=media_type,
            created_at=datetime.now(UTC),
        )
        t = artifacts_table
        async with self.db.begin() as conn:
            await conn.execute(
                t.delete().where(t.c.namespace == namespace, t.c.owner_id == owner_id, t.c.name == name)
            )
            await conn.execute(t.insert().values(msgspec.to_builtins(art, builtin_types=(datetime,))))
        return art

    async def list(self, namespace: str, owner_id: str) -> list[Artifact]:
        t = artifacts_table
        query = t.select().where(t.c.namespace == namespace, t.c.owner_id == owner_id).order_by(t.c.name)
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [row_to(Artifact, r) for r in rows]

    async def get(self, namespace: str, owner_id: str, name: str) -> Artifact | None:
        t = artifacts_table
        query = t.select().where(t.c.namespace == namespace, t.c.owner_id == owner_id, t.c.name == name)
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else row_to(Artifact, row)

    def read(self, artifact: Artifact) -> bytes:
        return self.path_of(artifact).read_bytes()

    def read_verified(self, artifact: Artifact, *, reason_code: str = "artifact_integrity") -> bytes:
        """The file's bytes, hashed as read: ArtifactIntegrityError (409 ``reason_code``) when the file
        is missing or differs from the recorded SHA-256. Blocking: call it off the event loop."""
        path = self.path_of(artifact)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ArtifactIntegrityError(artifact, reason_code=reason_code, missing=True) from None
        if sha256_hex(data) != artifact.sha256:
            raise ArtifactIntegrityError(artifact, reason_code=reason_code)
        return data

    def verify(self, artifact: Artifact) -> bool:
        """True when the file exists and its SHA-256 still matches the record."""
        path = self.path_of(artifact)
        return path.is_file() and sha256_file(path) == artifact.sha256
