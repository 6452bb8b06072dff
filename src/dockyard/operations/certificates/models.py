"""Input and output models of the certificate operations."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from dockyard.domain.model import CamelModel
from dockyard.field_hints import CLI_FILE
from dockyard.operations.common import IdOf, PageQuery

CertificateId = IdOf("certificate")
DomainBindingId = IdOf("domain_binding")
CertificateStatus = Literal["pending", "active", "failed", "revoked", "superseded", "deleted"]
Pem = Annotated[str, StringConstraints(min_length=1, max_length=65536)]


class AttemptOut(CamelModel):
    id: str
    status: Literal["requested", "succeeded", "failed"]
    reason: Literal["import", "issue", "renew"]
    provider_key: str | None
    challenge_type: str | None
    requested_at: str
    issued_at: str | None
    expires_at: str | None
    failed_at: str | None
    error_code: str | None
    failure_phase: str | None
    failure_message: str | None
    retriable: bool
    retry_after: str | None


class CertificateOut(CamelModel):
    id: str
    domain_binding_id: str
    domain_name: str
    status: CertificateStatus
    source: Literal["imported", "managed"]
    provider_key: str | None
    challenge_type: str | None
    issued_at: str | None = Field(description="When Dockyard got it (the import time for imports).")
    expires_at: str | None = Field(description="The leaf's notAfter.")
    fingerprint: str | None = Field(description="SHA-256 of the leaf certificate, hex with colons.")
    not_before: str | None
    issuer: str | None = Field(description="The leaf's issuer, RFC 4514.")
    key_algorithm: str | None
    subject_alternative_names: list[str]
    latest_attempt: AttemptOut | None
    attempts: list[AttemptOut]
    created_at: str


class CertificateList(CamelModel):
    items: list[CertificateOut]
    next_cursor: str | None = None


class CertificateFilter(PageQuery):
    domain_binding_id: DomainBindingId | None = None


class ImportCertificate(CamelModel):
    domain_binding_id: DomainBindingId
    certificate_chain: Pem = Field(
        description="PEM certificates, the leaf (for the binding's domain) first.",
        json_schema_extra={CLI_FILE: True},
    )
    private_key: Pem = Field(
        description="The leaf's unencrypted PEM private key; stored as a 0600 file, never returned.",
        json_schema_extra={CLI_FILE: True},
    )


class AttemptCreated(CamelModel):
    certificate_id: str
    attempt_id: str


class IssueOrRenew(CamelModel):
    domain_binding_id: DomainBindingId = Field(
        description="A verified binding on a server with an edge proxy (the CA fetches HTTP-01 tokens there)."
    )


class CertificateRef(CamelModel):
    certificate_id: CertificateId


class CertificateConfirmation(CamelModel):
    certificate_id: str = Field(description="The certificate's id, typed again to confirm the deletion.")


class DeleteCertificate(CertificateRef):
    confirmation: CertificateConfirmation


class CertificateIdOut(CamelModel):
    certificate_id: str
