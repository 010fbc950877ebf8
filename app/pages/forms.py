"""The portal's forms (Flask-WTF): fields and their shapes, never the domain's rules.

Whatever a domain service already checks (keys, grants, periods) is left to it;
its error comes back as a message on the form.
"""

from datetime import UTC, date, datetime, time

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

NOTE = [Optional(), Length(max=4000)]


class PortalForm(FlaskForm):
    class Meta:
        # The page blueprint checks the CSRF token of every POST before any view
        # runs (app/web/blueprints.py); forms need not check it a second time.
        csrf = False


def day_start(day: date | None) -> datetime | None:
    """A date from a form as the start of that day in UTC."""
    return datetime.combine(day, time.min, UTC) if day else None


class PeriodForm(PortalForm):
    valid_from = DateField("From", validators=[Optional()])
    valid_until = DateField("Until", validators=[Optional()])

    def validate_valid_until(self, field):
        if field.data and self.valid_from.data and field.data <= self.valid_from.data:
            raise ValidationError("The end must be after the start.")


class AccessRequestForm(PeriodForm):
    note = TextAreaField("Why you need the data", validators=NOTE)


class DecisionForm(PeriodForm):
    note = TextAreaField("Note to the requester", validators=NOTE)
    # Download access is bound to one of the requester's verification addresses;
    # the access service decides whether one is needed and whether it fits.
    iva_id = RadioField(
        "Bind to the requester's verification address",
        validators=[Optional()],
        validate_choice=False,
        description="Downloads work only while this address is verified.",
    )


class DenialForm(PortalForm):
    note = TextAreaField("Reason, for the requester", validators=NOTE)


PUBLIC_KEY_HELP = (
    "Paste your Crypt4GH public key: the content of the .pub file made by "
    "crypt4gh-keygen, or just its base64 line. Never paste the private key."
)


class DownloadPackageForm(PortalForm):
    dataset_id = RadioField("Dataset", validators=[DataRequired("Choose a dataset.")])
    file_ids = TextAreaField(
        "Only these files (optional)",
        validators=[Optional(), Length(max=200_000)],
        description="File accessions, separated by spaces, commas or new lines. "
        "Leave empty for every file of the dataset.",
    )
    user_public_crypt4gh_key = TextAreaField(
        "Your Crypt4GH public key",
        validators=[DataRequired("Paste your public key."), Length(max=1000)],
        description=PUBLIC_KEY_HELP,
    )

    def chosen_files(self) -> list[str] | None:
        names = (self.file_ids.data or "").replace(",", " ").split()
        return names or None


class UploadPackageForm(PortalForm):
    research_data_upload_box_id = RadioField(
        "Upload box", validators=[DataRequired("Choose an upload box.")]
    )
    user_public_crypt4gh_key = TextAreaField(
        "Your Crypt4GH public key",
        validators=[DataRequired("Paste your public key."), Length(max=1000)],
        description=PUBLIC_KEY_HELP,
    )


class GrantFilterForm(PortalForm):
    dataset = StringField("Dataset accession", validators=[Optional(), Length(max=128)])
    person = StringField("Person (e-mail or account id)", validators=[Optional(), Length(max=320)])


class ApplicationKeyForm(PortalForm):
    name = StringField("Application name", validators=[DataRequired(), Length(max=120)])
    permissions = SelectMultipleField(
        "Permissions",
        validators=[DataRequired("Choose at least one permission.")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    expires = DateField("Expires (optional)", validators=[Optional()])

    def validate_expires(self, field):
        if field.data and field.data <= datetime.now(UTC).date():
            raise ValidationError("The expiry must be in the future.")


class MaintenanceForm(PortalForm):
    msg = StringField("Message", validators=[DataRequired(), Length(max=1000)])
    paused = RadioField(
        "Jobs",
        choices=[SelectChoice("resume", "Run jobs"), SelectChoice("pause", "Pause new jobs")],
        validators=[DataRequired("Choose whether jobs run or pause.")],
    )


class ReissueTokenForm(PortalForm):
    account = StringField("Account (e-mail or id)", validators=[DataRequired(), Length(max=320)])


class Crypt4ghKeyForm(PortalForm):
    public_key = TextAreaField(
        "Public key",
        validators=[DataRequired(), Length(max=4096)],
        description="Base64 of 32 bytes, or the whole -----BEGIN CRYPT4GH PUBLIC KEY----- file.",
    )
