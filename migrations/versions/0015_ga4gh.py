"""GA4GH DRS: each person's Crypt4GH envelope per file, and their public key on the profile

Revision ID: ga4gh_1
Revises: iva_limits_1
Create Date: 2026-12-07 12:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ga4gh_1"
down_revision = "journeys_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("crypt4gh_public_key", sa.String(64), nullable=True))
    op.create_table(
        "drs_envelope",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("header", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drs_envelope")),
        sa.UniqueConstraint(
            "user_id", "file_id", "public_key", name="uq_drs_envelope_recipient"
        ),
    )
    op.create_index(op.f("ix_drs_envelope_user_id"), "drs_envelope", ["user_id"])
    op.create_index(op.f("ix_drs_envelope_file_id"), "drs_envelope", ["file_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_drs_envelope_file_id"), table_name="drs_envelope")
    op.drop_index(op.f("ix_drs_envelope_user_id"), table_name="drs_envelope")
    op.drop_table("drs_envelope")
    op.drop_column("user_account", "crypt4gh_public_key")
