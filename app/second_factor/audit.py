"""What second factors and verification addresses go through, for the audit list.

Same signature as the identity feature's `record_event` (accounts audit list),
so that wiring it there is one line; until then the event is logged (never a
code or a secret).
"""

import logging
from uuid import UUID

log = logging.getLogger("wps.audit")


def record(user_id: UUID, action: str, actor: str, channel: str, detail: str = "") -> None:
    log.info(
        "audit: %s",
        action,
        extra={"audit_user": str(user_id), "actor": actor, "channel": channel, "detail": detail},
    )
