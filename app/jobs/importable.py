"""Dataset manifests dropped into INPUT_DIR: `<ACCESSION>.json`, the dataset event payload."""

import json
from pathlib import Path

from flask import current_app
from pydantic import ValidationError

from app.catalog.schemas import DatasetPayload
from app.errors import NotFound
from app.jobs.schemas import ImportableDataset


class ManifestNotFound(NotFound):
    """No such importable dataset."""

    code = "manifest_not_found"


def input_dir() -> Path:
    settings = current_app.extensions["settings"]
    folder = settings.input_dir or Path(current_app.instance_path) / "input"
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def listing() -> list[ImportableDataset]:
    folder = input_dir()
    return [_describe(path) for path in sorted(folder.glob("*.json")) if _inside(path, folder)]


def load(name: str) -> DatasetPayload:
    """The manifest's dataset, or ValueError saying what is wrong with it."""
    path = _path(name)
    try:
        payload = DatasetPayload.model_validate(json.loads(path.read_text()))
    except (ValueError, ValidationError) as error:
        raise ValueError(f"manifest {name}.json is invalid: {error}") from None
    if payload.accession != name:
        raise ValueError(f"manifest {name}.json describes {payload.accession}")
    return payload


def delete(name: str) -> None:
    _path(name).unlink()


def _path(name: str) -> Path:
    folder = input_dir()
    path = folder / f"{name}.json"
    # Names are validated by the route; this also refuses symlinks out of the folder.
    try:
        usable = path.is_file() and _inside(path, folder)
    except OSError:  # e.g. a name longer than the filesystem allows
        usable = False
    if not usable:
        raise ManifestNotFound(f"No importable dataset {name}")
    return path


def _inside(path: Path, folder: Path) -> bool:
    return not path.is_symlink() and path.resolve().parent == folder


def _describe(path: Path) -> ImportableDataset:
    try:
        load(path.stem)
    except ValueError as error:
        return ImportableDataset(name=path.stem, valid=False, error=str(error)[:500])
    return ImportableDataset(name=path.stem, valid=True, error=None)
