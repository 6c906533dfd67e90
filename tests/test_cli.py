"""End-to-end tests of the `osuus` command: every command and every output format.

Each test runs the real program (`python -m osuus ...`) in a subprocess on the
shipped agreement, agreements/pirkanmaa-2021.toml. Outputs that several tests
read are produced once per module. Expected figures are those of the
appendix's tables (seeds/001_058df844e514d4a2.txt, Taulukko 1 and 2).
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

AGREEMENT = "agreements/pirkanmaa-2021.toml"  # as a user types it, from the repository root
MONEY = re.compile(r"^-?\d+\.\d{2}$")
T1_COMPONENTS = ["johtaminen", "ict", "perehdytys", "viestinta"]
T2_COMPONENTS = ["mainio", "alkukartoitus", "omavalmentaja", "yrityskoordinaattori", "tredu"]
MUNICIPALITIES = [
    "Akaa", "Hämeenkyrö", "Ikaalinen", "Juupajoki", "Kangasala", "Kihniö", "Lempäälä", "Mänttä-Vilppula",
    "Nokia", "Orivesi", "Parkano", "Pirkkala", "Punkalaidun", "Pälkäne", "Ruovesi", "Sastamala", "Tampere",
    "Urjala", "Valkeakoski", "Vesilahti", "Virrat", "Ylöjärvi",
]


def euros(text: str | float) -> int:
    """Whole euros, half up (as the appendix shows them)."""
    return int(Decimal(str(text)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def assert_clean(stdout: str, stderr: str) -> None:
    assert "Traceback" not in stdout and "Traceback" not in stderr, stderr


# ---------------------------------------------------------------------------
# outputs shared by several tests
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def text_run(run_cli):
    return run_cli("allocate", AGREEMENT)


@pytest.fixture(scope="module")
def json_run(run_cli):
    return run_cli("allocate", AGREEMENT, "--format", "json")


@pytest.fixture(scope="module")
def json_doc(json_run):
    code, out, err = json_run
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def csv_run(run_cli):
    return run_cli("allocate", AGREEMENT, "--format", "csv")


@pytest.fixture(scope="module")
def workbook(run_cli, tmp_path_factory):
    openpyxl = pytest.importorskip("openpyxl")
    folder = tmp_path_factory.mktemp("xlsx")
    target = folder / "x.xlsx"
    code, out, err = run_cli("allocate", AGREEMENT, "--format", "xlsx", "--output", target)
    assert code == 0, err
    assert_clean(out, err)
    assert target.is_file()
    assert [p.name for p in folder.iterdir()] == ["x.xlsx"], "a temporary file was left behind"
    return openpyxl.load_workbook(target)


@pytest.fixture(scope="module")
def explain_run(run_cli):
    return run_cli("explain", AGREEMENT, "--municipality", "Sastamala")


# ---------------------------------------------------------------------------
# --version, --help, check
# ---------------------------------------------------------------------------

def test_version(run_cli):
    from osuus import __version__

    code, out, err = run_cli("--version")
    assert code == 0, err
    assert out.strip() == f"osuus {__version__}"


def test_help_lists_the_commands(run_cli):
    code, out, err = run_cli("--help")
    assert code == 0, err
    assert_clean(out, err)
    for command in ("check", "allocate", "explain"):
        assert command in out


def test_check_shipped_agreement(run_cli):
    code, out, err = run_cli("check", AGREEMENT)
    assert code == 0, err
    assert_clean(out, err)
    assert "kunnossa" in out
    assert "22 kuntaa" in out


# ---------------------------------------------------------------------------
# allocate, text
# ---------------------------------------------------------------------------

def test_allocate_text(text_run):
    code, out, err = text_run
    assert code == 0, err
    assert_clean(out, err)
    for header in ("Taulukko 1", "Taulukko 2", "Kuntien maksuosuudet 2021",
                   "Pirkanmaan keskitetyt maahanmuuttajapalvelut 2021", "Kunta", "Maksuosuudet", "Summa",
                   "Yhteensä", "Kulut/vuosi", "Flat rate (17 %)", "Vastuukunta", "Kuntien osuus yhteensä",
                   "Tampereen osuus"):
        assert header in out, header
    # figures with space thousands separators, as in the appendix
    for figure in ("178 169", "379 562", "2 595 000", "174 609", "14 240", "3 560", "17 800", "517 666",
                   "142 986", "411 953", "2 183 047", "1 197 397"):
        assert re.search(rf"(?<!\d)(?<!\d ){figure}(?! ?\d)(?!,)", out), figure
    sastamala = next(line for line in out.splitlines() if line.startswith("Sastamala "))
    assert sastamala.split()[-1] == "240" and "14 240" in sastamala
    assert "20 %" in sastamala


def test_allocate_text_population_header_whole(text_run):
    code, out, _ = text_run
    assert code == 0
    assert "Asukasluku 31.12.2019" in out


def test_allocate_text_municipality_names_whole(text_run):
    code, out, _ = text_run
    assert code == 0
    for name in MUNICIPALITIES:
        rows = re.findall(rf"^{re.escape(name)}\s+\d", out, re.MULTILINE)
        assert len(rows) >= 2, f"{name}: {len(rows)} whole rows"


# ---------------------------------------------------------------------------
# allocate, json
# ---------------------------------------------------------------------------

def test_allocate_json_agreement(json_run, json_doc):
    assert_clean(json_run[1], json_run[2])
    head = json_doc["agreement"]
    assert head["id"] == "pirkanmaa-2021"
    assert head["year"] == 2021
    assert head["host"] == "Tampere"


def test_allocate_json_tables(json_doc):
    tables = json_doc["tables"]
    assert [t["id"] for t in tables] == ["yhteiset", "maahanmuuttajapalvelut"]
    assert tables[0]["components"] == T1_COMPONENTS
    assert tables[1]["components"] == T2_COMPONENTS
    for table in tables:
        rows = table["rows"]
        assert len(rows) == 22
        assert [r["municipality"] for r in rows] == MUNICIPALITIES
        for row in rows:
            for field in ("municipality", "amounts", "total", "reduction", "payment"):
                assert field in row, (table["id"], field)
            assert list(row["amounts"]) == table["components"]
            money = [*row["amounts"].values(), row["total"], row["reduction"], row["payment"]]
            money += [row[k] for k in ("absorbed", "invoiced") if k in row]
            for value in money:
                assert isinstance(value, str) and MONEY.match(value), (table["id"], row["municipality"], value)
        totals = table.get("totals", {})
        for value in [*totals.get("amounts", {}).values(), *(v for k, v in totals.items() if k != "amounts")]:
            assert isinstance(value, str) and MONEY.match(value), (table["id"], "totals", value)


def test_allocate_json_spells_names_right(json_doc):
    names = {r["municipality"] for t in json_doc["tables"] for r in t["rows"]}
    assert "Mänttä-Vilppula" in names
    assert "Pälkäne" in names
    assert not any("\\u" in n for n in names)


def test_allocate_json_figures(json_doc):
    t1, t2 = json_doc["tables"]
    rows1 = {r["municipality"]: r for r in t1["rows"]}
    sastamala = rows1["Sastamala"]
    assert [euros(sastamala["amounts"][c]) for c in T1_COMPONENTS] == [6706, 3885, 3774, 3436]
    assert euros(sastamala["total"]) == 17800
    assert euros(sastamala["reduction"]) == 3560
    assert euros(sastamala["payment"]) == 14240
    assert euros(rows1["Tampere"]["payment"]) == 178169
    assert euros(sum(Decimal(r["payment"]) for r in t1["rows"])) == 379562
    assert euros(sum(Decimal(r["payment"]) for r in t2["rows"])) == 2595000


def test_allocate_json_to_file(run_cli, tmp_path, json_doc):
    target = tmp_path / "out.json"
    code, out, err = run_cli("allocate", AGREEMENT, "--format", "json", "--output", target)
    assert code == 0, err
    assert_clean(out, err)
    assert out == ""
    assert json.loads(target.read_text(encoding="utf-8")) == json_doc
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


# ---------------------------------------------------------------------------
# allocate, csv
# ---------------------------------------------------------------------------

def test_allocate_csv(csv_run):
    code, out, err = csv_run
    assert code == 0, err
    assert_clean(out, err)
    reader = csv.DictReader(io.StringIO(out))
    rows = list(reader)
    assert len(rows) == 44
    assert reader.fieldnames == ["table", "municipality", "code", *T1_COMPONENTS, *T2_COMPONENTS,
                                 "total", "reduction", "absorbed", "payment", "invoiced"]
    assert [r["table"] for r in rows] == ["yhteiset"] * 22 + ["maahanmuuttajapalvelut"] * 22
    assert [r["municipality"] for r in rows] == MUNICIPALITIES * 2
    for row in rows:
        own = T1_COMPONENTS if row["table"] == "yhteiset" else T2_COMPONENTS
        other = T2_COMPONENTS if row["table"] == "yhteiset" else T1_COMPONENTS
        for name in [*own, "total", "reduction", "absorbed", "payment", "invoiced"]:
            assert MONEY.match(row[name]), (row["table"], row["municipality"], name, row[name])
            Decimal(row[name])
        assert all(row[name] == "" for name in other)
        assert re.fullmatch(r"\d{3}", row["code"])
    sastamala = next(r for r in rows if r["table"] == "yhteiset" and r["municipality"] == "Sastamala")
    assert sastamala["code"] == "790"
    assert euros(sastamala["payment"]) == 14240


# ---------------------------------------------------------------------------
# allocate, xlsx
# ---------------------------------------------------------------------------

def _row_with_header(ws, first: str):
    """The row whose first cell is `first`, with the header row of its block (the last 'Kunta' row above)."""
    header = None
    for row in ws.iter_rows():
        if row[0].value == "Kunta":
            header = [c.value for c in row]
        elif row[0].value == first:
            return header, row
    raise AssertionError(f"no row {first!r} in sheet {ws.title!r}")


def test_xlsx_sheets(workbook):
    for name in ("Taulukko 1", "Taulukko 2", "Lähtötiedot"):
        assert name in workbook.sheetnames


def test_xlsx_sastamala_row_in_taulukko_1(workbook):
    header, row = _row_with_header(workbook["Taulukko 1"], "Sastamala")
    assert header is not None
    cells = dict(zip(header, row))
    published = {  # seeds/001_058df844e514d4a2.txt, Taulukko 1, row Sastamala
        "Kokeilukokonaisuuden johtaminen ja koordinointi": 6706,
        "ICT- ja tietopalvelut": 3885,
        "Perehdytys- ja koulutuspalvelut": 3774,
        "Viestintäpalvelut": 3436,
        "Yhteensä": 17800,
        "Alennus €": 3560,
        "Maksuosuudet": 14240,
    }
    for column, figure in published.items():
        cell = cells[column]
        assert isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool), (column, cell.value)
        assert euros(cell.value) == figure, (column, cell.value)
        assert "#,##0" in cell.number_format, (column, cell.number_format)
    assert cells["Asukasluku 31.12.2019"].value == 24277


def test_xlsx_inputs_sheet(workbook):
    header, row = _row_with_header(workbook["Lähtötiedot"], "Akaa")
    assert header is not None
    cells = dict(zip(header, (c.value for c in row)))
    assert cells["Asukasluku 31.12.2019"] == 16475
    assert cells["Kuntanumero"] == "020"


def test_xlsx_needs_output(run_cli):
    code, out, err = run_cli("allocate", AGREEMENT, "--format", "xlsx")
    assert code == 2
    assert_clean(out, err)
    assert "--output" in err


# ---------------------------------------------------------------------------
# explain
# ---------------------------------------------------------------------------

def test_explain_sastamala(explain_run):
    code, out, err = explain_run
    assert code == 0, err
    assert_clean(out, err)
    ict = next(line for line in out.splitlines() if "82 837,17 € × 24 277 / 517 666" in line)
    assert "82 837,17 € × 24 277 / 517 666 = 3 884,82 €" in ict
    assert "[Taulukko 1; kohta 2]" in ict
    assert "20 %" in out
    assert "kohta 3.13" in out
    assert "14 240" in out
    payment = next(line for line in out.splitlines() if line.strip().startswith("Maksuosuus:"))
    assert "14 240,27 €" in payment and "(taulukossa 14 240)" in payment


def test_explain_by_municipality_code(run_cli, explain_run):
    code, out, err = run_cli("explain", AGREEMENT, "-m", "790")
    assert code == 0, err
    assert out == explain_run[1]


def test_explain_json(run_cli):
    code, out, err = run_cli("explain", AGREEMENT, "--municipality", "Sastamala", "--format", "json")
    assert code == 0, err
    assert_clean(out, err)
    doc = json.loads(out)
    assert doc["municipality"] == "Sastamala"
    assert [t["id"] for t in doc["tables"]] == ["yhteiset", "maahanmuuttajapalvelut"]

    def walk(figures):
        for f in figures:
            yield f
            yield from walk(f.get("inputs", []))

    figures = [f for t in doc["tables"] for f in walk(t["figures"])]
    assert figures
    for f in figures:
        assert "formula" in f and "reference" in f, f
    top = doc["tables"][0]["figures"]
    ict = next(f for f in top if f["name"] == "component.share" and f["params"]["component"] == "ict")
    assert ict["label"] == "ICT- ja tietopalvelut"
    assert ict["formula"].replace("\xa0", " ") == "82 837,17 € × 24 277 / 517 666"
    assert ict["reference"] == "Taulukko 1; kohta 2"
    assert euros(ict["value"]) == 3885


def test_explain_unknown_municipality(run_cli):
    code, out, err = run_cli("explain", AGREEMENT, "--municipality", "Helsinki")
    assert code == 2
    assert_clean(out, err)
    assert "Helsinki" in err
    assert "unknown municipality" in err


def test_shipped_agreement_is_where_the_tests_expect(repo_root, agreement_path):
    assert agreement_path == repo_root / AGREEMENT
    assert agreement_path.is_file()
