"""What second factors and verification addresses go through, in the accounts' audit list.

Actions are snake_case like the account record's own; details name the address
(type and id), never a code or a secret.
"""

from uuid import UUID

from app.accounts.audit import record_event


def record(user_id: UUID, action: str, actor: str, channel: str, detail: str = "") -> None:
    record_event(user_id, action, actor, channel, detail)
