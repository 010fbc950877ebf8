"""Commit an action's changes, then do what must wait for the commit.

An action registers e-mails, webhooks and Celery tasks with `after_commit`;
`commit` runs them only once the state they describe is stored, so nobody is
told of (and no worker looks for) a change that was rolled back. A rollback
drops them.
"""

import logging
from collections.abc import Callable
from functools import partial

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
_KEY = "after_commit"


def after_commit(function: Callable, *args, **kwargs) -> None:
    """Run `function(*args, **kwargs)` after the next `commit()` of this session."""
    db.session.info.setdefault(_KEY, []).append(partial(function, *args, **kwargs))


def commit() -> None:
    """Commit, then run what waited for it; a failure there is logged, never raised
    (the change is stored; a notice or task lost to an outage is retried by sweeps)."""
    waiting = db.session.info.pop(_KEY, [])
    db.session.commit()
    for call in waiting:
        try:
            call()
        except Exception:  # one failed notice must not hide the others or the result
            log.exception("after-commit step %s failed", getattr(call.func, "__name__", call))


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(_KEY, None)
