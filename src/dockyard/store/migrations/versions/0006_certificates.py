"""certificates of domain bindings (metadata only; chain and key live in files) and their attempts

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("domain_binding_id", sa.String(length=40), nullable=False),
        sa.Column("domain_name", sa.String(length=253), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("provider_key", sa.String(length=40), nullable=True),
        sa.Column("challenge_type", sa.String(length=20), nullable=True),
        sa.Column("issued_at", sa.String(length=32), nullable=True),
        sa.Column("expires_at", sa.String(length=32), nullable=True),
        sa.Column("not_before", sa.String(length=32), nullable=True),
        sa.Column("fingerprint", sa.String(length=100), nullable=True),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("key_algorithm", sa.String(length=40), nullable=True),
        sa.Column("subject_alternative_names", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["domain_binding_id"], ["domain_bindings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_certificates_binding", "certificates", ["domain_binding_id", "id"])
    op.create_table(
        "certificate_attempts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("certificate_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("provider_key", sa.String(length=40), nullable=True),
        sa.Column("challenge_type", sa.String(length=20), nullable=True),
        sa.Column("requested_at", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.String(length=32), nullable=True),
        sa.Column("expires_at", sa.String(length=32), nullable=True),
        sa.Column("failed_at", sa.String(length=32), nullable=True),
        sa.Column("error_code", sa.String(length=60), nullable=True),
        sa.Column("failure_phase", sa.String(length=40), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("retriable", sa.Boolean(), nullable=False),
        sa.Column("retry_after", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["certificate_id"], ["certificates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_certificate_attempts_certificate", "certificate_attempts", ["certificate_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_certificate_attempts_certificate", table_name="certificate_attempts")
    op.drop_table("certificate_attempts")
    op.drop_index("ix_certificates_binding", table_name="certificates")
    op.drop_table("certificates")
