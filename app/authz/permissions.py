"""The permissions, and what each role of a person holds.

This enum is the only place permissions are added. Values are stored in the
database (application keys hold them): never renumber a member.
"""

from enum import IntEnum, unique


@unique
class Permission(IntEnum):
    ADMIN = 1  # everything
    DATA_STEWARD = 2  # catalog, grants, access decisions, verification addresses
    FEED_PUBLISHER = 3  # POST /events
    USER_ADMIN = 4  # accounts
    JOBS_ADMIN = 5  # jobs, maintenance
    WORKER = 6  # calls made by workers
    VISA_READER = 7  # GA4GH: read anyone's visas (a Passport broker)


#: What a person's role lets them do (ADR 0012); keyed by the role's stored value, in
#: rank order. The API's doors, the pages' doors and the navigation all read it.
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "researcher": frozenset(),
    "steward": frozenset({Permission.DATA_STEWARD}),
    "admin": frozenset({Permission.ADMIN}),
}


def roles_holding(permission: Permission) -> frozenset[str]:
    """The roles whose people hold `permission` (ADMIN holds everything): "who is a
    steward" is `roles_holding(Permission.DATA_STEWARD)`."""
    return frozenset(
        role
        for role, held in ROLE_PERMISSIONS.items()
        if permission in held or Permission.ADMIN in held
    )
