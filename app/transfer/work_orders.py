"""Work order tokens as bearer credentials on the transfer endpoints."""

from collections.abc import Callable
from functools import wraps

import jwt
from flask import request

from app.credentials.keys import token_keys
from app.credentials.work_order_tokens import verify_work_order
from app.transfer.errors import InvalidWorkOrderToken, MissingWorkOrderToken


def work_order_required(*work_types: str) -> Callable:
    """Admit a request whose bearer WOT is valid and of one of `work_types`.

    The view receives the token's claims as `claims=`; it checks that they name
    the file or box in the path.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise MissingWorkOrderToken("A work order token is required")
            try:
                claims = verify_work_order(token.strip(), token_keys())
            except jwt.ExpiredSignatureError:
                raise InvalidWorkOrderToken("The work order token has expired") from None
            except jwt.InvalidTokenError:
                raise InvalidWorkOrderToken("The work order token is invalid") from None
            if claims.get("work_type") not in work_types:
                raise InvalidWorkOrderToken(
                    f"This operation needs a {' or '.join(work_types)} work order token"
                )
            return view(*args, claims=claims, **kwargs)

        wrapper.bearer_scheme = "WorkOrderToken"
        return wrapper

    return decorator
