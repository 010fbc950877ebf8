"""Journeys: a steward asks a requester to add a verification address

Revision ID: journeys_1
Revises: iva_limits_1
Create Date: 2026-12-07 12:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "journeys_1"
down_revision = "iva_limits_1"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "access_request", sa.Column("address_asked_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade():
    op.drop_column("access_request", "address_asked_at")
