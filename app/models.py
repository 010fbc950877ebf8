"""Every model of the application, imported in one place.

Migrations compare the database against this complete set.
"""

from app.access.models import AccessGrant, AccessRequest
from app.accounts.models import RefreshToken, ServiceMilestone, User
from app.authz.application_keys import (
    Application,
    ApplicationSystemPermission,
    SystemPermission,
)
from app.catalog.models import AccessionMap, Dataset, DatasetFile, UploadBox
from app.drs.models import DrsEnvelope
from app.feeds.models import FeedKey, InboxEvent
from app.identity.models import SlackInteraction
from app.ivas.models import Iva
from app.jobs.models import Job, JobLogEntry, MaintenanceChange
from app.second_factor.models import RecoveryCode, TotpFactor
from app.transfer.models import FileUpload, StoredFile
from app.web_sessions.models import WebSession
from app.work_packages.models import WorkPackage, WorkPackageFile

__all__ = [
    "AccessGrant",
    "AccessRequest",
    "AccessionMap",
    "Application",
    "ApplicationSystemPermission",
    "Dataset",
    "DatasetFile",
    "DrsEnvelope",
    "FeedKey",
    "FileUpload",
    "InboxEvent",
    "Iva",
    "Job",
    "JobLogEntry",
    "MaintenanceChange",
    "RecoveryCode",
    "RefreshToken",
    "ServiceMilestone",
    "SlackInteraction",
    "StoredFile",
    "SystemPermission",
    "TotpFactor",
    "UploadBox",
    "User",
    "WebSession",
    "WorkPackage",
    "WorkPackageFile",
]
