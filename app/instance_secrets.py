"""Development secrets generated into the instance folder on first start.

They make the embedded default work with no configuration at all. Production
deployments configure their own secrets and refuse to run on these.
"""

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from app.config import SettingsError

log = logging.getLogger(__name__)


def refuse_production_without_secrets(settings) -> None:
    """All at once, the secrets a production deployment lacks (it never generates them):
    one start tells the operator everything to configure."""
    if settings.deployment != "production":
        return
    needed = {
        "SECRET_KEY": settings.secret_key,
        "WORK_PACKAGE_SIGNING_KEY": settings.work_package_signing_key,
        "VISA_SIGNING_KEY": settings.visa_signing_key,
        "STORAGE_CRYPT4GH_PRIVATE_KEY": settings.storage_crypt4gh_private_key,
    }
    if settings.auth_mode == "standalone":
        needed["AUTH_SIGNING_KEY"] = settings.auth_signing_key
        needed["OIDC_ISSUER"] = settings.oidc_issuer
    else:
        needed["AUTH_KEY"] = settings.auth_key
    missing = [name for name, value in needed.items() if not value]
    if len(missing) == 1:
        raise SettingsError(f"Invalid setting {missing[0]}: required when DEPLOYMENT=production")
    if missing:
        raise SettingsError(
            "Invalid settings: " + ", ".join(missing) + " are required when DEPLOYMENT=production"
        )


def instance_secret(
    instance_path: str, setting: str, deployment: str, generate: Callable[[], str]
) -> str:
    """The secret stored in `<instance>/<setting>`, created once if missing.

    Several processes may start at once: each writes its candidate to a file of its
    own and links it into place; the first link wins and the others read the winner's
    file, which is complete the moment it has its name.
    """
    if deployment == "production":
        raise SettingsError(f"Invalid setting {setting}: required when DEPLOYMENT=production")
    path = Path(instance_path) / "dev-secrets" / setting.lower()
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, candidate = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(generate())
        os.link(candidate, path)
    except FileExistsError:
        return path.read_text()
    finally:
        os.unlink(candidate)
    log.warning(
        "DEVELOPMENT SECRET: %s was generated into %s; configure it for real use",
        setting,
        path,
    )
    return path.read_text()
