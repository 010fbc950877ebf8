from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import UUID4, BaseModel, EmailStr, Field, StringConstraints

from app.accounts.models import PersonRole, UserStatus
from app.rest import Page, PageQuery, StrictModel

PersonName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=256, pattern=r"^[^\x00-\x1f<>]+$"
    ),
]


class SignupRequest(StrictModel):
    name: PersonName
    email: EmailStr
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None


class UserView(BaseModel):
    id: UUID
    name: str
    title: str | None
    email: str
    status: UserStatus
    role: PersonRole
    is_admin: bool
    email_verified: bool = Field(
        description="Whether the identity provider said it verified the e-mail address."
    )
    oidc_issuer: str | None = Field(
        description="The identity provider the person signs in with (null: not linked yet)."
    )
    created_at: datetime
    approved_at: datetime | None
    approved_by: str | None
    crypt4gh_public_key: str | None = Field(
        None, description="The Crypt4GH public key DRS downloads are sealed to (base64)."
    )

    @classmethod
    def of(cls, user) -> "UserView":
        return cls.model_validate(user, from_attributes=True)


class SignupResponse(UserView):
    refresh_token: str = Field(
        description="Shown once. Trade it at `/token/refresh` once the account is active."
    )


class IssuedRefreshToken(BaseModel):
    user_id: UUID
    refresh_token: str = Field(
        description="Shown once; the account's earlier refresh tokens are revoked. "
        "Trade it at `/token/refresh` once the account is active."
    )


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    access_token: str = Field(description="An internal token (ES256 JWT) for the API.")
    refresh_token: str = Field(description="The next refresh token; the one sent is spent.")
    expires_in: int = Field(description="Seconds until the access token expires.")


class UserQuery(PageQuery):
    status: UserStatus | None = None


class UserPage(Page[UserView]):
    pass


class UserPath(BaseModel):
    user_id: UUID4


class RoleChange(StrictModel):
    role: PersonRole


class AccountEventView(BaseModel):
    id: UUID
    user_id: UUID
    user_email: str
    action: str = Field(description="approved, rejected, disabled, enabled, role_changed, ...")
    detail: str
    actor: str = Field(description="`user:<id>`, `application:<name>`, `slack:<id>`, ...")
    channel: str = Field(description="web, slack, cli, api or sign-in")
    created_at: datetime

    @classmethod
    def of(cls, event, user) -> "AccountEventView":
        return cls(
            id=event.id,
            user_id=event.user_id,
            user_email=user.email if user else "",
            action=event.action,
            detail=event.detail,
            actor=event.actor,
            channel=event.channel,
            created_at=event.created_at,
        )


class AccountEventPage(Page[AccountEventView]):
    pass


class Crypt4ghKeyChange(StrictModel):
    public_key: str | None = Field(
        max_length=4096,
        description="The Crypt4GH public key (base64 of 32 bytes, or the key file's text); "
        "null removes it.",
    )
