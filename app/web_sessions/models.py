from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class WebSession(Base):
    """One browser session; the cookie holds a random id, the row only its SHA-256.

    `user_id` is empty before sign-in (the row then holds the OIDC sign-in state and
    the CSRF token). Everything else code puts in `flask.session` is in `data`.
    """

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    #: The sign-in (a session is new at each sign-in); the absolute timeout counts from it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    #: Written at most about once a minute; the idle timeout counts from it.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the person authenticated at the provider (its `auth_time`), else the sign-in.
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
