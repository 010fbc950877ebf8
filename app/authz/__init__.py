"""Who may act: the one room for actors, permissions and the doors of every channel.

- `Actor` (actor.py): who acts, for records (`person_label` is the one spelling of
  `user:<id>`), through which channel, holding which permissions; a person's role
  permissions are `withheld` until their token or session passed the second factor.
- `ROLE_PERMISSIONS` (permissions.py): the only role → permission table. The API's
  doors, the pages' doors and the navigation all read it; a steward is whoever's
  role holds `DATA_STEWARD`.
- api.py: `api_actor()` resolves a JSON API request (application key, or a person's
  internal token with or without the second factor) and the decorators
  `actor_required`, `requires`, `permissions_required`, `person_or_key_required`.
- pages.py: `web_actor()` resolves a browser session (at either level) and the page
  decorators `person_required`, `fully_authenticated`, `page_requires`.
- levels.py: whether a token or a session passed the second factor.

Not here, on purpose: work-package access tokens (WPAT) and work-order tokens (WOT)
are checked in app/work_packages/wsgi_token_layer.py, the lean path in front of Flask
that the connector calls for every file part; a person acting only for themself
(`internal_token_required`) is admitted in app/credentials/internal_tokens.py.

This module imports only actor.py and permissions.py, which import no domain
package, so every domain may import it; api.py and pages.py import the domains and
are imported only by channels (routes, pages).
"""

from app.authz.actor import Actor, OwnDecisionRefused, person_label
from app.authz.permissions import ROLE_PERMISSIONS, Permission

__all__ = ["ROLE_PERMISSIONS", "Actor", "OwnDecisionRefused", "Permission", "person_label"]
