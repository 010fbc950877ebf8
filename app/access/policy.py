"""Where access decisions come from: this service's grants, or an external access API."""

import logging
from datetime import datetime
from typing import Protocol
from uuid import UUID

import requests
from flask import current_app
from sqlalchemy import select

from app.access import queries
from app.database import utc_now
from app.errors import ServiceUnavailable
from app.extensions import db

log = logging.getLogger(__name__)


class AccessPolicy(Protocol):
    #: True when grants live in this database, so checks can join other queries.
    local: bool

    def download_access_until(self, user_id: UUID, dataset_id: str) -> datetime | None: ...

    def upload_access_until(self, user_id: UUID, box_id: UUID) -> datetime | None: ...

    def accessible_datasets(self, user_id: UUID) -> dict[str, datetime]: ...

    def accessible_boxes(self, user_id: UUID) -> dict[UUID, datetime]: ...

    def download_waits_for_iva(self, user_id: UUID, dataset_id: str) -> bool: ...


class LocalGrants:
    local = True

    def download_access_until(self, user_id, dataset_id):
        return db.session.scalar(
            select(queries.download_access_until(user_id, dataset_id, utc_now()))
        )

    def upload_access_until(self, user_id, box_id):
        return db.session.scalar(select(queries.upload_access_until(user_id, box_id, utc_now())))

    def accessible_datasets(self, user_id):
        return dict(db.session.execute(queries.accessible("download", user_id, utc_now())).all())

    def accessible_boxes(self, user_id):
        return dict(db.session.execute(queries.accessible("upload", user_id, utc_now())).all())

    def download_waits_for_iva(self, user_id, dataset_id) -> bool:
        return bool(
            db.session.scalar(
                select(queries.download_waits_for_iva(user_id, dataset_id, utc_now()))
            )
        )


class AccessApiUnavailable(ServiceUnavailable):
    """The access API could not be asked; retry later."""

    code = "access_api_unavailable"


class ExternalAccessApi:
    """The GHGA claims-repository access API: 404 means no access."""

    local = False

    def __init__(self, base_url: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def download_access_until(self, user_id, dataset_id):
        return self._until(f"/download-access/users/{user_id}/datasets/{dataset_id}")

    def upload_access_until(self, user_id, box_id):
        return self._until(f"/upload-access/users/{user_id}/boxes/{box_id}")

    def download_waits_for_iva(self, user_id, dataset_id) -> bool:
        return False  # the access API decides on its own

    def accessible_datasets(self, user_id):
        listing = self._get(f"/download-access/users/{user_id}/datasets") or {}
        return {str(key): _aware_date(value) for key, value in _mapping(listing).items()}

    def accessible_boxes(self, user_id):
        listing = self._get(f"/upload-access/users/{user_id}/boxes") or {}
        try:
            return {UUID(key): _aware_date(value) for key, value in _mapping(listing).items()}
        except ValueError:
            raise AccessApiUnavailable("The access API answered an invalid box id") from None

    def _until(self, path: str) -> datetime | None:
        value = self._get(path)
        return _aware_date(value) if value else None

    def _get(self, path: str):
        try:
            response = self.http.get(self.base_url + path, timeout=self.timeout)
        except requests.RequestException as error:
            log.error("access API unreachable: %s", error.__class__.__name__)
            raise AccessApiUnavailable() from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.error("access API answered %s for %s", response.status_code, path)
            raise AccessApiUnavailable()
        try:
            return response.json()
        except ValueError:
            raise AccessApiUnavailable("The access API answered invalid JSON") from None


def _mapping(value) -> dict:
    if not isinstance(value, dict):
        raise AccessApiUnavailable("The access API answered an unexpected listing")
    return value


def _aware_date(value) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise AccessApiUnavailable("The access API answered an invalid date") from None
    if parsed.tzinfo is None:
        raise AccessApiUnavailable("The access API answered a date without a time zone")
    return parsed


def make_access_policy(settings) -> AccessPolicy:
    if settings.access_url is None:
        return LocalGrants()
    return ExternalAccessApi(str(settings.access_url), settings.access_timeout)


def access_policy() -> AccessPolicy:
    return current_app.extensions["access_policy"]
