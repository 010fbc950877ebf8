"""Operator commands: accounts (the look-ups are the accounts services')."""

from invoke import task

from ops.command import UsageError, app_context, operator_command


@task(
    help={
        "name": "the person's name",
        "email": "e-mail address (unique)",
        "title": "academic title, e.g. Dr.",
        "admin": "make the account an active admin at once",
    }
)
@operator_command(
    hints={
        "email_taken": "`invoke issue-refresh-token {email}` gives its person a new refresh token"
    }
)
def create_user(c, name, email, title="", admin=False):
    """Create an account (pending, or active admin); prints its id and refresh token once.

    With an identity provider configured, the person's first sign-in with this
    e-mail address verified by the provider links the account to them.
    """
    from app.accounts.actions import create_account
    from app.accounts.schemas import SignupRequest
    from app.authz import Actor

    request = SignupRequest(name=name, email=email, title=title or None)
    with app_context():
        created = create_account(Actor.operator(), request, admin=admin)
        print(f"USER_ID={created.user.id}\nREFRESH_TOKEN={created.refresh_token}")


@task(
    help={
        "email": "the account's e-mail address (an account not linked to a provider yet)",
        "subject": "the person's `sub` at the identity provider",
        "issuer": "the provider's issuer URL (default: OIDC_ISSUER)",
    }
)
@operator_command()
def link_account(c, email, subject, issuer=""):
    """Bind an existing account to a person at the identity provider (issuer, subject)."""
    from sqlalchemy.exc import IntegrityError

    from app.accounts.actions import link_account as link
    from app.accounts.services import find_account_to_link
    from app.authz import Actor
    from app.errors import Conflict

    with app_context() as app:
        issuer = issuer or app.extensions["settings"].oidc_issuer
        if not issuer:
            raise UsageError("give --issuer or set OIDC_ISSUER")
        try:
            link(Actor.operator(), find_account_to_link(email).id, issuer, subject)
        except IntegrityError:
            # The pair (issuer, subject) is unique: the conflict is the sentence.
            raise Conflict(f"{issuer} {subject} is linked to another account") from None
    print(f"{email}: linked to {issuer} {subject}")


@task(help={"email": "the pending account's e-mail address (or its id)"})
@operator_command()
def accept_user(c, email):
    """Accept a pending account (the user is e-mailed when SMTP is configured)."""
    from app.accounts.actions import accept
    from app.accounts.services import find_account_to_accept
    from app.authz import Actor

    with app_context():
        accept(Actor.operator(), find_account_to_accept(email).id)
    print(f"{email}: active")


@task(help={"account": "the account's id, or an e-mail address naming exactly one account"})
@operator_command()
def issue_refresh_token(c, account):
    """Print a new refresh token for an account, once; its earlier refresh tokens are revoked."""
    from app.accounts.actions import reissue_refresh_token
    from app.accounts.services import find_account
    from app.authz import Actor

    with app_context():
        user, refresh_token = reissue_refresh_token(Actor.operator(), find_account(account).id)
        print(f"USER_ID={user.id}\nREFRESH_TOKEN={refresh_token}")
