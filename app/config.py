"""Typed settings, read from environment variables and an optional YAML file.

Every setting is read from the environment variable of the same name in upper
case (no prefix). `WPS_CONFIG_YAML` may name a YAML file whose keys are the same
names; environment variables win over the file.
"""

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_YAML_VARIABLE = "WPS_CONFIG_YAML"


class TrustedIssuer(BaseModel):
    """A Passport or Visa issuer on the allow-list, with the only key set URL it may name."""

    model_config = ConfigDict(extra="forbid")

    iss: str = Field(min_length=1)
    jku: AnyHttpUrl


class SettingsError(SystemExit):
    """Start-up stops here; the message is one line naming the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", validate_default=True)

    deployment: Literal["development", "production"] = Field(
        "development",
        description="`production` refuses to start on generated development secrets.",
    )
    single_replica: bool = Field(
        False,
        description="This deployment runs one API, worker and consumer process each on one "
        "machine. Only then may `DEPLOYMENT=production` keep state on that machine: local "
        "file storage, `INPUT_DIR` in the instance folder, rate limits in process memory "
        "(`RATELIMIT_STORAGE_URI=memory://`).",
    )
    instance_path: Path | None = Field(
        None,
        description="Folder for the SQLite database, generated keys and local files. "
        "Default: `instance/` in the repository.",
    )
    sqlalchemy_database_uri: str | None = Field(
        None,
        description="Database URL. Default: SQLite file `wps.sqlite` in the instance folder.",
    )
    sqlalchemy_pool_size: int = Field(
        10, ge=1, description="Connections kept per process (PostgreSQL)."
    )
    celery_broker_url: str | None = Field(
        None, description="Celery broker, e.g. `redis://127.0.0.1:6379/0`."
    )
    celery_result_backend: str | None = Field(
        None,
        description="Celery result backend (e.g. `redis://...`). Default: none; the "
        "service reads no task results.",
    )
    celery_always_eager: bool | None = Field(
        None,
        description="Run tasks inside the calling process. Default: true when no broker is set.",
    )
    celery_visibility_timeout: int = Field(
        3600,
        ge=1,
        description="Redis broker: seconds before a task taken by a worker that vanished "
        "is handed out again. Longer than the longest task.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Flask secret and HMAC key for signed URLs. Generated into the "
        "instance folder when unset (development only).",
    )
    max_content_length: int = Field(
        1024 * 1024, gt=0, description="Largest accepted request body in bytes (JSON APIs)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Lowest level that is logged."
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="`json`: one JSON object per line; `text`: for humans."
    )
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to make cross-origin requests: a JSON list or "
        "comma-separated. Empty: none.",
    )
    api_root_path: str = Field(
        "",
        description="Path prefix under which a proxy exposes the API, e.g. `/api/wps`.",
    )
    trusted_proxy_hops: int = Field(
        0,
        ge=0,
        le=10,
        description="Reverse proxies in front of the service that set `X-Forwarded-For`, "
        "`-Proto` and `-Host`; that many entries of each are trusted, so rate limits count "
        "the real client. 0 (no proxy, as in docker-compose): the headers are ignored.",
    )
    public_base_url: AnyHttpUrl = Field(
        "http://127.0.0.1:5000",
        description="Absolute URL clients use to reach this service.",
    )
    auth_mode: Literal["standalone", "external"] = Field(
        "standalone",
        description="`standalone`: this service keeps accounts and issues internal tokens "
        "(signed with `AUTH_SIGNING_KEY`). `external`: tokens come from another identity "
        "provider and are verified with `AUTH_KEY`; signup is off.",
    )
    auth_key: str | None = Field(
        None,
        description="External mode: the identity provider's public key (JWK JSON, EC "
        "P-256) that verifies internal tokens.",
    )
    auth_signing_key: SecretStr | None = Field(
        None,
        description="Standalone mode: private key (JWK JSON, EC P-256) that signs internal "
        "tokens. Generated when unset (development only).",
    )
    access_token_minutes: int = Field(
        60, ge=1, le=1440, description="Life of access tokens issued by `/token/refresh`."
    )
    refresh_token_days: int = Field(
        30, ge=1, le=365, description="Life of refresh tokens; each use replaces the token."
    )
    mfa_token_family_max_age: int = Field(
        30 * 86400,
        ge=3600,
        le=365 * 86400,
        description="Seconds an API token made after the second factor (a refresh-token "
        "chain whose access tokens say `mfa`) works, counted from its creation however "
        "often it is used; then `/token/refresh` answers 401 `api_token_too_old` and the "
        "person makes a new one in the portal after their code.",
    )
    initial_admin_email: str | None = Field(
        None,
        description="The person whose identity provider says `email_verified: true` for "
        "this address (any case) is an active admin at their first sign-in, only while no "
        "account has ever been admin; the operators are told. Afterwards the address is "
        "an ordinary person's. Never applies to `POST /users/signup`.",
    )
    oidc_issuer: str | None = Field(
        None,
        description="OpenID Connect provider people sign in with (its discovery document is "
        "`{issuer}/.well-known/openid-configuration`). Required when DEPLOYMENT=production "
        "and AUTH_MODE=standalone. Unset in development: a development sign-in page.",
    )
    oidc_client_id: str | None = Field(
        None, description="This service's client id at the provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        None, description="This service's client secret at the provider."
    )
    oidc_scopes: str = Field(
        "openid email profile", description="Scopes asked of the provider (space-separated)."
    )
    sign_in_rate_limit: str = Field(
        "30 per minute",
        description="Sign-in callbacks allowed per client address (flask-limiter syntax).",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        description="Verifies Slack's requests to `/slack/interactions` (the Slack app's "
        "signing secret). Unset: Slack buttons are refused.",
    )
    slack_approver_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Slack user ids allowed to approve or reject people with the buttons "
        "(JSON list or comma-separated). Required in production when "
        "`SLACK_SIGNING_SECRET` is set; empty in development: anyone in the channel.",
    )
    slack_response_url_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["hooks.slack.com"],
        description="Hosts a Slack `response_url` may point at (JSON list or "
        "comma-separated); only `https` URLs on these are followed, others are logged "
        "(host only) and dropped.",
    )
    signup_rate_limit: str = Field(
        "5 per minute", description="Signups allowed per client address (flask-limiter syntax)."
    )
    max_ivas_per_person: int = Field(
        5,
        ge=1,
        description="Verification addresses a person may have at once; adding one more is "
        "refused with 409 `iva_limit_reached` (delete one first).",
    )
    iva_code_requests_per_day: int = Field(
        3,
        ge=1,
        description="Verification code requests a person may make in any 24 hours, over all "
        "their addresses (counted in the audit record, so restarts and deleted addresses "
        "do not reset it); beyond it 429 `too_many_requests` with `Retry-After`. Each "
        "request asks a steward by webhook.",
    )
    max_iva_verification_attempts: int = Field(
        10,
        ge=1,
        description="Wrong codes a person may enter for one code (GHGA's name and value); "
        "the last one sends the address back to `unverified` (429 "
        "`iva_too_many_attempts`).",
    )
    iva_code_valid_days: int = Field(
        7,
        ge=1,
        description="Days a verification code works after a steward created it; entering "
        "it later is refused with 410 `iva_code_expired` and the address is `unverified` "
        "again (request a new code).",
    )
    access_request_limit: str = Field(
        "20 per hour",
        description="Access requests a person may make (flask-limiter syntax); beyond it a 429.",
    )
    repeat_notice_minutes: int = Field(
        15,
        ge=0,
        description="At most one operator message per verification address or per person "
        "and requested dataset/box in this many minutes (0: every time).",
    )
    ratelimit_storage_uri: str | None = Field(
        None,
        description="Where rate limits are counted. Default: the Celery broker if it is "
        "Redis, else process memory.",
    )
    notify_webhook_url: AnyHttpUrl | None = Field(
        None,
        description="Slack-compatible webhook told of new people (with Approve and Reject "
        "buttons) and access requests.",
    )
    smtp_host: str | None = Field(
        None, description="SMTP server for account e-mails; unset: none sent."
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP user name.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Use STARTTLS.")
    smtp_from: str = Field("wps@localhost", description="Sender address of account e-mails.")
    auth_algs: list[Literal["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"]] = Field(
        ["ES256"],
        min_length=1,
        description="Algorithms accepted for internal tokens (asymmetric only).",
    )
    work_package_signing_key: SecretStr | None = Field(
        None,
        description="Private key (JWK JSON, EC P-256) that signs work order tokens; its "
        "`kid` is published at `/.well-known/jwks.json`. Generated when unset "
        "(development only).",
    )
    work_package_valid_days: int = Field(
        30, ge=1, le=3650, description="How many days a work package stays valid."
    )
    access_url: AnyHttpUrl | None = Field(
        None,
        description="Base URL of an external access API (GHGA claims repository paths). "
        "Unset: access grants are kept by this service.",
    )
    access_timeout: float = Field(
        10.0, gt=0, description="Seconds to wait for the external access API."
    )
    dataset_change_topic: str = Field("metadata-datasets", description="Topic of dataset events.")
    dataset_upsertion_type: str = Field(
        "dataset_upserted", description="Event type of a new or changed dataset."
    )
    dataset_deletion_type: str = Field(
        "dataset_deleted", description="Event type of a deleted dataset."
    )
    upload_box_topic: str = Field("upload-boxes", description="Topic of upload box events.")
    upload_box_upsertion_type: str = Field(
        "upserted", description="Event type of a new or changed upload box."
    )
    upload_box_deletion_type: str = Field(
        "deleted", description="Event type of a deleted upload box."
    )
    accession_map_topic: str = Field(
        "file-accession-mappings", description="Topic of file accession map events."
    )
    accession_map_upsertion_type: str = Field(
        "upserted", description="Event type of a new or changed accession mapping."
    )
    accession_map_deletion_type: str = Field(
        "deleted", description="Event type of a removed accession mapping."
    )
    events_max_batch: int = Field(
        500, ge=1, description="Most events accepted in one `POST /events` (more: 413)."
    )
    events_max_body_bytes: int = Field(
        32 * 1024 * 1024,
        gt=0,
        description="Largest `POST /events` body in bytes (dataset events list every file).",
    )
    event_max_attempts: int = Field(
        5, ge=1, description="Attempts to apply an event before it is dead."
    )
    event_retry_backoff_seconds: float = Field(
        2.0, ge=0, description="First retry delay; doubles with every further attempt."
    )
    event_requeue_after_seconds: float = Field(
        10.0,
        gt=0,
        description="Pending events older than this are enqueued again by beat (the safety "
        "net when the broker lost a message or was down at ingest).",
    )
    event_apply_keys_per_task: int = Field(
        250,
        ge=1,
        description="Keys handed to one worker task; the task applies their pending events "
        "together, with one statement per table.",
    )
    event_apply_max_events: int = Field(
        5000,
        ge=1,
        description="Most events one worker task reads and applies; a longer backlog is "
        "taken by the next task (memory stays bounded by this).",
    )
    event_retention_days: float = Field(
        7, gt=0, description="Applied, skipped and discarded events are purged after this."
    )
    kafka_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description='Kafka bootstrap servers, a JSON list (`["kafka:9092"]`; comma-separated '
        "is taken too). Empty: no "
        "Kafka; events arrive only through `POST /events` and `invoke consume-events` "
        "refuses to start.",
    )
    service_name: str = Field(
        "wps",
        min_length=1,
        description="Kafka consumer group of `invoke consume-events` (processes with the same "
        "name share the partitions) and first part of the client id.",
    )
    service_instance_id: str | None = Field(
        None,
        min_length=1,
        description="Second part of the Kafka client id `SERVICE_NAME.SERVICE_INSTANCE_ID`; "
        "unique per consumer process. Default: the host name.",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL"] = Field(
        "PLAINTEXT", description="Protocol spoken to the Kafka brokers: PLAINTEXT or SSL."
    )
    kafka_ssl_cafile: str = Field(
        "",
        description="SSL: file of the CA certificates that signed the brokers' certificates. "
        "Empty: the system's CAs.",
    )
    kafka_ssl_certfile: str = Field("", description="SSL: file of this client's certificate.")
    kafka_ssl_keyfile: str = Field("", description="SSL: file of this client's private key.")
    kafka_ssl_password: SecretStr = Field(
        SecretStr(""), description="SSL: password of the client's private key, if it has one."
    )
    kafka_max_message_size: int = Field(
        1024 * 1024,
        gt=0,
        description="Largest Kafka message in bytes, before compression: the most fetched per "
        "partition and the most published to the dead letter topic.",
    )
    kafka_max_retries: int = Field(
        0,
        ge=0,
        description="Times the consumer retries storing valid records when the database "
        "fails, before it takes the dead path (invalid records are never retried).",
    )
    kafka_retry_backoff: int = Field(
        0, ge=0, description="Seconds before the first retry; doubles with every further retry."
    )
    kafka_enable_dlq: bool = Field(
        False,
        description="Publish records that can never be applied (bad JSON, unknown type, invalid "
        "payload) to `KAFKA_DLQ_TOPIC`, with hexkit's DLQ headers. They are listed as "
        "`rejected` in the event list either way.",
    )
    kafka_dlq_topic: str = Field(
        "dlq", min_length=1, description="Dead letter topic for rejected records."
    )
    kafka_compression_type: Literal["gzip", "snappy", "lz4", "zstd"] | None = Field(
        None, description="Compression of what the consumer publishes (the dead letter topic)."
    )
    generate_correlation_id: bool = Field(
        True,
        description="A record without a `correlation_id` header gets a new one; false: such a "
        "record is rejected.",
    )
    kafka_consumer_batch: int = Field(
        500,
        ge=1,
        le=10_000,
        description="Most records the consumer stores in one database transaction before it "
        "commits their offsets.",
    )
    storage_backend: Literal["local", "s3"] = Field(
        "local", description="Where file content lives: `local` folder or `s3`."
    )
    storage_alias: str = Field(
        "local",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Name of this storage, given to clients with its Crypt4GH key.",
    )
    storage_path: Path | None = Field(
        None, description="Folder of the local backend. Default: `storage/` in the instance folder."
    )
    storage_crypt4gh_private_key: SecretStr | None = Field(
        None,
        description="The storage's Crypt4GH private key (base64 of 32 bytes); uploads are "
        "encrypted to its public key. Generated when unset (development only).",
    )
    s3_endpoint_url: str | None = Field(None, description="S3 endpoint (S3 backend).")
    s3_bucket: str = Field("wps-files", description="S3 bucket (S3 backend).")
    s3_region: str = Field("us-east-1", description="S3 region (S3 backend).")
    s3_access_key_id: str | None = Field(None, description="S3 access key id.")
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret access key.")
    signed_url_valid_seconds: int = Field(
        120, ge=60, le=86400, description="Life of signed download and part-upload URLs."
    )
    upload_part_max_bytes: int = Field(
        5 * 1024**3, gt=0, description="Largest accepted upload part in bytes."
    )
    max_concurrent_uploads_per_box: int = Field(
        5,
        gt=0,
        le=100_000,
        description="Uploads a file upload box may have open (started, not yet closed) at "
        "once; one more is refused with 429 `tooManyOpenUploads`. GHGA's upload "
        "controller 15 has the same setting and default.",
    )
    drs_hostname: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9.-]+(:[0-9]+)?$",
        description="Host named in DRS URIs (`drs://{DRS_HOSTNAME}/{id}`); clients resolve "
        "them at `https://{host}/ga4gh/drs/v1`. Default: the host of `PUBLIC_BASE_URL`.",
    )
    drs_max_bulk_request_length: int = Field(
        100, ge=1, le=10_000, description="Most object ids one DRS bulk request may name (413)."
    )
    drs_organization_name: str = Field(
        "Work Package Service", min_length=1, description="Organization in DRS service-info."
    )
    drs_organization_url: AnyHttpUrl | None = Field(
        None, description="Organization URL in DRS service-info. Default: `PUBLIC_BASE_URL`."
    )
    passport_trusted_issuers: list[TrustedIssuer] = Field(
        default_factory=list,
        description='GA4GH Passport and Visa issuers whose tokens count: a JSON list of `{"iss": '
        '..., "jku": ...}`; a token is verified only with keys fetched from the `jku` paired '
        "with its `iss`. Empty: Passports are refused.",
    )
    passport_dataset_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Visa `value`s that stand for a dataset besides "
        "`{PUBLIC_BASE_URL}/datasets/{accession}`: a JSON object value -> dataset accession.",
    )
    passport_jwks_cache_seconds: int = Field(
        300, ge=0, le=86400, description="How long keys fetched from a trusted `jku` are kept."
    )
    visa_signing_key: SecretStr | None = Field(
        None,
        description="Private key (JWK JSON, EC P-256) that signs the Visas this service issues "
        "for its grants; published at `/ga4gh/passport/v1/jwks.json` (not the work order key "
        "set). Generated when unset (development only).",
    )
    visa_previous_signing_key: SecretStr | None = Field(
        None,
        description="The visa key before the last rotation (JWK JSON): its public half stays "
        "published so that visas it signed still verify until they expire.",
    )
    visa_valid_days: int = Field(
        365, ge=1, le=3650, description="Life of an issued visa when its grant ends later."
    )
    enable_opentelemetry: bool = Field(
        False,
        description="Trace requests, SQL and Celery tasks with OpenTelemetry, exported over "
        "OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`, default http://localhost:4318).",
    )
    otel_trace_sampling_rate: float = Field(
        1.0, ge=0, le=1, description="Share of traces sampled (parent-based)."
    )
    otel_service_name: str = Field("wps", description="`service.name` of the traces.")
    metrics_enabled: bool = Field(
        False,
        description="Serve Prometheus metrics at `/metrics` (keep it off the public "
        "network). With several server workers set PROMETHEUS_MULTIPROC_DIR too.",
    )
    input_dir: Path | None = Field(
        None,
        description="Folder of importable dataset manifests (`<ACCESSION>.json`). Default: "
        "`input/` in the instance folder.",
    )
    work_package_retention_days: float = Field(
        30, ge=0, description="Work packages are deleted this long after they expired."
    )
    require_second_factor: bool = Field(
        True,
        description="People must pass their TOTP second factor in a session before they "
        "create work packages or API tokens or act as steward or admin. `false` is "
        "allowed only with `DEPLOYMENT=development` (and logs a warning at start).",
    )
    second_factor_max_age: int = Field(
        12 * 3600,
        ge=60,
        description="Seconds a passed second factor counts in a browser session before "
        "the person is asked for a code again.",
    )
    second_factor_enrol_max_age: int = Field(
        600,
        ge=30,
        le=86400,
        description="Setting up or replacing a second factor needs a provider sign-in at "
        "most this many seconds old (the id_token's `auth_time`); an older one sends the "
        "person to the provider again (`prompt=login`, `max_age`).",
    )
    session_idle_timeout: int = Field(
        1800,
        ge=60,
        description="Seconds a browser session may go unused before the person must sign "
        "in again (measured to the minute).",
    )
    session_max_age: int = Field(
        12 * 3600,
        ge=60,
        description="Seconds after sign-in a browser session ends however busy it is.",
    )
    require_iva_for_download: bool = Field(
        True,
        description="A steward allowing a person's download access request must bind the "
        "grant to one of the person's verification addresses (IVAs); the grant works "
        "only while that address is verified. Grants made before, or by applications "
        "with `POST /access-grants`, need none.",
    )

    @field_validator(
        "cors_allowed_origins", "slack_approver_ids", "slack_response_url_hosts", mode="before"
    )
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("slack_approver_ids")
    @classmethod
    def _approvers_named_in_production(cls, value: list[str], info) -> list[str]:
        # Without the list, anyone in the channel could approve people.
        data = info.data
        if (
            not value
            and data.get("deployment") == "production"
            and data.get("slack_signing_secret")
        ):
            raise ValueError("required when SLACK_SIGNING_SECRET is set and DEPLOYMENT=production")
        return value

    @field_validator("public_base_url", mode="before")
    @classmethod
    def _base_url_with_scheme(cls, value):
        # "127.0.0.1:5001" would get pydantic's sentence about URL schemes.
        if isinstance(value, str) and "://" not in value:
            raise ValueError(f"add http:// or https:// in front: http://{value.strip()}")
        return value

    @field_validator("slack_response_url_hosts")
    @classmethod
    def _lower_case_hosts(cls, value: list[str]) -> list[str]:
        return [host.lower() for host in value]

    @field_validator("kafka_servers", mode="before")
    @classmethod
    def _parse_servers(cls, value):
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value.startswith("["):
            return [server.strip() for server in value.split(",") if server.strip()]
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f'not a JSON list of "host:port" strings ({error})') from None

    @field_validator("require_second_factor")
    @classmethod
    def _second_factor_only_off_in_development(cls, value: bool, info) -> bool:
        if not value and info.data.get("deployment") != "development":
            raise ValueError("may be false only with DEPLOYMENT=development")
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_without_trailing_slash(cls, value: str | None) -> str | None:
        return value.strip().rstrip("/") or None if value else None

    @field_validator("api_root_path")
    @classmethod
    def _normalise_root_path(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @field_validator("sqlalchemy_database_uri")
    @classmethod
    def _use_installed_postgres_driver(cls, value: str | None) -> str | None:
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; we ship psycopg2.
        if value is None:
            return None
        for scheme in ("postgresql://", "postgres://"):
            if value.startswith(scheme):
                return "postgresql+psycopg2://" + value[len(scheme) :]
        return value

    # Production with replicas keeps no state on one machine (ADR 31). Each refusal is
    # its own small validator: one line naming the setting and what to do instead.

    @model_validator(mode="after")
    def _no_local_storage_with_replicas(self) -> "Settings":
        if self._replicated_production and self.storage_backend == "local":
            raise SettingsError(
                "Invalid setting STORAGE_BACKEND: `local` keeps files on one machine; with "
                "DEPLOYMENT=production use `s3`, or set SINGLE_REPLICA=true"
            )
        return self

    @model_validator(mode="after")
    def _no_input_folder_in_the_instance_with_replicas(self) -> "Settings":
        if not self._replicated_production:
            return self
        instance = self.instance_path or Path(__file__).resolve().parent.parent / "instance"
        if self.input_dir is None or self.input_dir.resolve().is_relative_to(instance.resolve()):
            raise SettingsError(
                "Invalid setting INPUT_DIR: the instance folder is one machine's; with "
                "DEPLOYMENT=production name a folder every worker mounts, or set "
                "SINGLE_REPLICA=true"
            )
        return self

    @model_validator(mode="after")
    def _shared_rate_limits_in_production(self) -> "Settings":
        if self.deployment != "production":
            return self
        uri = self.ratelimit_storage_uri or ""
        redis_broker = (self.celery_broker_url or "").startswith(("redis://", "rediss://"))
        in_memory = uri.startswith("memory://") or (not uri and not redis_broker)
        if in_memory and not (self.single_replica and uri):
            raise SettingsError(
                "Invalid setting RATELIMIT_STORAGE_URI: with DEPLOYMENT=production rate "
                "limits are counted in a shared store (e.g. redis://...) or the Redis "
                "broker; `memory://` counts per process and needs SINGLE_REPLICA=true"
            )
        return self

    @property
    def _replicated_production(self) -> bool:
        return self.deployment == "production" and not self.single_replica

    @property
    def drs_host(self) -> str:
        """The host of DRS URIs: `DRS_HOSTNAME`, or the host of `PUBLIC_BASE_URL`."""
        if self.drs_hostname:
            return self.drs_hostname
        url = self.public_base_url
        return f"{url.host}:{url.port}" if url.port not in (None, 80, 443) else str(url.host)

    @property
    def eager_tasks(self) -> bool:
        if self.celery_always_eager is not None:
            return self.celery_always_eager
        return self.celery_broker_url is None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings]
        yaml_path = os.environ.get(CONFIG_YAML_VARIABLE)
        if yaml_path:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_path))
        return tuple(sources)


def load_settings(**overrides) -> Settings:
    """Settings from the environment, or SettingsError with one clear line."""
    yaml_path = os.environ.get(CONFIG_YAML_VARIABLE)
    if yaml_path and not Path(yaml_path).is_file():
        raise SettingsError(f"Invalid setting {CONFIG_YAML_VARIABLE}: no such file {yaml_path!r}")
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(describe_settings_error(error)) from None
    except ValueError as error:  # e.g. a list setting that is not valid JSON
        raise SettingsError(f"Invalid settings: {error}") from None


def describe_settings_error(error: ValidationError) -> str:
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"]).upper()
    given = first.get("input")
    echo = isinstance(given, str | int | float) and not _looks_secret(name)
    shown = f" (got {given!r})" if echo else ""
    more = len(error.errors()) - 1
    tail = f"; and {more} more" if more else ""
    message = first["msg"].removeprefix("Value error, ")
    return f"Invalid setting {name}: {message}{shown}{tail}"


def _looks_secret(name: str) -> bool:
    return any(word in name for word in ("KEY", "SECRET", "PASSWORD", "TOKEN"))
