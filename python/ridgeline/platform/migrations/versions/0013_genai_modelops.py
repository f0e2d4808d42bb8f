"""genai ModelOps: validation and test history, sharing grants, the model catalog and hub downloads

Revision ID: 0013_genai_modelops
Revises: 0008_genai
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_genai_modelops"
down_revision = "0008_genai"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "genai_model_validations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "genai_model_tests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("runtime_model_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("output", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "genai_model_shares",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("subject_kind", sa.String(16), primary_key=True),
        sa.Column("subject_id", sa.String(64), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "genai_modelops_catalog",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("provider_family", sa.String(64), nullable=True),
        sa.Column("provider_model_id", sa.String(255), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "genai_model_downloads",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("revision", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bytes_total", sa.BigInteger, nullable=True),
        sa.Column("bytes_done", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("resumed_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("target_dir", sa.String(1024), nullable=True),
        sa.Column("model_id", sa.String(64), nullable=True),
        sa.Column("task", sa.String(32), nullable=True),
        sa.Column("source_info", sa.JSON, nullable=False),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_genai_model_validations_model", "genai_model_validations", ["model_id", "created_at"])
    op.create_index("ix_genai_model_tests_model", "genai_model_tests", ["model_id", "created_at"])
    op.create_index("ix_genai_model_downloads_source", "genai_model_downloads", ["source_id", "revision"])


def downgrade() -> None:
    op.drop_index("ix_genai_model_downloads_source", table_name="genai_model_downloads")
    op.drop_index("ix_genai_model_tests_model", table_name="genai_model_tests")
    op.drop_index("ix_genai_model_validations_model", table_name="genai_model_validations")
    for name in (
        "genai_model_downloads",
        "genai_modelops_catalog",
        "genai_model_shares",
        "genai_model_tests",
        "genai_model_validations",
    ):
        op.drop_table(name)
