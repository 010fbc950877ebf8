"""ControlledAccessGrants visas of a person's live download grants.

Each visa is a JWT signed with the visa key (`VISA_SIGNING_KEY`), whose header names
our visa key set as `jku`: `{PUBLIC_BASE_URL}/ga4gh/passport/v1/jwks.json`, not the
work order key set that storage services trust. `sub` is the person's account id
here; `exp` is the grant's end, or `VISA_VALID_DAYS` from now if that comes first.
"""

from datetime import timedelta
from uuid import UUID

import jwt
from flask import current_app

from app.access.models import AccessGrant
from app.access.queries import current_download_grants
from app.catalog.models import Dataset
from app.credentials.keys import VISA_ALGORITHM, visa_keys
from app.database import utc_now
from app.extensions import db


def live_grants(user_id: UUID) -> list[AccessGrant]:
    return list(db.session.scalars(current_download_grants(user_id, utc_now())))


def visa_of(grant: AccessGrant) -> str:
    settings = current_app.extensions["settings"]
    keys = visa_keys()
    base = str(settings.public_base_url).rstrip("/")
    now = utc_now()
    expires = min(grant.valid_until, now + timedelta(days=settings.visa_valid_days))
    dataset = db.session.get(Dataset, grant.dataset_accession)
    source = f"{base}/dacs/{dataset.dac_alias}" if dataset is not None else base
    claims = {
        "iss": keys.issuer,
        "sub": str(grant.user_id),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": str(grant.id),
        "ga4gh_visa_v1": {
            "type": "ControlledAccessGrants",
            "asserted": int(grant.valid_from.timestamp()),
            "value": f"{base}/datasets/{grant.dataset_accession}",
            "source": source,
            "by": "dac",
        },
    }
    headers = {"kid": keys.kid, "jku": keys.jku, "typ": "JWT"}
    return jwt.encode(claims, keys.signing.key, algorithm=VISA_ALGORITHM, headers=headers)
