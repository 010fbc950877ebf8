from app.errors import Conflict, DomainError, Forbidden, NotFound, RequestValidationFailed


class IvaNotFound(NotFound):
    """Verification address not found."""

    code = "iva_not_found"


class IvaWrongState(Conflict):
    """The verification address is not in a state that allows this step."""

    code = "iva_wrong_state"


class WrongVerificationCode(Forbidden):
    """The verification code is not right."""

    code = "wrong_verification_code"


class TooManyVerificationAttempts(DomainError):
    """Too many wrong codes: the address is unverified again; request a new code."""

    status, code = 429, "iva_too_many_attempts"


class IvaLimitReached(Conflict):
    """The person has as many verification addresses as allowed; delete one first."""

    code = "iva_limit_reached"


class InvalidPhoneNumber(RequestValidationFailed):
    """Not a phone number that can be dialled from abroad."""

    code = "invalid_phone_number"


class IvaCodeExpired(DomainError):
    """The verification code has expired; the address is unverified again: request a new code."""

    status, code = 410, "iva_code_expired"


class IvaNotUsable(Forbidden):
    """The verification address does not belong to the person the grant is for."""

    code = "iva_not_usable"
