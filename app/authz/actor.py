"""The one description of who is acting, whatever the channel."""

from dataclasses import dataclass, field
from uuid import UUID

from app.authz.permissions import ROLE_PERMISSIONS, Permission
from app.errors import Forbidden

#: Channels an action can come through; audit records name one of them.
CHANNELS = frozenset({"api", "web", "slack", "cli", "sign-in", "system"})


def person_label(user_id) -> str:
    """How records name a person, whatever the channel: the one place it is spelled."""
    return f"user:{user_id}"


@dataclass(frozen=True)
class VisaGrant:
    """A verified ControlledAccessGrants visa: it opens `dataset` until `until` (epoch s)."""

    dataset: str
    until: int
    #: The visa's public claims, as audit records name it.
    description: str


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
    #: What the person's role holds but does not count yet: their token or session has
    #: not passed the second factor. Doors answer "second factor required" for these.
    withheld: frozenset[Permission] = field(default_factory=frozenset)
    #: False for a person whose account is not active here (pending, disabled, …).
    active: bool = True
    #: A Passport holder's visas that passed every check (ADR 29); a person with a bearer
    #: token has none and is decided by their grants.
    visas: tuple[VisaGrant, ...] = ()
    #: Why the Passport's other visas were set aside (said when nothing opens an object).
    refused_visas: tuple[str, ...] = ()
    passport: bool = False
    #: False for a person whose token or session has not passed the second factor
    #: (whatever their role holds).
    fully_authenticated: bool = True

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")

    @classmethod
    def person(
        cls,
        user_id: UUID,
        role: str | None,
        channel: str,
        *,
        full: bool = True,
        active: bool = True,
    ) -> "Actor":
        """A person; their role's permissions count only when `full` (second factor passed).

        `role` None, or `active` False, is a person holding nothing (an account that is
        not active here acts for itself at most).
        """
        entitled = ROLE_PERMISSIONS.get(role, frozenset()) if active else frozenset()
        held, withheld = (entitled, frozenset()) if full else (frozenset(), entitled)
        return cls(
            person_label(user_id),
            channel,
            held,
            user_id,
            withheld,
            active,
            fully_authenticated=full,
        )

    @classmethod
    def passport_holder(
        cls, user_id: UUID, visas: tuple[VisaGrant, ...], refused: tuple[str, ...] = ()
    ) -> "Actor":
        """A person known by a trusted Passport: they hold their visas, no role's rights
        (a Passport opens datasets, it never makes anyone a steward)."""
        return cls(
            person_label(user_id),
            "api",
            frozenset(),
            user_id,
            visas=visas,
            refused_visas=refused,
            passport=True,
        )

    def visa_for(self, datasets, now: float) -> VisaGrant | None:
        """The first live visa that opens one of `datasets`."""
        wanted = set(datasets)
        return next((v for v in self.visas if v.dataset in wanted and v.until > now), None)

    @classmethod
    def application(cls, name: str, permissions) -> "Actor":
        return cls(f"application:{name}", "api", frozenset(permissions))

    @classmethod
    def slack_approver(cls, member_id: str) -> "Actor":
        """A Slack member listed in SLACK_APPROVER_IDS (the Slack channel checked the
        list and the request's signature): they approve and reject accounts."""
        return cls(f"slack:{member_id}", "slack", frozenset({Permission.USER_ADMIN}))

    @classmethod
    def operator(cls) -> "Actor":
        """Whoever runs `invoke` on the service's machine: they hold its database anyway."""
        return cls("operator:invoke", "cli", frozenset({Permission.ADMIN}))

    @classmethod
    def system(cls, what: str) -> "Actor":
        return cls(f"system:{what}", "system", frozenset({Permission.ADMIN}))

    @property
    def is_application(self) -> bool:
        return self.label.startswith("application:")

    @property
    def entitled(self) -> frozenset[Permission]:
        """What the actor holds once a person has passed the second factor (navigation
        shows these: the page asks for the factor where it is missing)."""
        return self.permissions | self.withheld

    def holds(self, permission: Permission) -> bool:
        return Permission.ADMIN in self.permissions or permission in self.permissions

    def holds_any(self, permissions) -> bool:
        return any(self.holds(permission) for permission in permissions)

    def entitled_to(self, permission: Permission) -> bool:
        """`holds`, counting what waits for the second factor."""
        return bool({Permission.ADMIN, permission} & self.entitled)

    def waits_for_second_factor(self, permissions) -> bool:
        """Would the second factor make the actor hold one of `permissions`?"""
        return not self.holds_any(permissions) and any(map(self.entitled_to, permissions))

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

    def require_self(self, user_id: UUID) -> None:
        """A step only the person themself takes (their own factor, their own notice)."""
        if not self.is_person(user_id):
            raise Forbidden("Only the person themself can do this", code="self_required")

    def refuse_own(self, owner_id: UUID | None, message: str, code: str) -> None:
        """Refuse a person deciding about what is their own (another steward, an admin
        or an application key decides)."""
        if owner_id is not None and self.is_person(owner_id):
            raise OwnDecisionRefused(message, code=code)
