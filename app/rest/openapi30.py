"""Down-convert pydantic's JSON Schema (2020-12) to the OpenAPI 3.0 dialect.

The Swagger UI that flasgger ships renders OpenAPI 3.0 only. The differences
that pydantic models produce are few: `null` as a type, `const`, numeric
exclusive bounds and `examples`.
"""

NULL = {"type": "null"}


def to_openapi30(node):
    if isinstance(node, list):
        return [to_openapi30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: to_openapi30(value) for key, value in node.items()}
    for combinator in ("anyOf", "oneOf"):
        if NULL in node.get(combinator, []):
            node = _nullable(node, combinator)
    if node.get("format") in ("uuid1", "uuid3", "uuid4", "uuid5"):
        node["format"] = "uuid"  # the format OpenAPI tools know
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node.get(bound), bool):
            node[inclusive] = node.pop(bound)
            node[bound] = True
    if isinstance(node.get("examples"), list) and "$ref" not in node:
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    return node


def _nullable(node: dict, combinator: str) -> dict:
    rest = [option for option in node.pop(combinator) if option != NULL]
    if len(rest) == 1:
        (only,) = rest
        merged = {"allOf": [only]} if "$ref" in only else dict(only)
        return {**node, **merged, "nullable": True}
    return {**node, combinator: rest, "nullable": True}
