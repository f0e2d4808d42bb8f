"""auth security: token revocation list, session generations, TOTP MFA, password reset tokens

Revision ID: 0022_auth_security
Revises: 0012_auth
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_auth_security"
down_revision = "0012_auth"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auth_revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=False),
    )
    op.create_index("ix_auth_revoked_tokens_expires", "auth_revoked_tokens", ["expires_at"])
    op.create_table(
        "auth_revocation_version",
        sa.Column("key", sa.String(16), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "auth_user_sessions",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
    )
    op.create_table(
        "auth_mfa_totp",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("secret_sealed", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("confirmed_at", TS, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "auth_mfa_recovery_codes",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_table(
        "auth_password_resets",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index("ix_auth_password_resets_user", "auth_password_resets", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_auth_password_resets_user", "auth_password_resets")
    op.drop_table("auth_password_resets")
    op.drop_table("auth_mfa_recovery_codes")
    op.drop_table("auth_mfa_totp")
    op.drop_table("auth_user_sessions")
    op.drop_table("auth_revocation_version")
    op.drop_index("ix_auth_revoked_tokens_expires", "auth_revoked_tokens")
    op.drop_table("auth_revoked_tokens")
