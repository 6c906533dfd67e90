"""Indexes of service_events led by area_id, for the web app's pages over a year of a million events.

The store adds `area_id = ?` to every query (osuus.store.areas), so an index that does
not lead with it is passed over for `ix_service_events_area_id` (of no use in an area of
its own) and the year's rows are read from the table:

- `ix_service_events_area_year_date` (area_id, year, date), with the id (SQLite keeps it in
  every index; PostgreSQL INCLUDEs it): the year at a glance counts the year's events, and its
  unbilled ones by date ranges above an id (store.queries.unbilled_count), from this index alone;
- `ix_service_events_area_year_municipality` (area_id, year, municipality, component,
  customer, quantity) replaces (year, municipality, component): a member's annual report
  (events, quantity and distinct customers by component) is read from it alone.

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_service_events_area_year_date", "service_events", ["area_id", "year", "date"],
                    postgresql_include=["id"])
    op.create_index("ix_service_events_area_year_municipality", "service_events",
                    ["area_id", "year", "municipality", "component", "customer", "quantity"])
    op.drop_index("ix_service_events_year_municipality", table_name="service_events")


def downgrade() -> None:
    op.create_index("ix_service_events_year_municipality", "service_events", ["year", "municipality", "component"])
    op.drop_index("ix_service_events_area_year_municipality", table_name="service_events")
    op.drop_index("ix_service_events_area_year_date", table_name="service_events")
