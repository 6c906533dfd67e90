#!/usr/bin/env bash
# Makes ledger-0001.json: a ledger written by osuus as it was at revision 0001
# (commit eb06dd2, before lines, bases and settlements became structure), for
# tests/store/test_legacy_ledger.py. Run from a checkout of the repository:
#
#   git worktree add /tmp/osuus-0001 eb06dd2
#   OLD=/tmp/osuus-0001 tests/store/data/make_ledger_0001.sh
#
# It needs the old release's dependencies (pydantic among them) in .venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
cp "$here/legacy-2025.toml" "$work/"
cd "$work"
old() { OSUUS_DATABASE_URL="sqlite:///$work/old.db" OSUUS_USER=legacy PYTHONPATH="$OLD/src" \
        "$here/../../../.venv/bin/python" -m osuus "$@" >/dev/null; }
cat > first.csv <<'CSV'
event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,interpretation_cost
e1,2025-01-13,m,020,A-1,10,,,,
e2,2025-01-14,u,020,A-2,2,,,,
e3,2025-01-15,t,020,A-3,3,1,,,
e4,2025-01-13,m,211,B-1,5,,1,120,
e5,2025-02-04,u,211,B-2,1,,,,
e6,2025-02-05,t,211,B-3,2,2,,,
e7,2025-01-13,m,837,H-1,35,,,,
e8,2025-01-14,u,837,H-2,5,,,,
CSV
cat > late.csv <<'CSV'
event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,interpretation_cost
e9,2025-01-20,u,020,A-4,1,,,,
e10,2025-03-03,m,020,A-1,4,,,,65.50
CSV
cat > costs.csv <<'CSV'
year,component,kind,amount
2025,p,cost,1800
2025,u,cost,900
2025,u,funding,100
2025,m,cost,500
CSV
old db upgrade
old agreement add legacy-2025.toml
old estimate 2025
old import events first.csv
old invoice 2025-01 --date 2025-02-03
old invoice 2025-02 --date 2025-03-03
old import events late.csv                      # e9 is January's: a late event ("adjustment")
old invoice 2025-03 --date 2025-04-01
old credit 2025-00004 --reason "Väärä kilometrimäärä" --date 2025-03-10
for m in 4 5 6 7 8 9 10 11; do old invoice "2025-$(printf %02d $m)" --date "2025-$(printf %02d $((m + 1)))-01"; done
old invoice 2025-12 --date 2026-01-05
old import costs costs.csv
old close-year 2025
old estimate 2026                               # no 2026 agreement: a basis in words
old invoice 2026-01 --date 2026-02-02           # the settlements
"$here/../../../.venv/bin/python" - "$work/old.db" "$here/ledger-0001.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select version_num from alembic_version").fetchone() == ("0001",)
tables = [r[0] for r in db.execute(
    "select name from sqlite_master where type = 'table' and name != 'alembic_version' order by name")]
parts = []
for table in tables:
    cursor = db.execute(f"select * from {table} order by rowid")
    columns = [d[0] for d in cursor.description]
    rows = ",\n".join("    " + json.dumps(list(r), ensure_ascii=False) for r in cursor)
    parts.append(f' "{table}": {{\n  "columns": {json.dumps(columns)},\n  "rows": [\n{rows}\n  ]}}')
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    fh.write("{\n" + ",\n".join(parts) + "\n}\n")
PY
rm -rf "$work"
echo "wrote $here/ledger-0001.json"
