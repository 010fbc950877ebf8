from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class SlackInteraction(Base):
    """A signed Slack request already handled, kept while its signature would still pass.

    `key` is the SHA-256 of the signed text (`v0:{timestamp}:{body}`), so only an exact
    replay matches; rows are pruned once Slack's five-minute window has passed.
    """

    __tablename__ = "slack_interaction"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
