from flask import Blueprint
from pydantic import BaseModel

from app.api import operation

bp = Blueprint("health", __name__)


class Health(BaseModel):
    status: str


@bp.get("/health")
@operation("Is the service up?", tags=["health"], responses={200: Health})
def health():
    return Health(status="OK").model_dump()
