"""One way for operator commands to run: in an app context, failing in one line.

Scripts read the exit status (1: refused, 2: bad input); people read one sentence,
not a traceback. Anything not listed here is a bug and keeps its traceback.
"""

import sys
from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps

from invoke import Exit


class UsageError(Exception):
    """The command's options cannot work (exit status 2)."""


@contextmanager
def app_context():
    from app import create_app

    app = create_app()
    with app.app_context():
        yield app


def number(text: str, option: str, kind: Callable = int):
    """An option read as text: invoke's own conversion would fail with a traceback."""
    try:
        return kind(text)
    except ValueError:
        raise UsageError(f"--{option} takes a number, not {text!r}") from None


def operator_command(hints: dict | None = None):
    """Run the command; an expected failure becomes `error: <sentence>` and an exit status.

    `hints` maps an error's code (or its class) to a way forward appended to the
    sentence, formatted with the command's options.
    """

    def decorate(body):
        @wraps(body)
        def command(c, *args, **kwargs):
            try:
                return body(c, *args, **kwargs)
            except Exception as error:
                message, code = _refusal(error)
                if message is None:
                    raise
                hint = _hint(hints or {}, error)
                if hint:
                    message += "; " + hint.format(**kwargs)
                sys.stdout.flush()
                raise Exit(f"error: {message}", code=code) from None

        return command

    return decorate


def _refusal(error: Exception) -> tuple[str | None, int]:
    """The sentence and exit status of an expected failure (None: a bug)."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from app.errors import DomainError
    from roles import ApplicationNameTaken

    if isinstance(error, UsageError):
        return str(error), 2
    if isinstance(error, ValidationError):
        return "; ".join(_field_message(item) for item in error.errors()), 2
    if isinstance(error, DomainError):
        detail = error.detail
        return (detail if isinstance(detail, str) else "; ".join(map(_field_message, detail))), 1
    if isinstance(error, SQLAlchemyError):
        cause = getattr(error, "orig", None) or error
        return "database: " + str(cause).strip().splitlines()[0], 1
    if isinstance(error, ApplicationNameTaken | OSError):
        return str(error), 1
    if isinstance(error, ValueError):  # what the options name does not work
        return str(error), 2
    return None, 1


def _hint(hints: dict, error: Exception) -> str | None:
    for key, hint in hints.items():
        if isinstance(key, type) and isinstance(error, key):
            return hint
        if key == getattr(error, "code", None):
            return hint
    return None


def _field_message(item: dict) -> str:
    place = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
    return f"{place}: {item['msg']}" if place else item["msg"]
