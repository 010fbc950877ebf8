"""Every model of the application, imported in one place.

Migrations compare the database against this complete set.
"""

from app.applications.models import (
    Application,
    ApplicationSystemPermission,
    SystemPermission,
)

__all__ = ["Application", "ApplicationSystemPermission", "SystemPermission"]
