"""Serialising response models."""

from flask import Response
from pydantic import BaseModel


def json_response(model: BaseModel, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        model.model_dump_json(), status=status, headers=headers, mimetype="application/json"
    )
