"""Structure instead of sentences: periods as columns, kinds checked, lines explained.

- periods (invoice runs, invoices, invoice lines) become three columns each:
  year, kind (month | quarter | year) and index, with a CHECK that they agree;
- kinds of lines, documents and settlements get CHECK constraints; the line kind
  'adjustment' (late events) becomes 'event' (a document tells a late event by
  its period);
- an invoice line keeps its unit as an id (`hour`, `day`), gets `details` and its
  `explanation` (JSON); the words of lines issued before this revision move to
  `issued_text`, and are shown as they were sent;
- settlements name the invoice a credit carried back (`credited_invoice_id`) and
  keep an explanation; their old notes move to `issued_text`;
- estimates keep their basis as structure (`basis`, JSON); an old basis text
  moves to `issued_basis`;
- stored agreements record the checks they were accepted under (`checks`).

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The checks of the release that made this revision: what the agreements stored before it passed.
CHECKS_OF_THIS_RELEASE = [
    "agreement.id@1", "agreement.year@1", "agreement.currency@1", "references.clauses@1",
    "municipalities.codes@1", "municipalities.business-ids@1", "keys.shares-add-up@1", "keys.divisible@1",
    "components.one-price@1", "reductions.valid@1", "tables.every-component-once@1", "billing.each-euro-once@1",
    "billing.vat@1", "parties.addresses@1", "parties.host-account@1",
]
# The Finnish unit words the agreements used, and their ids.
UNIT_WORDS = {
    "tunti": "hour", "h": "hour", "käynti": "visit", "kartoitus": "assessment", "asiakas": "customer",
    "asiakas/vuosi": "customer_year", "ryhmä": "group", "kpl": "piece", "pv": "day", "päivä": "day",
    "vrk": "day", "km": "km", "kk": "month", "kuukausi": "month", "vuosi": "year", "erä": "lot",
}
# And back, for a downgrade: the word osuus 0001 wrote for each unit.
UNIT_WORD_OF = {
    "hour": "tunti", "visit": "käynti", "assessment": "kartoitus", "customer": "asiakas",
    "customer_year": "asiakas/vuosi", "group": "ryhmä", "piece": "kpl", "day": "pv", "km": "km",
    "month": "kk", "year": "vuosi", "lot": "erä",
}
LINE_KINDS = ("advance", "event", "travel", "interpretation", "settlement")


def _period_parts(code: str | None) -> tuple[int, str, int] | None:
    code = (code or "").strip()
    if len(code) == 4 and code.isdigit():
        return int(code), "year", 1
    if len(code) == 7 and code[4] == "-":
        year, tail = int(code[:4]), code[5:]
        if tail.isdigit():
            return year, "month", int(tail)
        if tail[:1] in "Qq":
            return year, "quarter", int(tail[1:])
    return None


def _period_code(year: int, kind: str, index: int) -> str:
    return f"{year:04d}" if kind == "year" else f"{year:04d}-Q{index}" if kind == "quarter" else f"{year:04d}-{index:02d}"


def _period_check(prefix: str) -> str:
    return (f"({prefix}_kind = 'month' AND {prefix}_index BETWEEN 1 AND 12) OR "
            f"({prefix}_kind = 'quarter' AND {prefix}_index BETWEEN 1 AND 4) OR "
            f"({prefix}_kind = 'year' AND {prefix}_index = 1)")


def _add_period_columns(batch_op) -> None:
    batch_op.add_column(sa.Column('period_year', sa.Integer(), nullable=True))
    batch_op.add_column(sa.Column('period_kind', sa.String(length=20), nullable=True))
    batch_op.add_column(sa.Column('period_index', sa.Integer(), nullable=True))


def _require_period_columns(batch_op, table: str) -> None:
    for name in ('period_year', 'period_kind', 'period_index'):
        batch_op.alter_column(name, nullable=False)
    batch_op.create_check_constraint(op.f(f'ck_{table}_period_parts'), _period_check('period'))


def _fill_periods(connection, table: str, source: str, fallback=None) -> None:
    rows = connection.execute(sa.text(f"SELECT id, {source} FROM {table}")).fetchall()
    for row_id, code in rows:
        parts = _period_parts(code) or (fallback(row_id) if fallback else None)
        if parts is None:
            raise RuntimeError(f"{table} {row_id}: cannot read the period {code!r}")
        connection.execute(sa.text(f"UPDATE {table} SET period_year = :y, period_kind = :k, period_index = :i "
                                   "WHERE id = :id"), {"y": parts[0], "k": parts[1], "i": parts[2], "id": row_id})


def upgrade() -> None:
    connection = op.get_bind()

    with op.batch_alter_table('agreement_versions') as batch_op:
        batch_op.add_column(sa.Column('checks', sa.JSON(), nullable=True))
    versions = sa.table('agreement_versions', sa.column('id', sa.Integer), sa.column('checks', sa.JSON))
    connection.execute(versions.update().values(checks=CHECKS_OF_THIS_RELEASE))
    with op.batch_alter_table('agreement_versions') as batch_op:
        batch_op.alter_column('checks', nullable=False)

    # invoice runs and invoices: the billing period in three columns
    for table in ('invoice_runs', 'invoices'):
        with op.batch_alter_table(table) as batch_op:
            _add_period_columns(batch_op)
        _fill_periods(connection, table, 'period')
    with op.batch_alter_table('invoice_runs') as batch_op:
        _require_period_columns(batch_op, 'invoice_runs')
        batch_op.drop_constraint(op.f('uq_invoice_runs_period'), type_='unique')
        batch_op.drop_column('period')
        batch_op.drop_column('year')
        batch_op.create_unique_constraint(op.f('uq_invoice_runs_period_year_period_kind_period_index'),
                                          ['period_year', 'period_kind', 'period_index'])
    with op.batch_alter_table('invoices') as batch_op:
        _require_period_columns(batch_op, 'invoices')
        batch_op.drop_column('period')
        batch_op.create_check_constraint(op.f('ck_invoices_kind_kind'), "kind IN ('invoice', 'credit_note')")

    # invoice lines: the delivery period, unit ids, details, explanation; old words kept as issued
    with op.batch_alter_table('invoice_lines') as batch_op:
        _add_period_columns(batch_op)
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('explanation', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('issued_text', sa.Text(), nullable=True))
    invoice_periods = {i: (y, k, n) for i, y, k, n in connection.execute(sa.text(
        "SELECT l.id, i.period_year, i.period_kind, i.period_index FROM invoice_lines l "
        "JOIN invoices i ON i.id = l.invoice_id"))}
    _fill_periods(connection, 'invoice_lines', 'events_period', invoice_periods.get)
    lines = sa.table('invoice_lines', sa.column('id', sa.Integer), sa.column('details', sa.JSON))
    connection.execute(lines.update().values(details={}))
    connection.execute(sa.text("UPDATE invoice_lines SET issued_text = description"))
    connection.execute(sa.text("UPDATE invoice_lines SET kind = 'event' WHERE kind = 'adjustment'"))
    for word, unit in UNIT_WORDS.items():
        connection.execute(sa.text("UPDATE invoice_lines SET unit = :unit WHERE unit = :word"),
                           {"unit": unit, "word": word})
    with op.batch_alter_table('invoice_lines') as batch_op:
        _require_period_columns(batch_op, 'invoice_lines')
        batch_op.alter_column('details', nullable=False)
        batch_op.drop_column('description')
        batch_op.drop_column('events_period')
        batch_op.create_check_constraint(op.f('ck_invoice_lines_kind_kind'),
                                         "kind IN (%s)" % ", ".join(f"'{k}'" for k in LINE_KINDS))

    # settlements: the credited invoice by id, an explanation; old notes kept as issued
    with op.batch_alter_table('settlements') as batch_op:
        batch_op.add_column(sa.Column('credited_invoice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('explanation', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('issued_text', sa.Text(), nullable=True))
    connection.execute(sa.text("UPDATE settlements SET issued_text = note"))
    with op.batch_alter_table('settlements') as batch_op:
        batch_op.drop_column('note')
        batch_op.create_foreign_key(op.f('fk_settlements_credited_invoice_id_invoices'), 'invoices',
                                    ['credited_invoice_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_settlements_kind_kind'), "kind IN ('year_end', 'credit')")

    # estimates: the basis as structure; an old basis text kept as issued
    with op.batch_alter_table('estimates') as batch_op:
        batch_op.alter_column('basis', new_column_name='issued_basis', existing_type=sa.Text(), nullable=True)
    with op.batch_alter_table('estimates') as batch_op:
        batch_op.add_column(sa.Column('basis', sa.JSON(), nullable=True))
    estimates = sa.table('estimates', sa.column('id', sa.Integer), sa.column('basis', sa.JSON))
    connection.execute(estimates.update().values(basis=[]))
    with op.batch_alter_table('estimates') as batch_op:
        batch_op.alter_column('basis', nullable=False)


def downgrade() -> None:
    connection = op.get_bind()

    with op.batch_alter_table('estimates') as batch_op:
        batch_op.drop_column('basis')
    connection.execute(sa.text("UPDATE estimates SET issued_basis = '' WHERE issued_basis IS NULL"))
    with op.batch_alter_table('estimates') as batch_op:
        batch_op.alter_column('issued_basis', new_column_name='basis', existing_type=sa.Text(), nullable=False)

    with op.batch_alter_table('settlements') as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
    connection.execute(sa.text("UPDATE settlements SET note = COALESCE(issued_text, '')"))
    with op.batch_alter_table('settlements') as batch_op:
        batch_op.drop_constraint(op.f('ck_settlements_kind_kind'), type_='check')
        batch_op.drop_constraint(op.f('fk_settlements_credited_invoice_id_invoices'), type_='foreignkey')
        batch_op.drop_column('credited_invoice_id')
        batch_op.drop_column('explanation')
        batch_op.drop_column('issued_text')
        batch_op.alter_column('note', nullable=False)

    with op.batch_alter_table('invoice_lines') as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('events_period', sa.String(length=10), nullable=True))
    # Lines issued since this revision have no words stored (the documents render them): they go
    # back with an empty description. An event line for another period than its document's was
    # an 'adjustment' (a late event).
    adjustments: list[int] = []
    for line_id, year, kind, index, text, line_kind, late in connection.execute(sa.text(
            "SELECT l.id, l.period_year, l.period_kind, l.period_index, l.issued_text, l.kind, "
            "CASE WHEN l.period_year = i.period_year AND l.period_kind = i.period_kind "
            "AND l.period_index = i.period_index THEN 0 ELSE 1 END "
            "FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id")).fetchall():
        if line_kind == 'event' and late:
            adjustments.append(line_id)
        connection.execute(sa.text("UPDATE invoice_lines SET events_period = :p, description = :d WHERE id = :id"),
                           {"p": _period_code(year, kind, index), "d": text or "", "id": line_id})
    with op.batch_alter_table('invoice_lines') as batch_op:
        batch_op.drop_constraint(op.f('ck_invoice_lines_kind_kind'), type_='check')
        batch_op.drop_constraint(op.f('ck_invoice_lines_period_parts'), type_='check')
        for name in ('period_year', 'period_kind', 'period_index', 'details', 'explanation', 'issued_text'):
            batch_op.drop_column(name)
        batch_op.alter_column('description', nullable=False)
        batch_op.alter_column('events_period', nullable=False)
    for line_id in adjustments:
        connection.execute(sa.text("UPDATE invoice_lines SET kind = 'adjustment' WHERE id = :id"), {"id": line_id})
    for unit, word in UNIT_WORD_OF.items():
        connection.execute(sa.text("UPDATE invoice_lines SET unit = :word WHERE unit = :unit"),
                           {"unit": unit, "word": word})

    for table in ('invoices', 'invoice_runs'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('period', sa.String(length=10), nullable=True))
            if table == 'invoice_runs':
                batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))
        for row_id, year, kind, index in connection.execute(sa.text(
                f"SELECT id, period_year, period_kind, period_index FROM {table}")).fetchall():
            connection.execute(sa.text(f"UPDATE {table} SET period = :p WHERE id = :id"),
                               {"p": _period_code(year, kind, index), "id": row_id})
        if table == 'invoice_runs':
            connection.execute(sa.text("UPDATE invoice_runs SET year = period_year"))
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_period_parts'), type_='check')
            if table == 'invoices':
                batch_op.drop_constraint(op.f('ck_invoices_kind_kind'), type_='check')
            else:
                batch_op.drop_constraint(op.f('uq_invoice_runs_period_year_period_kind_period_index'), type_='unique')
            for name in ('period_year', 'period_kind', 'period_index'):
                batch_op.drop_column(name)
            batch_op.alter_column('period', nullable=False)
            if table == 'invoice_runs':
                batch_op.alter_column('year', nullable=False)
                batch_op.create_unique_constraint(op.f('uq_invoice_runs_period'), ['period'])

    with op.batch_alter_table('agreement_versions') as batch_op:
        batch_op.drop_column('checks')
