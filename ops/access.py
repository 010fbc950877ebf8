"""Operator commands: access grants."""

from datetime import UTC, datetime, timedelta

from invoke import task

from ops.command import app_context, number, operator_command


@task(
    help={
        "user_id": "the user's id (uuid)",
        "dataset": "dataset accession (download access)",
        "box": "research data upload box id (upload access)",
        "days": "how long the access lasts",
    }
)
@operator_command()
def grant_access(c, user_id, dataset="", box="", days="365"):
    """Grant a user download access to a dataset or upload access to a box."""
    from app.access.actions import create_grant
    from app.access.schemas import GrantRequest
    from app.authz import Actor

    request = GrantRequest(
        user_id=user_id,
        dataset_id=dataset or None,
        research_data_upload_box_id=box or None,
        valid_until=datetime.now(UTC) + timedelta(days=number(days, "days", float)),
    )
    with app_context():
        grant = create_grant(Actor.operator(), request)
    print(f"grant {grant.id}: {grant.kind} access until {grant.valid_until.isoformat()}")
