"""Operators' actions that have no table of their own, recorded as one log line each.

Replaying or discarding a dead feed event, pausing or resuming jobs, and making
or revoking an application key were recorded nowhere but in the state they left
(the maintenance history names who paused, nothing named who replayed). The
closest mechanism the service already has is its structured log (JSON lines,
with the request id), so each of these actions writes one line to the
`wps.audit` logger: what was done, by whom (`Actor.label`), through which
channel, and a detail. The line is written after the commit, so it never tells
of a change that was rolled back. Never put a secret in `detail`.
"""

import logging

from app.authz import Actor
from app.unit_of_work import after_commit

audit_log = logging.getLogger("wps.audit")


def record(actor: Actor, action: str, detail: str = "") -> None:
    """Write the audit line once the caller's `commit()` has stored the change."""
    after_commit(_write, action, actor.label, actor.channel, detail)


def _write(action: str, label: str, channel: str, detail: str) -> None:
    audit_log.info(
        "%s by %s through %s: %s",
        action,
        label,
        channel,
        detail,
        extra={"audit_action": action, "actor": label, "channel": channel, "detail": detail},
    )
