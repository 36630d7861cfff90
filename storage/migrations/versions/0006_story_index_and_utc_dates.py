"""Stories: the shared near-duplicate index; articles gain UTC dates and normalisation notes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as table:
        table.add_column(sa.Column("published_at_utc", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("updated_at_utc", sa.DateTime(timezone=True), nullable=True))
        table.add_column(
            sa.Column("notes", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        table.create_index("ix_articles_published_at_utc", ["published_at_utc"])
    op.create_table(
        "story_fingerprints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("story_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_story_fingerprints"),
        sa.UniqueConstraint("url", name="uq_story_fingerprints_url"),
    )
    op.create_table(
        "story_bands",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("band", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_story_bands"),
    )
    op.create_index("ix_story_bands_band", "story_bands", ["band"])
    op.create_index("ix_story_bands_url", "story_bands", ["url"])


def downgrade() -> None:
    op.drop_index("ix_story_bands_url", table_name="story_bands")
    op.drop_index("ix_story_bands_band", table_name="story_bands")
    op.drop_table("story_bands")
    op.drop_table("story_fingerprints")
    with op.batch_alter_table("articles") as table:
        table.drop_index("ix_articles_published_at_utc")
        table.drop_column("notes")
        table.drop_column("updated_at_utc")
        table.drop_column("published_at_utc")
