"""The genai family's tables (on the platform's shared metadata) and the queries several modules share.

Tables shared across modules are declared here once; a module that owns a table's behaviour keeps its
own queries in its own ``*_store`` module:

- ``genai_models`` / ``genai_credentials``: ModelOps (``api/modelops*.py``) owns their life cycle; the
  platform control plane (``api/platform*.py``) reads them to check bindings (only models with
  ``lifecycle_state == "active"``, ``is_validation_current`` and ``last_validation_status ==
  "success"`` may be bound) and to resolve ``modelops://credential/<id>`` secret refs.
"""

from __future__ import annotations

import sqlalchemy as sa

from ridgeline.platform.db import UTCDateTime, metadata

models = sa.Table(
    "genai_models",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    # llm_inference | embeddings (the capability the model serves)
    sa.Column("task", sa.String(32), nullable=False),
    # local (files in the managed model directory) | cloud (served by a provider under provider_model_id)
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("provider_family", sa.String(64), nullable=True),
    sa.Column("provider_model_id", sa.String(255), nullable=True),
    sa.Column("source", sa.String(32), nullable=False, server_default="manual"),  # manual|huggingface|bundled
    sa.Column("source_id", sa.String(255), nullable=True),
    sa.Column("local_path", sa.String(1024), nullable=True),
    sa.Column("credential_id", sa.String(64), nullable=True),
    # draft -> registered -> active <-> inactive; unregistered; (deleted rows are removed)
    sa.Column("lifecycle_state", sa.String(32), nullable=False, server_default="draft"),
    sa.Column("is_validation_current", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_validation_status", sa.String(32), nullable=True),  # success|failure|None
    sa.Column("last_validated_at", UTCDateTime(), nullable=True),
    sa.Column("metadata", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("owner_id", sa.String(64), nullable=True),
    sa.Column("visibility", sa.String(16), nullable=False, server_default="private"),  # private|shared|public
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

credentials = sa.Table(
    "genai_credentials",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    # sealed with ridgeline.platform.auth.secrets (AES-GCM, associated data "genai:credential:<id>")
    sa.Column("secret_sealed", sa.LargeBinary, nullable=False),
    sa.Column("secret_hint", sa.String(16), nullable=False),  # last 4 characters, for the mask
    sa.Column("owner_id", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

BINDABLE_MODEL = sa.and_(
    models.c.lifecycle_state == "active",
    models.c.is_validation_current.is_(True),
    models.c.last_validation_status == "success",
)
