"""Development secrets generated into the instance folder on first start.

They make the embedded default work with no configuration at all. Production
deployments configure their own secrets and refuse to run on these.
"""

import logging
import os
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

    Several processes may start at once: the first to create the file wins and
    the others read what it wrote.
    """
    if deployment == "production":
        raise SettingsError(f"Invalid setting {setting}: required when DEPLOYMENT=production")
    path = Path(instance_path) / "dev-secrets" / setting.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_when_written(path)
    with os.fdopen(descriptor, "w") as file:
        file.write(generate())
    log.warning(
        "DEVELOPMENT SECRET: %s was generated into %s; configure it for real use",
        setting,
        path,
    )
    return path.read_text()


def _read_when_written(path: Path) -> str:
    for _ in range(100):
        content = path.read_text()
        if content:
            return content
        os.sched_yield()
    raise SettingsError(f"Invalid setting: development secret {path} is empty")
