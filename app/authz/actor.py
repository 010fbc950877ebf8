"""The one description of who is acting, whatever the channel."""

from dataclasses import dataclass, field
from uuid import UUID

from app.authz.permissions import ROLE_PERMISSIONS, Permission
from app.errors import Forbidden

#: Channels an action can come through; audit records name one of them.
CHANNELS = frozenset({"api", "web", "slack", "cli", "sign-in", "system"})


class OwnDecisionRefused(Forbidden):
    """Four eyes: nobody decides about their own request or address."""


@dataclass(frozen=True)
class Actor:
    """Who acts (for records), through which channel, holding which permissions.

    `label` is what audit records store: "user:<id>", "application:<name>",
    "slack:<member id>", "operator:invoke" or "system:<what>".
    """

    label: str
    channel: str
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    #: The person acting, when a person acts (through any channel).
    user_id: UUID | None = None

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")

    @classmethod
    def person(cls, user_id: UUID, role: str | None, channel: str, *, full: bool = True) -> "Actor":
        """A person; their role's permissions count only when `full` (second factor passed)."""
        held = ROLE_PERMISSIONS.get(role or "researcher", frozenset()) if full else frozenset()
        return cls(f"user:{user_id}", channel, held, user_id)

    @classmethod
    def application(cls, name: str, permissions) -> "Actor":
        return cls(f"application:{name}", "api", frozenset(permissions))

    @classmethod
    def operator(cls) -> "Actor":
        """Whoever runs `invoke` on the service's machine: they hold its database anyway."""
        return cls("operator:invoke", "cli", frozenset({Permission.ADMIN}))

    @classmethod
    def system(cls, what: str) -> "Actor":
        return cls(f"system:{what}", "system", frozenset({Permission.ADMIN}))

    def holds(self, permission: Permission) -> bool:
        return Permission.ADMIN in self.permissions or permission in self.permissions

    def is_person(self, user_id: UUID) -> bool:
        return self.user_id is not None and self.user_id == user_id

    def require(self, permission: Permission, message: str | None = None) -> None:
        if not self.holds(permission):
            raise Forbidden(
                message
                or f"This needs the {permission.name} permission (or ADMIN), or a person "
                "whose role holds it",
                code="permission_required",
            )

    def refuse_own(self, owner_id: UUID | None, message: str, code: str) -> None:
        """Refuse a person deciding about what is their own (another steward, an admin
        or an application key decides)."""
        if owner_id is not None and self.is_person(owner_id):
            raise OwnDecisionRefused(message, code=code)
