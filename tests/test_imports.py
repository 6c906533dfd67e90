"""Imports: every bad row reported with its row, column and reason; good files give records.

Small hand-written files (tmp_path) for each check; the shipped synthetic
examples (examples/2021) parse without a problem, and the workbook gives
exactly the records of the CSV; a Hypothesis test mixes good and bad rows.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import importlib.util
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osuus.agreement import load_agreement
from osuus.billing.records import ServiceEventRecord
from osuus.imports import ImportContext, ProblemList, problem_total, row_problem
from osuus.problems import Problem
from osuus.imports.costs import parse_costs
from osuus.imports.counts import parse_counts
from osuus.imports.events import COLUMNS as EVENT_COLUMNS
from osuus.imports.events import iter_events, parse_events
from osuus.imports.tables import cell_text, parse_decimal, read_rows, sniff_delimiter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "2021"
HETU = "131052-308T"  # valid (the privacy tests' example)
HETU_TEMPORARY = "020200A9994"
EVENT_HEADER = "event_id,date,component,municipality,customer,quantity,integration_year,travel_days,km,interpretation_cost"


@pytest.fixture(scope="module")
def agreement():
    agreement, problems = load_agreement(ROOT / "agreements" / "pirkanmaa-2021.toml")
    assert agreement is not None and not problems
    return agreement


@pytest.fixture(scope="module")
def context(agreement):
    return ImportContext.of(agreement, year=2021)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def events_file(tmp_path: Path, *rows: str, name: str = "events.csv", header: str = EVENT_HEADER) -> Path:
    return write(tmp_path, name, "\n".join((header, *rows)) + "\n")


GOOD = "2021-000001,2021-03-04,mainio,790,A-000001,1.5,,,,"


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def where(problems: list[Problem]) -> list[tuple[int | None, str]]:
    return [(p.row, p.column) for p in problems]


# --- the problem value ---------------------------------------------------------------------------

def test_problem_text():
    problem = row_problem("events.csv", 12, "quantity", "-3", "expected a quantity that is not negative")
    assert str(problem) == "events.csv:12: [quantity='-3'] expected a quantity that is not negative"
    assert str(row_problem("events.csv", None, "", "", "the file is empty")) == "events.csv: the file is empty"
    assert str(row_problem("e.csv", 1, "km", "", "required column missing")) == "e.csv:1: [km] required column missing"
    assert str(row_problem("e.csv", 3, "quantity", "-3", "x")) == "e.csv:3: [quantity='-3'] x"


def test_problem_never_holds_a_personal_code_whole():
    problem = row_problem(f"{HETU}.csv", 2, "customer", f"asiakas {HETU}", "refused")
    assert HETU not in str(problem) and HETU not in repr(problem)
    assert "131052-***T" in problem.value


def test_problem_list_keeps_a_thousand_and_counts_all():
    problems = ProblemList()
    for n in range(1500):
        problems.append(row_problem("f", n, "", "", "bad"))
    assert len(problems) == 1000 and problems.total == 1500 and problems.truncated
    assert problem_total(problems) == 1500 and problem_total([row_problem("f", 1, "", "", "x")]) == 1


def test_every_bad_row_is_counted_beyond_the_cap(tmp_path, context):
    rows = [f"2021-{n:06d},2021-03-04,mainio,790,A-1,-1,,,," for n in range(1, 1201)]
    records, problems = parse_events(events_file(tmp_path, *rows), context)
    assert records == [] and len(problems) == 1000 and problem_total(problems) == 1200


# --- reading tables ------------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [("a;b;c", ";"), ("a,b,c", ","), ("a\tb\tc", "\t"),
                                            ('"a;b",c,d', ","), ("single", ",")])
def test_delimiter_is_sniffed_from_the_header(line, expected):
    assert sniff_delimiter(line) == expected


def test_read_rows_csv(tmp_path):
    text = '\ufeff Event_ID ;Note\n1;"a; ""quoted""\nsecond line"\n\n2;plain\n;\n\n'
    path = write(tmp_path, "x.csv", text)
    problems: list[Problem] = []
    rows = list(read_rows(path, problems, required=("event_id",), optional=("note",)))
    assert problems == []
    assert rows == [(2, {"event_id": "1", "note": 'a; "quoted"\nsecond line'}), (5, {"event_id": "2", "note": "plain"})]


def test_read_rows_tab_separated(tmp_path):
    path = write(tmp_path, "x.tsv", "a\tb\n1\t2,5\n")
    assert list(read_rows(path, [])) == [(2, {"a": "1", "b": "2,5"})]


def test_cells_without_a_header_name_are_kept_by_number(tmp_path):
    path = write(tmp_path, "x.csv", "a,,b\n1,,2,\n1,x,2,y\n")
    assert list(read_rows(path, [])) == [(2, {"a": "1", "b": "2"}), (3, {"a": "1", "b": "2", "#2": "x", "#4": "y"})]


@pytest.mark.parametrize("name, content, reason", [
    ("e.xls", b"x", "the old Excel format (.xls) is not read"),
    ("e.json", b"{}", "unknown file type '.json'"),
    ("e.csv", b"", "the file is empty"),
    ("e.xlsx", b"not a zip file", "cannot read as an Excel workbook"),
])
def test_unreadable_files_are_problems(tmp_path, context, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    records, problems = parse_events(path, context)
    assert records == []
    problem = only(problems)
    assert problem.file == name and problem.row is None and problem.message.startswith(reason)


def test_a_missing_file_is_a_problem(tmp_path, context):
    records, problems = parse_events(tmp_path / "nowhere.csv", context)
    assert records == [] and only(problems).message.startswith("cannot read the file")


def test_not_utf8_is_a_problem_with_its_line(tmp_path, context):
    text = EVENT_HEADER + "\n" + GOOD + "\n" + "2021-000002,2021-03-04,mainio,Hämeenkyrö,A-2,1,,,,\n"
    path = write(tmp_path, "events.csv", text, encoding="latin-1")
    records, problems = parse_events(path, context)
    problem = only(problems)
    assert problem.row == 3 and "not UTF-8" in problem.message


def test_events_stream_one_by_one(tmp_path, context):
    path = write(tmp_path, "events.csv", EVENT_HEADER + "\n" + GOOD + "\n", encoding="utf-8")
    path.write_bytes(path.read_bytes() + b"2021-000002,2021-03-04,mainio,H\xe4meenkyr\xf6,A-2,1,,,,\n")
    problems: list[Problem] = []
    stream = iter_events(path, context, problems)
    first = next(stream)
    assert first.event_id == "2021-000001" and problems == []  # yielded before the rest is read
    assert list(stream) == [] and only(problems).row == 3


def test_missing_required_columns_are_each_reported(tmp_path, context):
    path = write(tmp_path, "events.csv", "event_id;date;component;quantity\n1;2021-01-04;mainio;1\n")
    records, problems = parse_events(path, context)
    assert records == []
    assert [(p.row, p.column, p.message) for p in problems] == [
        (1, "municipality", "required column missing from the header"),
        (1, "customer", "required column missing from the header")]


def test_unknown_and_repeated_columns_are_problems(tmp_path, context):
    header = EVENT_HEADER.replace("integration_year", "integraton_year") + ",km"
    records, problems = parse_events(events_file(tmp_path, GOOD + ",", header=header), context)
    assert where(problems) == [(1, "integraton_year"), (1, "km")]
    assert problems[0].message.startswith("unknown column") and problems[1].message.startswith("the column appears twice")


def test_value_under_a_nameless_column_is_refused(tmp_path, context):
    records, problems = parse_events(events_file(tmp_path, GOOD + ",surprise"), context)
    assert records == [] and where(problems) == [(2, "#11")]


# --- cells ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("1,5", "1.5"), ("1.5", "1.5"), ("1 234,50", "1234.50"), ("-3", "-3"),
                                         (",5", "0.5"), ("7", "7"), ("1\u00a0000", "1000")])
def test_decimals(text, value):
    assert parse_decimal(text) == Decimal(value) and str(parse_decimal(text)) == value


@pytest.mark.parametrize("text", ["", "abc", "1e3", "1.234,5", "1,234.5", "--1", ".", "NaN", "inf", "1,2,3"])
def test_not_decimals(text):
    assert parse_decimal(text) is None


def test_cell_text_never_passes_a_float_to_arithmetic():
    assert cell_text(None) == "" and cell_text(7) == "7" and cell_text("020") == "020"
    assert cell_text(0.1) == "0.1" and cell_text(1.25) == "1.25" and cell_text(2.0) == "2"
    assert cell_text(1e-05) == "0.00001" and cell_text(87.5) == "87.5"
    assert cell_text(dt.datetime(2021, 3, 4)) == "2021-03-04" and cell_text(dt.date(2021, 3, 4)) == "2021-03-04"
    assert cell_text(dt.datetime(2021, 3, 4, 10, 30)) == "2021-03-04 10:30:00"
    assert cell_text(True) == "TRUE" and cell_text(Decimal("1.50")) == "1.50"


# --- events: one check at a time -----------------------------------------------------------------

def test_a_good_event(tmp_path, context):
    row = "2021-000001,4.3.2021,alkukartoitus, birkala ,A-000001,\"1,0\",,\"0,5\",46,\"87,50\""
    records, problems = parse_events(events_file(tmp_path, row), context)
    assert problems == []
    assert records == [ServiceEventRecord(
        event_id="2021-000001", date=dt.date(2021, 3, 4), component="alkukartoitus", municipality="604",
        customer="A-000001", quantity=Decimal("1.0"), travel_days=Decimal("0.5"), km=Decimal(46),
        interpretation=Decimal("87.50"), source="events.csv:2")]


@pytest.mark.parametrize("municipality, code", [("790", "790"), ("020", "020"), ("20", "020"), ("Akaa", "020"),
                                                ("ACKAS", "020"), ("tammerfors", "837"), ("Mänttä-Vilppula", "508")])
def test_municipality_by_code_or_name(tmp_path, context, municipality, code):
    row = f"2021-000001,2021-03-04,mainio,{municipality},A-000001,1,,,,"
    records, problems = parse_events(events_file(tmp_path, row), context)
    assert problems == [] and records[0].municipality == code


BAD_EVENTS = [
    # (row, column, value, reason starts with)
    (",2021-03-04,mainio,790,A-1,1,,,,", "event_id", "", "missing: expected the event id"),
    ("x" * 101 + ",2021-03-04,mainio,790,A-1,1,,,,", "event_id", "x" * 59 + "…", "too long: 101 characters"),
    ("E1,2021-02-30,mainio,790,A-1,1,,,,", "date", "2021-02-30", "expected a date as YYYY-MM-DD or D.M.YYYY"),
    ("E1,04/03/2021,mainio,790,A-1,1,,,,", "date", "04/03/2021", "expected a date as YYYY-MM-DD or D.M.YYYY"),
    ("E1,,mainio,790,A-1,1,,,,", "date", "", "missing: expected a date"),
    ("E1,2023-03-04,mainio,790,A-1,1,,,,", "date", "2023-03-04", "no agreement for 2023"),
    ("E1,2021-03-04,kahvi,790,A-1,1,,,,", "component", "kahvi", "unknown component: the 2021 agreement has"),
    ("E1,2021-03-04,mainio,999,A-1,1,,,,", "municipality", "999", "unknown municipality"),
    ("E1,2021-03-04,mainio,Helsinki,A-1,1,,,,", "municipality", "Helsinki", "unknown municipality"),
    ("E1,2021-03-04,mainio,790,,1,,,,", "customer", "", "missing: expected a pseudonymous customer id"),
    ("E1,2021-03-04,mainio,790,A-1,-3,,,,", "quantity", "-3", "expected a quantity that is not negative"),
    ("E1,2021-03-04,mainio,790,A-1,kolme,,,,", "quantity", "kolme", "expected a quantity: a number"),
    ("E1,2021-03-04,mainio,790,A-1,,,,,", "quantity", "", "missing: expected a quantity"),
    ("E1,2021-03-04,mainio,790,A-1,1.23456,,,,", "quantity", "1.23456", "expected a quantity with at most 4 decimals"),
    ("E1,2021-03-04,omavalmentaja,790,A-1,1,6,,,", "integration_year", "6", "expected an integration year"),
    ("E1,2021-03-04,omavalmentaja,790,A-1,1,toka,,,", "integration_year", "toka", "expected an integration year"),
    ("E1,2021-03-04,mainio,790,A-1,1,,-1,,", "travel_days", "-1", "expected a number of travel days that is not negative"),
    ("E1,2021-03-04,mainio,790,A-1,1,,,paljon,", "km", "paljon", "expected kilometres: a number"),
    ("E1,2021-03-04,mainio,790,A-1,1,,,-20,", "km", "-20", "expected kilometres that is not negative"),
    ("E1,2021-03-04,mainio,790,A-1,1,,,,12.345", "interpretation_cost", "12.345",
     "expected an amount in euros with at most 2 decimals"),
    ("E1,2021-03-04,mainio,790,A-1,1,,,,-5", "interpretation_cost", "-5",
     "expected an amount in euros that is not negative"),
]


@pytest.mark.parametrize("row, column, value, reason", BAD_EVENTS)
def test_each_bad_event_is_reported_at_its_cell(tmp_path, context, row, column, value, reason):
    records, problems = parse_events(events_file(tmp_path, GOOD, row), context)
    assert [r.event_id for r in records] == ["2021-000001"]
    problem = only(problems)
    assert (problem.file, problem.row, problem.column, problem.value) == ("events.csv", 3, column, value)
    assert problem.message.startswith(reason), problem.message


def test_component_not_billed_per_event(tmp_path, context, agreement):
    if not getattr(getattr(agreement, "billing", None), "events", None):
        pytest.skip("the agreement does not list the components billed per event")
    records, problems = parse_events(events_file(tmp_path, "E1,2021-03-04,johtaminen,790,A-1,1,,,,"), context)
    problem = only(problems)
    assert (problem.row, problem.column, problem.value) == (2, "component", "johtaminen")
    assert problem.message.startswith("johtaminen is not billed per service event in the 2021 agreement")


def test_date_outside_the_year_being_imported(tmp_path, agreement):
    both = ImportContext.of(agreement, agreement._replace(year=2022), year=2021)
    row = "E1,2022-01-10,mainio,790,A-1,1,,,,"
    records, problems = parse_events(events_file(tmp_path, row), both)
    problem = only(problems)
    assert (problem.row, problem.column, problem.message) == (2, "date", "not in 2021, the year being imported")
    # without a year, 2022 has an agreement and is fine
    without_year = ImportContext.of(agreement, agreement._replace(year=2022))
    records, problems = parse_events(events_file(tmp_path, row), without_year)
    assert problems == [] and records[0].date == dt.date(2022, 1, 10)


def test_duplicate_event_id_in_the_file(tmp_path, context):
    records, problems = parse_events(events_file(tmp_path, GOOD, "E2,2021-03-05,mainio,790,A-1,1,,,,",
                                                 GOOD.replace("A-000001", "A-000002")), context)
    assert [r.event_id for r in records] == ["2021-000001", "E2"]
    problem = only(problems)
    assert (problem.row, problem.column, problem.value) == (4, "event_id", "2021-000001")
    assert problem.message == "the same event id is on an earlier row of this file"


def test_tiered_component_needs_the_integration_year(tmp_path, agreement):
    # 2021 prices every coached customer at tier 3; an agreement with tiers and no fixed tier needs the year.
    components = dict(agreement.components)
    components["omavalmentaja"] = components["omavalmentaja"]._replace(tier=None)
    tiered = ImportContext.of(agreement._replace(components=components), year=2021)
    rows = ("E1,2021-03-04,omavalmentaja,790,A-1,1,,,,", "E2,2021-03-04,omavalmentaja,790,A-2,1,2,,,")
    records, problems = parse_events(events_file(tmp_path, *rows), tiered)
    assert [r.integration_year for r in records] == [2]
    problem = only(problems)
    assert (problem.row, problem.column, problem.value) == (2, "integration_year", "")
    assert "omavalmentaja is priced by integration year" in problem.message
    # the shipped agreement fixes the tier: no year needed
    records, problems = parse_events(events_file(tmp_path, *rows), ImportContext.of(agreement))
    assert problems == [] and len(records) == 2


@pytest.mark.parametrize("code", [HETU, HETU_TEMPORARY, HETU.lower()])
def test_personal_code_as_customer_is_refused(tmp_path, context, code):
    records, problems = parse_events(events_file(tmp_path, f"E1,2021-03-04,mainio,790,{code},1,,,,"), context)
    problem = only(problems)
    assert records == [] and (problem.row, problem.column) == (2, "customer")
    assert "personal identity code" in problem.message
    assert code not in str(problem) and problem.value == code[:7] + "***" + code[-1]


def test_personal_code_hidden_in_another_column_is_refused(tmp_path, context):
    rows = (f"tapahtuma {HETU},2021-03-04,mainio,790,A-1,1,,,,",   # in the event id
            f"E2,2021-03-04,mainio,790,A-2,{HETU_TEMPORARY},,,,",  # in a number: refused once, as a code
            f"E3,2021-03-04,mainio,790,{HETU},1,,,,")               # in the customer
    records, problems = parse_events(events_file(tmp_path, *rows), context)
    assert records == []
    assert where(problems) == [(2, "event_id"), (3, "quantity"), (4, "customer")]
    assert all("personal identity code" in p.message for p in problems)
    text = "\n".join(str(p) for p in problems)
    assert HETU not in text and HETU_TEMPORARY not in text and "131052-***T" in text


def test_not_a_personal_code_is_fine(tmp_path, context):
    # a wrong check character, a business id: not personal codes
    row = "131052-308U,2021-03-04,mainio,790,0211675-2,1,,,,"
    records, problems = parse_events(events_file(tmp_path, row), context)
    assert problems == [] and records[0].customer == "0211675-2"


def test_every_problem_at_once(tmp_path, context):
    rows = (GOOD,
            "E2,2021-03-04,mainio,790,A-1,-1,,,,",
            "E3,2021-03-04,mainio,790,A-1,1,,,,",
            "E4,31.2.2021,mainio,790,A-1,1,,,,",
            "E5,2021-03-04,mainio,Tukholma,A-1,1,,,,")
    records, problems = parse_events(events_file(tmp_path, *rows), context)
    assert [r.event_id for r in records] == ["2021-000001", "E3"]
    assert where(problems) == [(3, "quantity"), (5, "date"), (6, "municipality")]


def test_one_row_with_many_problems_reports_each(tmp_path, context):
    row = "E1,2021-03-04,kahvi,Tukholma,,-1,9,x,-1,1.001"
    records, problems = parse_events(events_file(tmp_path, row), context)
    assert where(problems) == [(2, c) for c in ("component", "municipality", "customer", "quantity",
                                                 "integration_year", "travel_days", "km", "interpretation_cost")]


def test_semicolons_decimal_comma_and_finnish_dates(tmp_path, context):
    text = ("EVENT_ID;Date;Component;Municipality;Customer;Quantity;Travel_days;KM;Interpretation_cost\n"
            "2021-000001;4.3.2021;mainio;Sastamala;A-000001;1,25;0,5;128,5;1 234,50\n"
            '2021-000002;15.12.2021;tredu;Virdois;"A-000;2";1;;;\n')
    records, problems = parse_events(write(tmp_path, "tapahtumat.csv", text), context)
    assert problems == []
    first, second = records
    assert (first.quantity, first.travel_days, first.km, first.interpretation) == (
        Decimal("1.25"), Decimal("0.5"), Decimal("128.5"), Decimal("1234.50"))
    assert (first.date, first.municipality, first.source) == (dt.date(2021, 3, 4), "790", "tapahtumat.csv:2")
    assert (second.date, second.municipality, second.customer) == (dt.date(2021, 12, 15), "936", "A-000;2")


def test_xlsx_with_typed_cells(tmp_path, context):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(EVENT_COLUMNS))
    sheet.append(["2021-000001", dt.date(2021, 3, 4), "mainio", 790, "A-1", 1.25, None, 0.5, 128, 87.5])
    sheet.append(["2021-000002", "4.3.2021", "omavalmentaja", 20, "A-2", 1, 2, None, None, None])
    sheet.append([None] * 10)
    sheet.append(["2021-000003", dt.datetime(2021, 3, 5), "mainio", "Akaa", "A-3", -2, None, None, None, 0.1])
    sheet.append([])
    path = tmp_path / "events.xlsx"
    workbook.save(path)
    records, problems = parse_events(path, context)
    assert [(r.event_id, r.date, r.municipality, r.quantity, r.integration_year, r.travel_days, r.km,
             r.interpretation) for r in records] == [
        ("2021-000001", dt.date(2021, 3, 4), "790", Decimal("1.25"), None, Decimal("0.5"), Decimal(128), Decimal("87.5")),
        ("2021-000002", dt.date(2021, 3, 4), "020", Decimal(1), 2, Decimal(0), Decimal(0), Decimal(0))]
    problem = only(problems)
    assert (str(problem)) == "events.xlsx:5: [quantity='-2'] expected a quantity that is not negative"


# --- counts --------------------------------------------------------------------------------------

COUNTS_HEADER = "key;municipality;date;value;source"


def test_good_counts(tmp_path, context):
    text = COUNTS_HEADER + "\nasukasluku;Sastamala;31.12.2020;24 100;Tilastokeskus\nulkomaalaiset;177;2021-07-31;2,5;\n"
    records, problems = parse_counts(write(tmp_path, "counts.csv", text), context)
    assert problems == []
    assert [(r.key, r.municipality, r.date, r.value, r.source_note, r.source) for r in records] == [
        ("asukasluku", "790", dt.date(2020, 12, 31), Decimal(24100), "Tilastokeskus", "counts.csv:2"),
        ("ulkomaalaiset", "177", dt.date(2021, 7, 31), Decimal("2.5"), "", "counts.csv:3")]


@pytest.mark.parametrize("row, column, reason", [
    ("tyottomat;790;2020-12-31;5;", "key", "unknown key: expected one of asukasluku, kotoaikaiset, ulkomaalaiset"),
    ("alkukartoitukset;790;2020-12-31;5;", "key", "this key is computed from another key"),
    ("asukasluku;Helsinki;2020-12-31;5;", "municipality", "unknown municipality"),
    ("asukasluku;790;31.12.20;5;", "date", "expected a date"),
    ("asukasluku;790;2020-12-31;-5;", "value", "expected a count that is not negative"),
    ("asukasluku;790;2020-12-31;viisi;", "value", "expected a count: a number"),
    ("asukasluku;790;2020-12-31;1,00001;", "value", "expected a count with at most 4 decimals"),
    ("asukasluku;790;2020-12-31;;", "value", "missing: expected a count"),
    ("asukasluku;790;2020-12-31;5;" + "x" * 301, "source", "too long"),
    (f"asukasluku;790;2020-12-31;5;kysytty {HETU}", "source", "holds a personal identity code"),
    ("asukasluku;Akaa;2019-12-31;5;", "key", "asukasluku of Akaa on 2019-12-31 is on an earlier row"),
])
def test_each_bad_count(tmp_path, context, row, column, reason):
    text = "\n".join((COUNTS_HEADER, "asukasluku;020;2019-12-31;16475;", row)) + "\n"
    records, problems = parse_counts(write(tmp_path, "counts.csv", text), context)
    assert len(records) == 1
    problem = only(problems)
    assert (problem.row, problem.column) == (3, column) and problem.message.startswith(reason), str(problem)


# --- costs ---------------------------------------------------------------------------------------

COSTS_HEADER = "year;component;kind;amount;note"


def test_good_costs_with_finnish_kinds(tmp_path, context):
    text = COSTS_HEADER + "\n2021;mainio;kustannus;292 644,64;\n2021;mainio;Rahoitus;35000;ESR\n2021;ict;cost;70801.5;\n"
    records, problems = parse_costs(write(tmp_path, "costs.csv", text), context)
    assert problems == []
    assert [(r.year, r.component, r.kind, r.amount, r.note, r.source) for r in records] == [
        (2021, "mainio", "cost", Decimal("292644.64"), "", "costs.csv:2"),
        (2021, "mainio", "funding", Decimal(35000), "ESR", "costs.csv:3"),
        (2021, "ict", "cost", Decimal("70801.5"), "", "costs.csv:4")]


@pytest.mark.parametrize("row, column, reason", [
    ("2023;mainio;cost;1;", "year", "no agreement for 2023"),
    ("vuosi;mainio;cost;1;", "year", "expected a year"),
    ("2021;kahvi;cost;1;", "component", "unknown component"),
    ("2021;mainio;tulo;1;", "kind", "expected cost or funding (kustannus or rahoitus)"),
    ("2021;mainio;cost;-1;", "amount", "expected an amount in euros that is not negative"),
    ("2021;mainio;cost;1,005;", "amount", "expected an amount in euros with at most 2 decimals"),
    ("2021;mainio;cost;;", "amount", "missing: expected an amount in euros"),
    ("2021;ict;kustannus;5;", "kind", "cost of ict for 2021 is on an earlier row"),
])
def test_each_bad_cost(tmp_path, context, row, column, reason):
    text = "\n".join((COSTS_HEADER, "2021;ict;cost;70801;", row)) + "\n"
    records, problems = parse_costs(write(tmp_path, "costs.csv", text), context)
    assert len(records) == 1
    problem = only(problems)
    assert (problem.row, problem.column) == (3, column) and problem.message.startswith(reason), str(problem)


def test_cost_of_another_year_than_the_one_imported(tmp_path, agreement):
    both = ImportContext.of(agreement, agreement._replace(year=2022), year=2021)
    records, problems = parse_costs(write(tmp_path, "costs.csv", COSTS_HEADER + "\n2022;ict;cost;1;\n"), both)
    assert (only(problems).column, only(problems).message) == ("year", "not 2021, the year being imported")


# --- the shipped examples ------------------------------------------------------------------------

def _without_source(records):
    return [dataclasses.replace(r, source=r.source.rsplit(":", 1)[1]) for r in records]


def test_shipped_examples_parse_without_problems(context):
    events, problems = parse_events(EXAMPLES / "events.csv", context)
    assert problems == [] and len(events) == 8547
    assert {e.municipality for e in events} == {m.code for m in context.agreements[2021].municipalities}
    assert {e.component for e in events} == {"mainio", "alkukartoitus", "omavalmentaja", "yrityskoordinaattori", "tredu"}
    assert any(e.km and e.travel_days for e in events) and any(e.interpretation for e in events)
    assert {e.integration_year for e in events if e.component == "omavalmentaja"} == {1, 2, 3}
    counts, problems = parse_counts(EXAMPLES / "counts.csv", context)
    assert problems == [] and len(counts) == 3 * 22
    assert all("esimerkki" in c.source_note for c in counts)
    costs, problems = parse_costs(EXAMPLES / "costs.csv", context)
    assert problems == []
    assert {(c.component, c.kind) for c in costs} == {
        *((cid, "cost") for cid in context.agreements[2021].components), ("mainio", "funding"), ("omavalmentaja", "funding")}


def test_example_workbook_gives_the_same_records_as_the_csv(context):
    from_csv, problems = parse_events(EXAMPLES / "events.csv", context)
    from_xlsx, xlsx_problems = parse_events(EXAMPLES / "events.xlsx", context)
    assert problems == [] and xlsx_problems == []
    assert _without_source(from_xlsx) == _without_source(from_csv)
    assert [e.content_hash() for e in from_xlsx] == [e.content_hash() for e in from_csv]
    assert from_xlsx[0].source == "events.xlsx:2" and from_csv[-1].source == "events.csv:8548"


def test_examples_are_reproducible(tmp_path, context):
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "examples" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_examples(tmp_path)
    for name in ("events.csv", "counts.csv", "costs.csv"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name
    assert _without_source(parse_events(tmp_path / "events.xlsx", context)[0]) == \
        _without_source(parse_events(EXAMPLES / "events.xlsx", context)[0])


# --- mixed good and bad rows (Hypothesis) --------------------------------------------------------

MUTATIONS = ("negative_quantity", "text_quantity", "bad_date", "year_without_agreement", "unknown_municipality",
             "unknown_component", "missing_customer", "too_many_decimals", "bad_integration_year",
             "hetu_customer", "hetu_event_id", "duplicate_id")
CODES = ("131052-308T", "010594Y9032", "020200A9994")

_agreement_for_strategies, _ = load_agreement(ROOT / "agreements" / "pirkanmaa-2021.toml")
_MUNICIPALITY_TEXTS = tuple(t for m in _agreement_for_strategies.municipalities
                            for t in (m.code, m.name, m.name_sv.upper(), m.name.lower()))
_COMPONENTS = ("mainio", "alkukartoitus", "omavalmentaja", "yrityskoordinaattori", "tredu")


@st.composite
def event_rows(draw):
    count = draw(st.integers(0, 8))
    rows, invalid = [], []
    for index in range(count):
        quantity = draw(st.decimals(min_value=0, max_value=10_000, places=draw(st.integers(0, 4))))
        comma = draw(st.booleans())
        number = format(quantity, "f")
        row = {
            "event_id": f"E{index}",
            "date": draw(st.dates(dt.date(2021, 1, 1), dt.date(2021, 12, 31))),
            "component": draw(st.sampled_from(_COMPONENTS)),
            "municipality": draw(st.sampled_from(_MUNICIPALITY_TEXTS)),
            "customer": f"A-{draw(st.integers(0, 999_999)):06d}",
            "quantity": number.replace(".", ",") if comma else number,
            "integration_year": str(draw(st.integers(1, 5))) if draw(st.booleans()) else "",
            "km": str(draw(st.integers(0, 400))) if draw(st.booleans()) else "",
        }
        finnish_date = draw(st.booleans())
        mutation = draw(st.none() | st.sampled_from(MUTATIONS))
        if mutation == "duplicate_id" and not rows:
            mutation = None
        if mutation == "negative_quantity":
            row["quantity"] = "-" + str(draw(st.integers(1, 100)))
        elif mutation == "text_quantity":
            row["quantity"] = draw(st.sampled_from(["x", "1e3", "1.2.3", "--1"]))
        elif mutation == "bad_date":
            row["date"] = draw(st.sampled_from(["2021-02-29", "32.1.2021", "2021/03/04", "huomenna"]))
        elif mutation == "year_without_agreement":
            row["date"] = draw(st.dates(dt.date(2022, 1, 1), dt.date(2030, 12, 31)))
        elif mutation == "unknown_municipality":
            row["municipality"] = draw(st.sampled_from(["Helsinki", "091", "999", "Tampereen seutu"]))
        elif mutation == "unknown_component":
            row["component"] = draw(st.sampled_from(["johtaja", "kahvi", "main io"]))
        elif mutation == "missing_customer":
            row["customer"] = ""
        elif mutation == "too_many_decimals":
            row["quantity"] = "1.00001"
        elif mutation == "bad_integration_year":
            row["integration_year"] = draw(st.sampled_from(["0", "6", "1.5", "eka"]))
        elif mutation == "hetu_customer":
            row["customer"] = draw(st.sampled_from(CODES))
        elif mutation == "hetu_event_id":
            row["event_id"] = "id " + draw(st.sampled_from(CODES))
        elif mutation == "duplicate_id":
            row["event_id"] = rows[draw(st.integers(0, len(rows) - 1))]["event_id"]
        if isinstance(row["date"], dt.date):
            day = row["date"]
            row["date"] = f"{day.day}.{day.month}.{day.year}" if finnish_date else day.isoformat()
        rows.append(row)
        if mutation is not None:
            invalid.append(index)
    return rows, invalid


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=event_rows(), delimiter=st.sampled_from([",", ";", "\t"]))
def test_mixed_rows_every_bad_row_is_reported(tmp_path, context, data, delimiter):
    rows, invalid = data
    columns = ("event_id", "date", "component", "municipality", "customer", "quantity", "integration_year", "km")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    path = tmp_path / "mixed.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")

    records, problems = parse_events(path, context)
    if not invalid:
        assert problems == [] and len(records) == len(rows)
        return
    # every invalid row has at least one problem, and a problem only ever points at an invalid row
    assert {p.row for p in problems} == {index + 2 for index in invalid}, [str(p) for p in problems]
    assert len(problems) >= len(invalid)
    assert len(records) == len(rows) - len(invalid)
    assert all(code not in str(p) for p in problems for code in CODES)


# ---------------------------------------------------------------------------
# the fast path of plain rows gives what the full checks give
# ---------------------------------------------------------------------------

def _both_paths(path: Path, context, monkeypatch) -> tuple[tuple, tuple]:
    """(records, problems) with the fast path, then with every row through the full checks."""
    from osuus.imports import events

    def run():
        problems = ProblemList()
        records = list(iter_events(path, context, problems))
        return records, [str(p) for p in problems]

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(events._PlainRows, "event", lambda self, cells, source: None)
        slow = run()
    return fast, slow


def test_the_example_file_is_read_the_same_by_both_paths(context, monkeypatch):
    fast, slow = _both_paths(EXAMPLES / "events.csv", context, monkeypatch)
    assert fast == slow and len(fast[0]) > 8000 and fast[1] == []


# Per column: plain forms (what a system export writes), then what people type, or mistakes.
_CELL_VARIANTS = {
    "event_id": (["", "", "E-1"], ["x" * 101]),  # "" here means: a fresh id of the row's own
    "date": (["2021-03-04", "2021-11-30"], ["4.3.2021", "2020-12-31", "2021-02-30", "04.03.2021", ""]),
    "component": (["mainio", "omavalmentaja", "tredu"], ["MAINIO", "ict", "nope", ""]),
    "municipality": (["790", "Sastamala", "20"], ["sastamala", "Birkala", "999", ""]),
    "customer": (["A-1", "B-2"], ["", HETU, "y" * 101]),
    "quantity": (["1.5", "2", "0", "1.2345"], ["1,5", "-1", "1.23456", "", "abc", " 3 "]),
    "integration_year": (["", "1", "5"], ["01", "6", "x"]),
    "travel_days": (["", "0.5", "1.2345"], ["1,25", "-2", "1.23456"]),
    "km": (["", "86", "12.3456"], ["1e3", "12.34567"]),
    "interpretation_cost": (["", "35.50", "1.234"], ["35,5", "-1"]),
}


def _cell(plain: list[str], odd: list[str]):
    # nine in ten cells plain, so that many rows take the fast path and some do not
    return st.one_of(*[st.sampled_from(plain)] * 9, st.sampled_from(plain + odd))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({k: _cell(*v) for k, v in _CELL_VARIANTS.items()}),
                     min_size=1, max_size=15))
def test_both_paths_agree_on_any_mix_of_plain_and_odd_rows(rows, context, tmp_path, monkeypatch):
    # rows that name each municipality once first, so that the fast path knows the names
    names = [m for m in sum(_CELL_VARIANTS["municipality"], []) if m]
    warm = [f"W-{i},2021-01-04,mainio,{m},A-9,1,,,," for i, m in enumerate(names)]
    lines = [",".join(f'"{(r[c] or f"R-{n}") if c == "event_id" else r[c]}"' for c in EVENT_COLUMNS)
             for n, r in enumerate(rows)]
    path = events_file(tmp_path, *warm, *lines, name="mix.csv")
    fast, slow = _both_paths(path, context, monkeypatch)
    assert fast == slow

