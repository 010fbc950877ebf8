"""Who may act: the actor of an action and the permissions it holds.

Every channel (JSON API, pages, Slack, `invoke`) resolves its caller to one
`Actor`; actions check it with `Actor.require`. Nothing here imports a domain
package, so every domain may import it.
"""

from app.authz.actor import Actor, OwnDecisionRefused, person_label
from app.authz.permissions import ROLE_PERMISSIONS, Permission

__all__ = ["ROLE_PERMISSIONS", "Actor", "OwnDecisionRefused", "Permission", "person_label"]
