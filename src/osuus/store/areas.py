"""Each session works in one area: its new rows get the area, its queries see only the area.

The area of a session is `session.info["area_id"]`, set by the ledger when a
transaction begins (`begin_in_area`). Then

- every new row of an area table (`AreaScoped`) gets that `area_id` before it is
  flushed (a row given another area is refused);
- every ORM query (SELECT, UPDATE, DELETE) of an area table is filtered to it
  (SQLAlchemy's `with_loader_criteria`, for every entity at once);
- on PostgreSQL, `set_config('osuus.area', id, true)` names the area for the
  transaction, and the row-level security policies (revision 0004) hold every
  statement to it, whatever the application asks: the filters here and the
  policies there are two locks, either of which alone keeps the areas apart.

Statements written as Core (the audit's readers, bulk inserts) use `area_clause`
and `area_id_of` themselves. `session.info["area_filter"] = False` switches the
ORM filter off: only tests do that, to show the database still refuses.
"""

from __future__ import annotations

import re

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, with_loader_criteria

from osuus.store.tables import Area, AreaScoped

AREA_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
#: The area a database has from revision 0004 on, holding every row written before.
DEFAULT_AREA = "default"


class AreaMismatch(Exception):
    """A row of one area written in a transaction of another."""


def area_id_of(session: Session) -> int | None:
    return session.info.get("area_id")


def begin_in_area(session: Session, area_id: int, connection=None) -> None:
    """Name the transaction's area: to the session's filters, and on PostgreSQL to the policies
    (a bound parameter, transaction-local: it ends with the transaction)."""
    session.info["area_id"] = area_id
    connection = connection if connection is not None else session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config('osuus.area', :area, true)"), {"area": str(area_id)})


def area_clause(table, session: Session):
    """`table.area_id = <the session's area>` for a Core statement (None: no area set, or the
    table is of no area)."""
    area_id = area_id_of(session)
    if area_id is None or "area_id" not in table.c:
        return None
    return table.c.area_id == area_id


def _filter(state) -> None:
    session = state.session
    area_id = session.info.get("area_id")
    if area_id is None or not session.info.get("area_filter", True):
        return
    if state.is_insert:  # an ORM bulk insert (no flush, so `_fill` does not see its rows)
        mapper = state.bind_mapper
        if mapper is not None and issubclass(mapper.class_, AreaScoped):
            rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
            for row in rows:
                if row.get("area_id", area_id) != area_id:
                    raise AreaMismatch(f"a row of area {row['area_id']} written in a transaction of area {area_id}")
                row["area_id"] = area_id
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(with_loader_criteria(
            AreaScoped, lambda cls: cls.area_id == area_id, include_aliases=True, track_closure_variables=True))


def _fill(session: Session, flush_context, instances) -> None:
    area_id = session.info.get("area_id")
    if area_id is None:
        return
    for obj in session.new:
        if isinstance(obj, AreaScoped):
            if obj.area_id is None:
                obj.area_id = area_id
            elif obj.area_id != area_id:
                raise AreaMismatch(f"a row of area {obj.area_id} written in a transaction of area {area_id}")


def install(factory) -> None:
    """Make the sessions of `factory` (a sessionmaker) keep to their area."""
    event.listen(factory, "do_orm_execute", _filter)
    event.listen(factory, "before_flush", _fill)


def areas(session: Session) -> list[Area]:
    return list(session.scalars(select(Area).order_by(Area.id)))


def area_by_code(session: Session, code: str) -> Area | None:
    return session.scalars(select(Area).where(Area.code == code)).one_or_none()
