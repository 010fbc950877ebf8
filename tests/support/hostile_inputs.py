"""One corpus of hostile JSON documents, for every channel that decodes one from a stranger.

`POST /events` gets each as its body, the Kafka consumer as a record's value (tests in
test_feeds.py and test_kafka_consumer.py). Each is built around a well-formed document
of the channel (an event for `/events`, a dataset payload for Kafka), so the hostile
part is all that is wrong with it. Every one must be refused, as a 4xx or as a
`rejected` record, and none may take its channel down.
"""

import json

DEEP = 100_000
# Deeper than any decoder here allows (Python's json: the recursion limit; pydantic: 200).
DEEPER_THAN_ALLOWED = 1_500
HUGE = 300_000


def hostile_documents(valid: dict, text_field: str) -> list[tuple[str, bytes]]:
    """(name, raw bytes) pairs; `text_field` names a string field of `valid` to poison."""
    good = json.dumps(valid)

    def with_field(raw_value: str) -> bytes:
        return json.dumps(valid | {text_field: "@@"}).replace('"@@"', raw_value).encode()

    nested = "[" * DEEPER_THAN_ALLOWED + "]" * DEEPER_THAN_ALLOWED
    return [
        ("deep arrays", b"[" * DEEP),
        ("deep objects", b'{"a":' * DEEP),
        ("deep arrays with an escape", b"[" * DEEP + b'"\\u0000"'),
        ("deep arrays, closed, with a surrogate", (f"[{nested}, " + '"\\ud800"]').encode()),
        ("deep nesting inside a field", with_field(nested)),
        ("huge string in a field", with_field(json.dumps("x" * HUGE))),
        ("huge number in a field", with_field("9" * HUGE)),
        ("a million-digit exponent", with_field("1e9999999")),
        ("a float just past the largest", with_field("1.8e308")),
        ("a float past the largest, written out", with_field("1" + "0" * 309 + ".5")),
        ("NaN in a field", with_field("NaN")),
        ("Infinity in a field", with_field("-Infinity")),
        ("invalid UTF-8", good.encode()[:-1] + b'\xff\xfe"}'),
        ("invalid UTF-8 in a string", with_field('"@bad@"').replace(b"@bad@", b"\xc3\x28")),
        ("a raw NUL byte", with_field('"nul\x00byte"')),
        ("an escaped NUL", with_field('"nul\\u0000"')),
        ("an unpaired surrogate", with_field('"\\udc00 alone"')),
        ("an unpaired surrogate in a key", good.replace("{", '{"\\ud800": 1, ', 1).encode()),
        ("a byte order mark", b"\xef\xbb\xbf" + good.encode()),
        ("truncated", good.encode()[: len(good) // 2]),
        ("trailing garbage", good.encode() + b"}}"),
        ("a JSON string", b'"just a string"'),
        ("a JSON number", b"42"),
        ("JSON null", b"null"),
        ("JSON true", b"true"),
        ("a list of lists", b"[[]]"),
        ("empty", b""),
        ("whitespace", b" \n\t "),
        ("not JSON", b"<xml/>"),
    ]
