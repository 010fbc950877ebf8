"""factory-boy factories; each commits so HTTP calls and workers see the rows."""

import factory

from app.applications.services import create_application_key
from app.extensions import db


class ApplicationKeyFactory(factory.Factory):
    """An application with a live key; the plaintext key is on `.key`."""

    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"application-{n}")
    permissions = ("ADMIN",)
    expires_at = None

    @classmethod
    def _create(cls, model_class, name, permissions, expires_at):
        issued = create_application_key(name, list(permissions), expires_at)
        db.session.commit()
        return issued
