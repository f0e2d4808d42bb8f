"""ai: vector collections (SQL is the source of truth for the embedded HNSW indexes)

Revision ID: 0006_ai_vectors
Revises: 0001_platform
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_ai_vectors"
down_revision = "0001_platform"
branch_labels = ("ai",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_collections",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(8), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ai_vectors",
        sa.Column(
            "collection",
            sa.String(128),
            sa.ForeignKey(
                "ai_collections.name", name="fk_ai_vectors_collection_ai_collections", ondelete="CASCADE"
            ),
            primary_key=True,
        ),
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    # created at run time when pgvector is available (ridgeline.platform.vectors)
    op.execute("DROP TABLE IF EXISTS ai_vectors_pgv")
    op.drop_table("ai_vectors")
    op.drop_table("ai_collections")
