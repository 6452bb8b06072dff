"""Tables (MCP hosting's are in mcp_tables). Timestamps are ISO-8601 UTC strings (sortable, identical
on SQLite and PostgreSQL); profiles are JSON documents validated by `dockyard.domain.profiles` on the
way in."""

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ID = String(40)
TS = String(32)


class Base(DeclarativeBase):
    pass


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    created_at: Mapped[str] = mapped_column(TS)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(TS)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[str] = mapped_column(TS)
    revoked_at: Mapped[str | None] = mapped_column(TS)


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(63))
    description: Mapped[str | None] = mapped_column(Text)
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active")
    archived_at: Mapped[str | None] = mapped_column(TS)
    archive_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ux_projects_org_slug", "organization_id", "slug", unique=True),)


class Environment(Base):
    __tablename__ = "environments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    parent_environment_id: Mapped[str | None] = mapped_column(ID)
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active")
    locked_at: Mapped[str | None] = mapped_column(TS)
    lock_reason: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[str | None] = mapped_column(TS)
    archive_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (
        Index("ux_environments_project_name", "project_id", "name", unique=True),
        Index("ix_environments_project_id", "project_id", "id"),
    )


class Server(Base):
    __tablename__ = "servers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    provider_key: Mapped[str] = mapped_column(String(40))
    target_kind: Mapped[str] = mapped_column(String(20))
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active")
    deactivated_at: Mapped[str | None] = mapped_column(TS)
    deactivation_reason: Mapped[str | None] = mapped_column(Text)
    edge_proxy: Mapped[dict[str, Any]] = mapped_column(JSON)
    credential: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_control_plane: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[str] = mapped_column(TS)


class Resource(Base):
    __tablename__ = "resources"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    destination_id: Mapped[str | None] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    services: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    runtime_profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    network_profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    access_profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    health_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The last stop/start/restart asked of its instance (RuntimeControlAttempt's wire shape).
    latest_runtime_control: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active")
    archived_at: Mapped[str | None] = mapped_column(TS)
    deleted_at: Mapped[str | None] = mapped_column(TS)
    created_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (
        Index("ix_resources_project_id", "project_id", "id"),
        Index("ix_resources_environment_id", "environment_id", "id"),
        Index("ix_resources_environment_slug", "environment_id", "slug"),
        # Counting live resources reads this small index instead of every row's JSON profiles.
        Index(
            "ix_resources_live",
            "id",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class Deployment(Base):
    __tablename__ = "deployments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(ID)
    destination_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(20))
    trigger_kind: Mapped[str] = mapped_column(String(20))
    source_deployment_id: Mapped[str | None] = mapped_column(ID)
    rollback_of_deployment_id: Mapped[str | None] = mapped_column(ID)
    source_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    runtime_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Loaded when read: with many variables it is large, and the pipeline reloads the row often.
    environment_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    runtime_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    log_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(TS)
    started_at: Mapped[str | None] = mapped_column(TS)
    finished_at: Mapped[str | None] = mapped_column(TS)
    archived_at: Mapped[str | None] = mapped_column(TS)
    __table_args__ = (
        Index("ix_deployments_resource_id", "resource_id", "id"),
        Index("ix_deployments_project_id", "project_id", "id"),
        Index("ix_deployments_status", "status"),
    )


class DeploymentLog(Base):
    """One timeline line: a phase's progress, or output of install/build/start (already masked)."""

    __tablename__ = "deployment_logs"
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    timestamp: Mapped[str] = mapped_column(TS)
    source: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    masked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DeploymentEvent(Base):
    """A state change of a deployment: requested, phase started/finished, succeeded, failed…"""

    __tablename__ = "deployment_events"
    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    emitted_at: Mapped[str] = mapped_column(TS)
    event_type: Mapped[str] = mapped_column(String(40))
    phase: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    retriable: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str] = mapped_column(Text)


class WorkItem(Base):
    """Durable background work, claimed by a worker with a lease (see dockyard.work)."""

    __tablename__ = "work_items"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[str | None] = mapped_column(TS)
    run_after: Mapped[str] = mapped_column(TS)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    # The ledger's view (operator-work): what it is about, where it got to, how it ended, its lineage.
    operation_key: Mapped[str | None] = mapped_column(String(80))
    project_id: Mapped[str | None] = mapped_column(ID)
    resource_id: Mapped[str | None] = mapped_column(ID)
    deployment_id: Mapped[str | None] = mapped_column(ID)
    server_id: Mapped[str | None] = mapped_column(ID)
    domain_binding_id: Mapped[str | None] = mapped_column(ID)
    certificate_id: Mapped[str | None] = mapped_column(ID)
    phase: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(80))
    started_at: Mapped[str | None] = mapped_column(TS)
    finished_at: Mapped[str | None] = mapped_column(TS)
    error_code: Mapped[str | None] = mapped_column(String(60))
    error_category: Mapped[str | None] = mapped_column(String(30))
    retriable: Mapped[bool | None] = mapped_column(Boolean)
    retry_of_work_id: Mapped[str | None] = mapped_column(ID)
    safe_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (
        Index("ix_work_items_claim", "status", "run_after"),
        Index("ix_work_items_subject", "subject_id"),
        Index("ix_work_items_resource", "resource_id", "id"),
        Index("ix_work_items_deployment", "deployment_id"),
        Index("ix_work_items_status", "status", "id"),
    )


class AccessPolicy(Base):
    """How generated hostnames are made: one row per scope (`system`, or `server:<id>`)."""

    __tablename__ = "access_policies"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(60), unique=True)
    scope_kind: Mapped[str] = mapped_column(String(20))
    server_id: Mapped[str | None] = mapped_column(ID)
    mode: Mapped[str] = mapped_column(String(20))
    provider_key: Mapped[str | None] = mapped_column(String(40))
    template_ref: Mapped[str | None] = mapped_column(String(253))
    updated_at: Mapped[str] = mapped_column(TS)


class AccessRoute(Base):
    """A hostname the edge serves for a resource; unique across the platform."""

    __tablename__ = "access_routes"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(ID)
    hostname: Mapped[str] = mapped_column(String(253), unique=True)
    path_prefix: Mapped[str] = mapped_column(String(200), default="/")
    source: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ix_access_routes_resource", "resource_id", "id"),)


class DomainBinding(Base):
    """A custom domain bound to a resource on a server; routed once its DNS ownership is verified."""

    __tablename__ = "domain_bindings"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(ID)
    destination_id: Mapped[str | None] = mapped_column(ID)
    domain_name: Mapped[str] = mapped_column(String(253), unique=True)
    path_prefix: Mapped[str] = mapped_column(String(200), default="/")
    proxy_kind: Mapped[str] = mapped_column(String(20))
    tls_mode: Mapped[str] = mapped_column(String(20))
    redirect_to: Mapped[str | None] = mapped_column(String(253))
    redirect_status: Mapped[int] = mapped_column(Integer, default=301)
    certificate_policy: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    dns_observation: Mapped[dict[str, Any]] = mapped_column(JSON)
    verification_attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    last_verification_attempt_id: Mapped[str | None] = mapped_column(ID)
    verified_at: Mapped[str | None] = mapped_column(TS)
    created_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (
        Index("ix_domain_bindings_resource", "resource_id", "id"),
        Index("ix_domain_bindings_project", "project_id", "id"),
        Index("ix_domain_bindings_environment", "environment_id", "id"),
    )


class Certificate(Base):
    """A TLS certificate of a domain binding: metadata only; chain and key are files (domain.certificates)."""

    __tablename__ = "certificates"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    domain_binding_id: Mapped[str] = mapped_column(ForeignKey("domain_bindings.id", ondelete="CASCADE"))
    domain_name: Mapped[str] = mapped_column(String(253))
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    provider_key: Mapped[str | None] = mapped_column(String(40))
    challenge_type: Mapped[str | None] = mapped_column(String(20))
    issued_at: Mapped[str | None] = mapped_column(TS)
    expires_at: Mapped[str | None] = mapped_column(TS)
    not_before: Mapped[str | None] = mapped_column(TS)
    fingerprint: Mapped[str | None] = mapped_column(String(100))
    issuer: Mapped[str | None] = mapped_column(Text)
    key_algorithm: Mapped[str | None] = mapped_column(String(40))
    subject_alternative_names: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ix_certificates_binding", "domain_binding_id", "id"),)


class CertificateAttempt(Base):
    """One attempt to obtain a certificate (an import, later an ACME issue or renewal)."""

    __tablename__ = "certificate_attempts"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(20))
    provider_key: Mapped[str | None] = mapped_column(String(40))
    challenge_type: Mapped[str | None] = mapped_column(String(20))
    requested_at: Mapped[str] = mapped_column(TS)
    issued_at: Mapped[str | None] = mapped_column(TS)
    expires_at: Mapped[str | None] = mapped_column(TS)
    failed_at: Mapped[str | None] = mapped_column(TS)
    error_code: Mapped[str | None] = mapped_column(String(60))
    failure_phase: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(Text)
    retriable: Mapped[bool] = mapped_column(Boolean, default=False)
    retry_after: Mapped[str | None] = mapped_column(TS)
    __table_args__ = (Index("ix_certificate_attempts_certificate", "certificate_id", "id"),)


class SecretValue(Base):
    """One sealed secret value (see dockyard.secrets.keyring). Never changed in place except by a key
    rotation: setting a secret again adds a new row, so deployment snapshots keep referring to the
    value they ran with."""

    __tablename__ = "secret_values"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    ciphertext: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[str] = mapped_column(TS)
    __table_args__ = (Index("ix_secret_values_project", "project_id", "id"),)


class ConfigVariable(Base):
    """A variable of one layer: project, environment (scopes `defaults` and `environment`) or resource.

    `owner_id` is the id of the layer's owner (project, environment or resource); a secret keeps only
    a reference to its sealed value."""

    __tablename__ = "config_variables"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment_id: Mapped[str | None] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    resource_id: Mapped[str | None] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(ID)
    scope: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(256))
    exposure: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(24))
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    value: Mapped[str | None] = mapped_column(Text)
    secret_value_id: Mapped[str | None] = mapped_column(ForeignKey("secret_values.id"))
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    # lets the unit of work insert a new sealed value before the row that refers to it
    secret_value: Mapped[SecretValue | None] = relationship(lazy="raise")
    __table_args__ = (
        Index("ux_config_variables_identity", "owner_id", "scope", "key", "exposure", unique=True),
        Index("ix_config_variables_environment", "environment_id"),
        Index("ix_config_variables_resource", "resource_id"),
    )


class HealthObservation(Base):
    """One sample of a resource's health by the monitor (the whole summary is kept as observed)."""

    __tablename__ = "health_observations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    observed_at: Mapped[str] = mapped_column(TS)
    overall: Mapped[str] = mapped_column(String(20))
    runtime_lifecycle: Mapped[str] = mapped_column(String(20))
    runtime_health: Mapped[str] = mapped_column(String(20))
    latest_deployment_id: Mapped[str | None] = mapped_column(ID)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    __table_args__ = (Index("ix_health_observations_resource", "resource_id", "id"),)


class AccessFailure(Base):
    """Evidence of one request that did not reach a resource's app through its route (short retention)."""

    __tablename__ = "access_failures"
    id: Mapped[str] = mapped_column(ID, primary_key=True)  # the request id
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    hostname: Mapped[str | None] = mapped_column(String(253))
    path: Mapped[str] = mapped_column(String(2048))
    captured_at: Mapped[str] = mapped_column(TS)
    expires_at: Mapped[str] = mapped_column(TS)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    __table_args__ = (Index("ix_access_failures_resource", "resource_id", "id"),)


class RuntimeSample(Base):
    """CPU and memory of a resource's live instance at one moment, and the machine's own reading
    (runtime monitoring)."""

    __tablename__ = "runtime_samples"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ID)
    environment_id: Mapped[str] = mapped_column(ID)
    server_id: Mapped[str | None] = mapped_column(ID)
    deployment_id: Mapped[str | None] = mapped_column(ID)
    runtime_kind: Mapped[str | None] = mapped_column(String(20))
    observed_at: Mapped[str] = mapped_column(TS)
    cpu_percent: Mapped[float | None] = mapped_column(Float)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    host: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # work.host_metrics.read_host at that moment
    __table_args__ = (
        Index("ix_runtime_samples_resource", "resource_id", "id"),
        Index("ix_runtime_samples_observed", "observed_at"),
    )
