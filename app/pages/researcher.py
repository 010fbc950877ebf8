"""Researchers' pages: the catalog, their access, and work packages."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from app.access import actions as access
from app.access.policy import access_policy
from app.access.requests import services as access_requests
from app.access.requests.schemas import AccessRequestCreation, AccessRequestQuery
from app.access.schemas import GrantQuery
from app.access.services import list_grants
from app.authz.pages import (
    fully_authenticated,
    person_required,
    require_second_factor,
    web_actor,
)
from app.catalog import services as catalog
from app.errors import DomainError
from app.extensions import db
from app.pages import bp
from app.pages.checklist import address_summary
from app.pages.forms import (
    AccessRequestForm,
    DownloadPackageForm,
    UploadPackageForm,
    day_start,
)
from app.pages.paging import Pager
from app.pages.people import as_auth_user, signed_in
from app.pages.secrets import shows_secret
from app.transfer.services import with_content
from app.work_packages import actions as package_actions
from app.work_packages import services as work_packages
from app.work_packages.schemas import CreationRequest

SEARCH_LENGTH = 200


def _access_state(person_id) -> tuple[dict, set]:
    """(granted datasets with their end, datasets with a pending request)."""
    return access_policy().accessible_datasets(person_id), access_requests.pending_datasets(
        person_id
    )


@bp.get("/catalog", endpoint="catalog")
@person_required
def catalog_page():
    person = signed_in()
    search = request.args.get("q", "").strip()[:SEARCH_LENGTH]
    pager = Pager.from_request(per_page=20)
    datasets = pager.fill(catalog.search_datasets(search, pager.skip, pager.per_page))
    granted, pending = _access_state(person.id)
    return render_template(
        "portal/catalog.html",
        datasets=datasets,
        file_counts=catalog.file_counts([d.accession for d in datasets]),
        granted=granted,
        pending=pending,
        search=search,
        pager=pager,
    )


# The dataset page holds the access request form, so it and the request need the
# second factor (ADR 14, everything a person does beyond profile and IVAs; ADR 22).
@bp.get("/catalog/<accession>")
@fully_authenticated
def dataset(accession: str, form: AccessRequestForm | None = None, status: int = 200):
    person = signed_in()
    found = catalog.get_dataset(accession, with_files=False)
    pager = Pager.from_request(per_page=50)
    files = pager.fill(catalog.list_dataset_files(found.accession, pager.skip, pager.per_page))
    granted, pending = _access_state(person.id)
    page = render_template(
        "portal/dataset.html",
        dataset=found,
        files=files,
        with_content=with_content([file.accession for file in files]),
        addresses=address_summary(person.id),
        config_require_iva=current_app.extensions["settings"].require_iva_for_download,
        pager=pager,
        granted_until=granted.get(found.accession),
        pending=found.accession in pending,
        form=form or AccessRequestForm(),
        drs_host=current_app.extensions["settings"].drs_host,
    )
    return page, status


@bp.post("/catalog/<accession>/request-access")
@fully_authenticated
def request_access(accession: str):
    person = signed_in()
    form = AccessRequestForm()
    if not form.validate():
        return dataset(accession, form=form, status=422)
    found = catalog.get_dataset(accession, with_files=False)
    creation = AccessRequestCreation(
        dataset_id=found.accession,
        note=form.note.data or "",
        valid_from=day_start(form.valid_from.data),
        valid_until=day_start(form.valid_until.data),
    )
    access.make_request(web_actor(person), as_auth_user(person), creation)
    flash(f"Your request for {found.accession} was sent to the data stewards.", "success")
    return redirect(url_for("portal.my_access"))


@bp.get("/my-access")
@person_required
def my_access():
    person = signed_in()
    requests_pager = Pager.from_request(per_page=20, arg="requests_page")
    grants_pager = Pager.from_request(per_page=20, arg="grants_page")
    asked = requests_pager.fill(
        access_requests.listing(
            AccessRequestQuery(
                user_id=person.id, skip=requests_pager.skip, limit=requests_pager.per_page
            )
        )
    )
    grants = grants_pager.fill(
        list_grants(
            GrantQuery(
                user_id=person.id,
                include_inactive=True,
                skip=grants_pager.skip,
                limit=grants_pager.per_page,
            )
        )
    )
    return render_template(
        "portal/my_access.html",
        access_requests=asked,
        requests_pager=requests_pager,
        grants=grants,
        grants_pager=grants_pager,
        external_access=not access_policy().local,
        has_address=address_summary(person.id) != "none",
    )


#: A package form refused for want of the second factor, kept in the session until
#: the person is back from passing it (a public key is not a secret).
KEPT_PACKAGE_FORM = "kept_package_form"


def _package_forms(person, download=None, upload=None):
    datasets = work_packages.accessible_datasets(person.id)
    boxes = work_packages.accessible_boxes(person.id)
    kept = session.pop(KEPT_PACKAGE_FORM, None) if download is upload is None else None
    kept_kind = kept.get("kind") if isinstance(kept, dict) else None
    kept_data = MultiDict(kept.get("fields", {})) if kept_kind else None
    download = download or (
        DownloadPackageForm(formdata=kept_data)
        if kept_kind == "download"
        else DownloadPackageForm(formdata=None, dataset_id=request.args.get("dataset"))
    )
    upload = upload or UploadPackageForm(formdata=kept_data if kept_kind == "upload" else None)
    download.dataset_id.choices = [
        SelectChoice(d.id, f"{d.id} · {d.title}") for d in datasets if d.stage == "download"
    ]
    upload.research_data_upload_box_id.choices = [SelectChoice(str(b.id), b.title) for b in boxes]
    # One choice is the choice: preselect it (a form sent back keeps what was sent).
    for field in (download.dataset_id, upload.research_data_upload_box_id):
        if field.data is None and len(field.choices) == 1:
            field.data = field.choices[0].value
    return datasets, boxes, download, upload


@bp.get("/my-work-packages", endpoint="work_packages")
@person_required
def work_packages_page(download=None, upload=None, status: int = 200):
    person = signed_in()
    datasets, boxes, download, upload = _package_forms(person, download, upload)
    page = render_template(
        "portal/work_packages.html",
        packages=work_packages.active_packages(person.id),
        datasets=datasets,
        boxes=boxes,
        download=download,
        upload=upload,
    )
    return page, status


@bp.post("/my-work-packages/download")
@person_required
def create_download_package():
    person = signed_in()
    _, _, form, _ = _package_forms(person, download=DownloadPackageForm())
    return _create_package(person, form, "download", form.dataset_id.data, form.chosen_files())


@bp.post("/my-work-packages/upload")
@person_required
def create_upload_package():
    person = signed_in()
    _, _, _, form = _package_forms(person, upload=UploadPackageForm())
    return _create_package(person, form, "upload", form.research_data_upload_box_id.data, None)


def _create_package(person, form, kind: str, target: str, file_ids):
    failed = {kind: form}  # the page again, with this form as it was sent
    try:
        require_second_factor()
    except DomainError as error:
        # Kept for the way back from the factor page (the link on this page).
        fields = {name: value for name, value in request.form.items() if name != "csrf_token"}
        session[KEPT_PACKAGE_FORM] = {"kind": kind, "fields": fields}
        form.form_errors.append(str(error.detail))
        return work_packages_page(**failed, status=error.status)
    if not form.validate():
        return work_packages_page(**failed, status=422)
    fields = {"type": kind, "user_public_crypt4gh_key": form.user_public_crypt4gh_key.data}
    if kind == "download":
        fields |= {"dataset_id": target, "file_ids": file_ids}
    else:
        fields["research_data_upload_box_id"] = target
    try:
        created = package_actions.create_work_package(
            web_actor(person), as_auth_user(person), CreationRequest.model_validate(fields)
        )
    except ValidationError as error:
        _show_validation_errors(form, error)
        if form.user_public_crypt4gh_key.errors:
            # Never echo a refused key: it may be the private key pasted by mistake.
            form.user_public_crypt4gh_key.data = ""
        return work_packages_page(**failed, status=422)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(str(error.detail))
        return work_packages_page(**failed, status=error.status)
    package = created.package
    target_title = _target_title(package)
    accessions = work_packages.package_files(package.id) if kind == "download" else []
    stored = with_content(accessions)
    return shows_secret(
        render_template(
            "portal/work_package_created.html",
            package=package,
            target_title=target_title,
            token_line=f"{package.id}:{created.sealed_token}",
            wkvs_url=_public_base_url() + "/.well-known",
            files_without_content=[a for a in accessions if a not in stored],
        )
    )


def _public_base_url() -> str:
    return str(current_app.extensions["settings"].public_base_url).rstrip("/")


def _target_title(package) -> str:
    if package.type == "download":
        return catalog.get_dataset(package.dataset_accession, with_files=False).title
    return catalog.get_upload_box(package.research_data_upload_box_id).title


def _show_validation_errors(form, error: ValidationError) -> None:
    for item in error.errors():
        field = getattr(form, str(item["loc"][0]), None) if item["loc"] else None
        message = item["msg"].removeprefix("Value error, ")
        message = message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
