"""A DRS world: a dataset whose files have stored content, and a person with an account."""

import hashlib
from dataclasses import dataclass
from uuid import UUID

from app.accounts.models import User
from app.catalog.models import AccessionMap
from app.extensions import db
from app.transfer.services import import_plaintext
from tests.support.factories import create_dataset
from tests.support.users import Researcher

CONTENT = b"GA4GH says hello. " * 9000  # ~160 KiB: three Crypt4GH segments


@dataclass
class DrsWorld:
    researcher: Researcher
    dataset: str
    files: list[str]
    contents: dict[str, bytes]


def account_for(researcher: Researcher, *, key: bool = True, issuer=None, subject=None) -> User:
    user = User(
        id=researcher.id,
        name=researcher.name,
        email=researcher.email,
        email_key=researcher.email.lower(),
        status="active",
        role="researcher",
        oidc_issuer=issuer,
        oidc_subject=subject,
        crypt4gh_public_key=researcher.public_key if key else None,
    )
    db.session.add(user)
    db.session.commit()
    return user


def stored_dataset(accession: str = "DS1", files: int = 2) -> tuple[list[str], dict[str, bytes]]:
    dataset = create_dataset(accession, files=files)
    contents = {}
    for number, file in enumerate(dataset.files):
        content = CONTENT + str(number).encode()
        file_id = db.session.get(AccessionMap, file.accession).file_id
        import_plaintext(UUID(str(file_id)), iter([content]))
        contents[file.accession] = content
    db.session.commit()
    return [file.accession for file in dataset.files], contents


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
