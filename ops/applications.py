"""Operator commands: application keys."""

from datetime import UTC, datetime, timedelta

from invoke import Exit, task

from ops.command import app_context, number, operator_command
from roles import ApplicationNameTaken


@task(
    iterable=["permission"],
    help={
        "name": "application name",
        "permission": "permission name; repeat for several",
        "expires_days": "days until the key expires (default: never)",
    },
)
@operator_command(
    hints={
        ApplicationNameTaken: "revoke it first (invoke revoke-application-key -n {name}) "
        "or choose another name"
    }
)
def create_application_key(c, name, permission, expires_days="0"):
    """Create an application key; prints API_TOKEN=<key>, the only time it is shown."""
    from app.applications import actions
    from app.authz import Actor

    days = number(expires_days, "expires-days")
    expires_at = datetime.now(UTC) + timedelta(days=days) if days else None
    with app_context():
        issued = actions.create_application_key(Actor.operator(), name, permission, expires_at)
    print(f"API_TOKEN={issued.key}")


@task(help={"name": "application name"})
@operator_command()
def revoke_application_key(c, name):
    """Revoke every live key of the named application."""
    from app.applications import actions
    from app.authz import Actor

    with app_context():
        count = actions.revoke_application_key(Actor.operator(), name)
    if not count:
        raise Exit(f"error: no live key for application {name!r}", code=1)
    print(f"revoked {count} key(s) of {name!r}")


@task(help={"all": "include revoked keys"})
@operator_command()
def list_applications(c, all=False):
    """List applications: name, key prefix, permissions, state."""
    from app.applications.services import list_applications as listing

    with app_context():
        for application in listing(include_revoked=all):
            state = "revoked" if application.revoked_at else "live"
            expires = application.expires_at.isoformat() if application.expires_at else "-"
            print(
                f"{application.name}\t{application.key_prefix}…\t"
                f"{','.join(application.permission_names)}\t{state}\texpires {expires}"
            )
