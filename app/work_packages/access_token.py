"""The work package access token as a bearer credential on a package's endpoints."""

from collections.abc import Callable
from functools import wraps

from pydantic import ValidationError

from app.credentials.bearer import bearer_credential
from app.errors import RequestValidationFailed
from app.work_packages import services
from app.work_packages.schemas import PackagePath


def work_package_access_required(view: Callable) -> Callable:
    """Admit requests whose bearer WPAT opens the package in the path.

    The view receives the authorised package as `package=`. A missing token is a
    401 (checked first); a malformed package id a 422; anything else that fails 403.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_credential()
        try:
            path = PackagePath.model_validate({"work_package_id": kwargs["work_package_id"]})
        except ValidationError as error:
            raise RequestValidationFailed.from_pydantic(error, "path") from None
        package = services.authorize(path.work_package_id, token)
        return view(*args, package=package, **kwargs)

    return checks_work_package_access_token(wrapper)


def checks_work_package_access_token(view: Callable) -> Callable:
    """Mark a view that admits a bearer WPAT (the OpenAPI document reads the mark)."""
    view.bearer_scheme = "WorkPackageAccessToken"
    return view
