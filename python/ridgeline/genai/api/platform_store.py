"""Tables of the genai control plane (runtime profile, provider instances, deployments, bindings,
activation audit); migration ``0011_genai_platform``. Provider families are code
(:mod:`ridgeline.genai.providers`), not rows, so their ``provider_origin`` cannot be edited."""

from __future__ import annotations

import sqlalchemy as sa

from ridgeline.platform.db import UTCDateTime, metadata

runtime_profile = sa.Table(
    "genai_runtime_profile",
    metadata,
    sa.Column("key", sa.String(32), primary_key=True),  # one row, "global"
    sa.Column("mode", sa.String(16), nullable=False),  # online | offline
    sa.Column("updated_by", sa.String(64), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

providers = sa.Table(
    "genai_platform_providers",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("slug", sa.String(128), nullable=False, unique=True),
    sa.Column("provider_key", sa.String(64), nullable=False),  # the family
    sa.Column("capability", sa.String(32), nullable=False),  # the family's, copied for queries
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("endpoint_url", sa.String(1024), nullable=True),
    sa.Column("healthcheck_url", sa.String(1024), nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("config", sa.JSON, nullable=False, server_default="{}"),
    # {name: value-or-ref} sealed with the platform's SecretBox (associated data genai:provider:<id>)
    sa.Column("secret_refs_sealed", sa.Text, nullable=True),
    sa.Column("secret_ref_names", sa.JSON, nullable=False, server_default="[]"),
    # the loaded-model slot of a local model-bearing provider
    sa.Column("loaded_model_id", sa.String(64), nullable=True),
    sa.Column("loaded_runtime_model_id", sa.String(255), nullable=True),
    sa.Column("loaded_state", sa.String(16), nullable=False, server_default="empty"),  # empty|loaded
    sa.Column("loaded_at", UTCDateTime(), nullable=True),
    sa.Column("last_validation", sa.JSON, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

deployments = sa.Table(
    "genai_platform_deployments",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("slug", sa.String(128), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

bindings = sa.Table(
    "genai_platform_bindings",
    metadata,
    sa.Column(
        "deployment_id",
        sa.String(64),
        sa.ForeignKey("genai_platform_deployments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("capability", sa.String(32), primary_key=True),
    sa.Column("provider_id", sa.String(64), sa.ForeignKey("genai_platform_providers.id"), nullable=False),
    sa.Column("resources", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("default_resource_id", sa.String(255), nullable=True),
    sa.Column("config", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

activation_audit = sa.Table(
    "genai_platform_activation_audit",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("deployment_id", sa.String(64), nullable=False),
    sa.Column("deployment_slug", sa.String(128), nullable=False),
    sa.Column("previous_deployment_id", sa.String(64), nullable=True),
    sa.Column("activated_by", sa.String(64), nullable=True),
    sa.Column("runtime_mode", sa.String(16), nullable=False),
    sa.Column("preflight", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("configuration_status", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("activated_at", UTCDateTime(), nullable=False),
)

# One row ("global"): bumped in the same transaction as every control-plane write, so each worker's
# cached active-binding resolution (PlatformService.active) notices a write made by another worker
# (migration 0021_genai_policy).
platform_version = sa.Table(
    "genai_platform_version",
    metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)
