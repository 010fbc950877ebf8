"""IVA limits (GHGA parity 2026): when a code was created; phone numbers in E.164

Revision ID: iva_limits_1
Revises: upload_box_limits_1
Create Date: 2026-12-07 05:30:00

"""

import phonenumbers
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "iva_limits_1"
down_revision = "upload_box_limits_1"
branch_labels = None
depends_on = None

_iva = sa.table(
    "iva",
    sa.column("id", sa.Uuid),
    sa.column("type", sa.String),
    sa.column("value", sa.String),
)


def upgrade():
    op.add_column("iva", sa.Column("code_created_at", sa.DateTime(timezone=True), nullable=True))
    # A code already out counts from the address's last change (its creation, or its
    # sending a little later): the closest time stored, erring on the person's side.
    op.execute("UPDATE iva SET code_created_at = changed_at WHERE code_hash IS NOT NULL")
    _normalise_phone_numbers()


def downgrade():
    op.drop_column("iva", "code_created_at")  # E.164 numbers stay: they are still numbers


def _normalise_phone_numbers():
    """E.164 for every stored phone number we can read without guessing a country;
    the others stay as typed (a steward still reads them) and new ones must be valid."""
    connection = op.get_bind()
    phones = connection.execute(sa.select(_iva.c.id, _iva.c.value).where(_iva.c.type == "phone"))
    for iva_id, value in phones.all():
        normalised = _e164(value)
        if normalised and normalised != value:
            connection.execute(_iva.update().where(_iva.c.id == iva_id).values(value=normalised))


def _e164(value: str) -> str | None:
    # Its own copy of the rule (app.ivas.services.e164): a migration must not change
    # when the application's code does.
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
