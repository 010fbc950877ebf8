"""people: provider identity, role, account events; e-mail unique only among unlinked accounts

Revision ID: identity_1
Revises: 0006
Create Date: 2026-11-26 01:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "identity_1"
down_revision = "0006"
branch_labels = None
depends_on = None

UNLINKED = sa.text("oidc_subject IS NULL")


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oidc_issuer", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="researcher")
        )
        batch_op.add_column(
            sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE user_account SET role = 'admin' WHERE is_admin")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint("uq_user_account_email_key", type_="unique")
        batch_op.drop_column("is_admin")
        batch_op.create_unique_constraint(
            "uq_user_account_identity", ["oidc_issuer", "oidc_subject"]
        )
        batch_op.create_index("ix_user_account_email_key", ["email_key"], unique=False)
        batch_op.create_index(
            "uq_user_account_unlinked_email",
            ["email_key"],
            unique=True,
            sqlite_where=UNLINKED,
            postgresql_where=UNLINKED,
        )
    op.create_table(
        "account_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_account_event_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_event")),
    )
    with op.batch_alter_table("account_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_event_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_account_event_created_at"), ["created_at"], unique=False
        )


def downgrade():
    op.drop_table("account_event")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index("uq_user_account_unlinked_email")
        batch_op.drop_index("ix_user_account_email_key")
        batch_op.drop_constraint("uq_user_account_identity", type_="unique")
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE user_account SET is_admin = (role = 'admin')")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("email_verified")
        batch_op.drop_column("role")
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("oidc_issuer")
        batch_op.create_unique_constraint("uq_user_account_email_key", ["email_key"])
