"""auth: users, API keys, JWT key set, audit log, rate-limit counters

Revision ID: 0012_auth
Revises: 0001_platform
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_auth"
down_revision = "0001_platform"
branch_labels = ("auth",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auth_users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("username_lower", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("email_lower", sa.String(320), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("username_lower", name="uq_auth_users_username_lower"),
        sa.UniqueConstraint("email_lower", name="uq_auth_users_email_lower"),
    )
    op.create_table(
        "auth_api_keys",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("rotated_to", sa.String(24), nullable=True),
    )
    op.create_table(
        "auth_jwt_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.JSON, nullable=False),
        sa.Column("private_sealed", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.Column("verify_until", TS, nullable=True),
    )
    op.create_table(
        "auth_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("path", sa.String(512), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
    )
    op.create_index("ix_auth_audit_at", "auth_audit", ["at"])
    op.create_table(
        "auth_rate_counters",
        sa.Column("bucket", sa.String(256), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index("ix_auth_rate_counters_window", "auth_rate_counters", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_auth_rate_counters_window", "auth_rate_counters")
    op.drop_table("auth_rate_counters")
    op.drop_index("ix_auth_audit_at", "auth_audit")
    op.drop_table("auth_audit")
    op.drop_table("auth_jwt_keys")
    op.drop_table("auth_api_keys")
    op.drop_table("auth_users")
