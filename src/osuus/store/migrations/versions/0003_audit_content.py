"""The audit log covers what was written, and can only grow.

- a trigger refuses UPDATE and DELETE of audit records (on PostgreSQL also
  TRUNCATE), whoever the database role: the log is append-only;
- from now on each audit record carries the content hashes of the rows its
  write produced (osuus.store.audit, in the record's details, so no column
  changes). The rows written before this revision are covered by one baseline
  record appended here (`audit.baseline`), so that from this moment on none of
  them can change unseen either; the records written before it carry no content
  hashes and `osuus audit verify` counts them as not covered.

The downgrade drops the triggers. The records keep their content hashes (they
are part of the chain, which the older release verifies as it always did).

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

from alembic import op
from sqlalchemy.orm import Session

revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MESSAGE = "audit_log is append-only: its records are never changed or removed"

POSTGRESQL_UP = [
    f"""CREATE FUNCTION osuus_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$""",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION osuus_audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION osuus_audit_log_append_only()",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS osuus_audit_log_append_only()",
]
SQLITE_UP = [
    f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE} (UPDATE refused)'); END",
    f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE} (DELETE refused)'); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
    "DROP TRIGGER IF EXISTS audit_log_no_update",
]


def _baseline() -> None:
    """One record covering every row no record covers yet (none on a new database)."""
    from osuus.store import audit

    session = Session(bind=op.get_bind())
    try:
        content = audit.baseline_content(session)
        if content is not None:
            audit.append(session, actor="osuus db upgrade", action="audit.baseline", subject="0003",
                         reason="content hashes begin: the rows written before are covered from here on",
                         details={"revision": "0003"}, content=content)
            session.flush()
    finally:
        session.close()


def upgrade() -> None:
    _baseline()
    for statement in POSTGRESQL_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
