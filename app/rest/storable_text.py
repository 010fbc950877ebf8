"""One rule for text that may reach the database: no character it cannot store.

PostgreSQL's text and JSON types cannot hold NUL (U+0000), and a lone surrogate
(U+D800 to U+DFFF, which a JSON `\\ud800` escape still produces) has no UTF-8 form.
Either makes the driver fail mid-request, or a feed event fail on every retry.
Every request's path, query and JSON body (`app.rest.operation`) and every feed
event (`app.feeds.validation.validate_event`) pass through `unstorable_text_errors`
before any model sees them, so no string field has to remember the rule: a field
added tomorrow, a nested list, or a payload field this service merely keeps is
covered the same way. Other control characters are stored as given.
"""

import re
from collections.abc import Iterator

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = (
    "Text may not contain NUL (U+0000) or unpaired surrogate characters: "
    "the database cannot store them"
)
ERROR_TYPE = "unstorable_text"


def unstorable_text_errors(value, location: list) -> list[dict]:
    """One `{loc, msg, type}` field error per string in `value` that cannot be stored.

    `value` is decoded JSON (dicts, lists, strings, numbers); dict keys count as text.
    """
    return [
        {"loc": [*location, *where], "msg": MESSAGE, "type": ERROR_TYPE}
        for where in _unstorable_places(value, ())
    ]


def may_hold_unstorable_text(raw_json: bytes) -> bool:
    """False when a JSON document cannot contain such a character.

    JSON forbids raw control characters in strings and the bytes are UTF-8, so both
    NUL and surrogates can only arrive as `\\u` escapes.
    """
    return b"\\u" in raw_json


def _unstorable_places(value, where: tuple) -> Iterator[tuple]:
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            yield where
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and UNSTORABLE.search(key):
                # Name the key readably: it cannot be echoed as it is either.
                yield (*where, UNSTORABLE.sub("\ufffd", key))
                continue
            yield from _unstorable_places(item, (*where, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _unstorable_places(item, (*where, index))
