"""Areas (tenants), the people who use them, and drafts waiting for a second pair of eyes.

- `areas`: an employment area (a host and its members under one series of
  agreements). A first area, `default`, is made here and every row written
  before belongs to it; `osuus area add` makes more.
- every ledger table gets `area_id` (not null, no default: a row without an area
  is refused), and its uniqueness becomes per area (invoice numbers, periods,
  event ids, agreement revisions, ...); year closings are keyed by (area, year).
- on PostgreSQL each of those tables has row-level security, enabled and FORCED
  (its owner is held to it too), with the policy `area_isolation`: a row is seen
  and written only when its `area_id` is the transaction's area, which the
  application sets with `set_config('osuus.area', id, true)`
  (`osuus_current_area()`); with no area set, nothing is seen. Superusers and
  roles with BYPASSRLS are not held to it: the application connects as a role
  that is neither (`osuus db app-role`); migrations run as the owner.
- `users` (global: a person may work in several areas), `role_grants` and
  `api_keys` (per area), `login_attempts`, `user_sessions`;
- `drafts` (invoice runs and credit notes waiting for approval) and
  `idempotency_keys` (the answers to POSTs, per area).

The audit chain is kept per area from here on (each area's records link to the
area's previous record); the records written before are the default area's, so
the chain they form is unchanged. On SQLite the audit log's append-only
triggers are made again after its table is rebuilt.

The downgrade refuses a database with more than one area (it would merge their
ledgers); otherwise it drops what was added.

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: Every table whose rows belong to an area (the new ones included), for the policies.
AREA_TABLES = (
    "agreement_versions", "import_batches", "service_events", "reference_counts", "actual_costs",
    "invoice_counters", "invoice_runs", "invoices", "invoice_lines", "estimates", "year_closings",
    "settlements", "audit_log", "role_grants", "api_keys", "drafts", "idempotency_keys",
)
OLD_TABLES = AREA_TABLES[:13]
#: Tables whose primary key begins with the area (no index of their own on it).
KEYED_BY_AREA = ("invoice_counters", "year_closings")

#: Uniqueness per area: table -> [(old constraint, new columns)].
UNIQUES = {
    "agreement_versions": [("uq_agreement_versions_year_revision", ("area_id", "year", "revision")),
                           ("uq_agreement_versions_year_content_hash", ("area_id", "year", "content_hash"))],
    "import_batches": [("uq_import_batches_kind_content_hash", ("area_id", "kind", "content_hash"))],
    "service_events": [("uq_service_events_source_id", ("area_id", "source_id"))],
    "reference_counts": [("uq_reference_counts_key_municipality_date", ("area_id", "key", "municipality", "date"))],
    "actual_costs": [("uq_actual_costs_year_component_kind", ("area_id", "year", "component", "kind"))],
    "invoice_runs": [("uq_invoice_runs_period_year_period_kind_period_index",
                      ("area_id", "period_year", "period_kind", "period_index"))],
    "invoices": [("uq_invoices_number", ("area_id", "number")),
                 ("uq_invoices_host_year_sequence", ("area_id", "host", "year", "sequence"))],
    "estimates": [("uq_estimates_year_revision_municipality", ("area_id", "year", "revision", "municipality"))],
}

CURRENT_AREA_FUNCTION = """CREATE FUNCTION osuus_current_area() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('osuus.area', true), '')::integer
$$"""

SQLITE_AUDIT_TRIGGERS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: its records are never changed or removed "
    "(UPDATE refused)'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: its records are never changed or removed "
    "(DELETE refused)'); END",
]


def _uq(table: str, columns) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


def _now():
    return sa.text("CURRENT_TIMESTAMP")


def _area_column(**kw) -> sa.Column:
    return sa.Column("area_id", sa.Integer(), nullable=False, **kw)


def _people_and_drafts() -> None:
    area_fk = lambda table: sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=f"fk_{table}_area_id_areas")  # noqa: E731
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    roles = "role IN ('admin', 'preparer', 'approver', 'auditor', 'member')"
    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("municipality", sa.String(3), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _area_column(),
        sa.PrimaryKeyConstraint("id", name="pk_role_grants"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_role_grants_user_id_users"),
        area_fk("role_grants"),
        sa.CheckConstraint(roles, name="ck_role_grants_role_kind"),
        sa.CheckConstraint("(role = 'member') = (municipality IS NOT NULL)",
                           name="ck_role_grants_member_municipality"),
    )
    op.create_index("ix_role_grants_user_id", "role_grants", ["user_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(24), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("municipality", sa.String(3), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _area_column(),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
        area_fk("api_keys"),
        sa.CheckConstraint(roles, name="ck_api_keys_role_kind"),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_name_at", "login_attempts", ["name", "at"])
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_user_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_user_sessions_token_hash"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_sessions_user_id_users"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("prepared_by", sa.String(100), nullable=False),
        sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("self_approved", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        _area_column(),
        sa.PrimaryKeyConstraint("id", name="pk_drafts"),
        sa.ForeignKeyConstraint(["run_id"], ["invoice_runs.id"], name="fk_drafts_run_id_invoice_runs"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name="fk_drafts_invoice_id_invoices"),
        area_fk("drafts"),
        sa.CheckConstraint("kind IN ('invoice_run', 'credit_note')", name="ck_drafts_kind_kind"),
        sa.CheckConstraint("status IN ('draft', 'approved')", name="ck_drafts_status_kind"),
        sqlite_autoincrement=True,  # a removed draft's id is never given again
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("principal", sa.String(120), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _area_column(),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("area_id", "principal", "key", name="uq_idempotency_keys_area_id_principal_key"),
        area_fk("idempotency_keys"),
        sqlite_autoincrement=True,
    )
    for table in ("role_grants", "api_keys", "drafts", "idempotency_keys"):
        op.create_index(f"ix_{table}_area_id", table, ["area_id"])


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    areas = op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_areas"),
        sa.UniqueConstraint("code", name="uq_areas_code"),
    )
    import datetime as dt

    op.bulk_insert(areas, [{"id": 1, "code": "default", "name": "default",
                            "created_at": dt.datetime.now(dt.timezone.utc)}])
    if postgresql:  # the serial goes on from the area made here
        op.execute("SELECT setval(pg_get_serial_sequence('areas', 'id'), 1)")

    # 1. the column, filled with the first area (a default only while the rows are filled in)
    for table in OLD_TABLES:
        with op.batch_alter_table(table, recreate="always" if not postgresql else "auto") as batch:
            batch.add_column(_area_column(server_default="1"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("area_id", existing_type=sa.Integer(), server_default=None, existing_nullable=False)

    # 2. keys, uniqueness and references per area
    with op.batch_alter_table("settlements") as batch:
        batch.drop_constraint("fk_settlements_year_year_closings", type_="foreignkey")
    with op.batch_alter_table("year_closings") as batch:
        batch.drop_constraint("pk_year_closings", type_="primary")
        batch.create_primary_key("pk_year_closings", ["area_id", "year"])
    with op.batch_alter_table("invoice_counters") as batch:
        batch.drop_constraint("pk_invoice_counters", type_="primary")
        batch.create_primary_key("pk_invoice_counters", ["area_id", "host", "year"])
    for table in OLD_TABLES:
        with op.batch_alter_table(table) as batch:
            for old, columns in UNIQUES.get(table, ()):
                batch.drop_constraint(old, type_="unique")
                batch.create_unique_constraint(_uq(table, columns), list(columns))
            batch.create_foreign_key(f"fk_{table}_area_id_areas", "areas", ["area_id"], ["id"])
            if table == "settlements":
                batch.create_foreign_key("fk_settlements_area_id_year_closings", "year_closings",
                                         ["area_id", "year"], ["area_id", "year"])
        if table not in KEYED_BY_AREA:
            op.create_index(f"ix_{table}_area_id", table, ["area_id"])

    _people_and_drafts()

    if postgresql:
        op.execute(CURRENT_AREA_FUNCTION)
        for table in AREA_TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY area_isolation ON {table} "
                       "USING (area_id = osuus_current_area()) WITH CHECK (area_id = osuus_current_area())")
    else:  # the rebuilt audit_log lost its triggers
        for statement in SQLITE_AUDIT_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if bind.execute(sa.text("SELECT count(*) FROM areas")).scalar_one() > 1:
        raise RuntimeError("this database holds more than one area: a downgrade would merge their ledgers")
    if postgresql:
        for table in AREA_TABLES:
            op.execute(f"DROP POLICY IF EXISTS area_isolation ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute("DROP FUNCTION IF EXISTS osuus_current_area()")
    for table in ("idempotency_keys", "drafts", "user_sessions", "login_attempts", "api_keys", "role_grants",
                  "users"):
        op.drop_table(table)
    for table in reversed(OLD_TABLES):
        if table not in KEYED_BY_AREA:
            op.drop_index(f"ix_{table}_area_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            if table == "settlements":
                batch.drop_constraint("fk_settlements_area_id_year_closings", type_="foreignkey")
            batch.drop_constraint(f"fk_{table}_area_id_areas", type_="foreignkey")
            for old, columns in UNIQUES.get(table, ()):
                batch.drop_constraint(_uq(table, columns), type_="unique")
                batch.create_unique_constraint(old, [c for c in columns if c != "area_id"])
    with op.batch_alter_table("invoice_counters") as batch:
        batch.drop_constraint("pk_invoice_counters", type_="primary")
        batch.create_primary_key("pk_invoice_counters", ["host", "year"])
    with op.batch_alter_table("year_closings") as batch:
        batch.drop_constraint("pk_year_closings", type_="primary")
        batch.create_primary_key("pk_year_closings", ["year"])
    with op.batch_alter_table("settlements") as batch:
        batch.create_foreign_key("fk_settlements_year_year_closings", "year_closings", ["year"], ["year"])
    for table in OLD_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("area_id")
    op.drop_table("areas")
    if not postgresql:
        for statement in SQLITE_AUDIT_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
            op.execute(statement)
