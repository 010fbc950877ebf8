"""The guide at the top of the OpenAPI document: which credential, and how to get it.

Swagger UI (`/apidocs/`) shows it above the endpoints. Links are relative to that
page, so they hold behind a proxy that serves the API under a path prefix.
"""

API_GUIDE = """\
Decides who may download or upload which files of controlled-access datasets, and
proves it with short-lived signed tokens that only the user can read. It speaks the
protocol of the GHGA work package service 10, so `ghga-connector` works against it.

### Credentials: what each is for, and how to get it

- **Application key**, header `Workflow-API-Key: <key>`: for applications and
  operators (catalog, grants, access decisions, events, jobs, accounts; each endpoint
  names the permission it needs). An operator makes one on the server:
  `invoke create-application-key -n NAME -p PERMISSION` prints it once. Permissions:
  `ADMIN`, `DATA_STEWARD`, `FEED_PUBLISHER`, `USER_ADMIN`, `JOBS_ADMIN`, `WORKER`, `VISA_READER`.
- **Refresh token**, a person's, sent in the body of `POST /token/refresh`:
  `POST /users/signup` answers the first one, usable once an admin accepted the
  account (`POST /users/{user_id}/accept`, or `invoke accept-user`). Each works once
  and `POST /token/refresh` answers the next. Lost, spent, or the account was enabled
  again: an admin issues a new one with `POST /users/{user_id}/refresh-token`, an
  operator with `invoke issue-refresh-token ACCOUNT` (id or e-mail address).
- **Access token**, a person's, header `Authorization: Bearer <JWT>`: for their own
  calls (`/work-packages`, `/users/me`, `/access-requests`) and an admin's account and
  access decisions. `POST /token/refresh` answers it; it lasts `ACCESS_TOKEN_MINUTES`.
- **Work package access token**, header `Authorization: Bearer <24 characters>`: for
  one work package, its details and its work order tokens. `POST /work-packages`
  answers it sealed to the person's Crypt4GH public key; they open it with the private
  key. `ghga-connector` takes `<package id>:<sealed token>` and opens it itself.
- **Work order token**, header `Authorization: Bearer <JWT>`: for one file operation
  at `/download/...` or `/upload/...`, valid 30 seconds.
  `POST /work-packages/{work_package_id}/files/{accession}/work-order-tokens` (download) and
  `POST /work-packages/{work_package_id}/boxes/{box_id}/work-order-tokens` (upload) answer it,
  sealed to the same key.

The **Authorize** button sends a credential with "Try it out". A missing or invalid
credential answers 401; a valid one without the right answers 403 naming what is
needed. Every error is `{"detail": ..., "code": ...}`.

### Links

[OpenAPI document](../openapi.json) ·
[values for ghga-connector](../.well-known/values) ·
[keys that verify work order tokens](../.well-known/jwks.json) ·
[health](../health) ·
the repository's README walks through both journeys with `curl` and `ghga-connector`.
"""
