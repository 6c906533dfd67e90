"""Write the synthetic example import files of 2021 (deterministic: a fixed seed).

    .venv/bin/python examples/make_examples.py [OUT_DIR]     # default: examples/2021

Writes `events.csv`, `events.xlsx` (the same events), `counts.csv` and
`costs.csv`. The figures are invented: shaped like the Pirkanmaa appendix of
2021 (agreements/pirkanmaa-2021.toml) but NOT published data. Run twice, it
writes the same bytes (the workbook's timestamps are fixed too).

No float is used: amounts are built from integers of cents, quantities from
integers of quarter hours.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
OUT = Path(__file__).resolve().parent / "2021"

SEED = 2021
YEAR = 2021

#: Events per component over the year (about 8 700 in all), near the volumes behind Taulukko 2:
#: Mainio ≈ 294 771 € / 40 €/h ≈ 7 400 hours at ~1,45 h a visit; 300 initial assessments;
#: 712 coached customers (38,5 % of 1 823 integration-period customers, rounded up per municipality),
#: as many business-coordinator customers; 1 823 competence mappings.
EVENTS = {"mainio": 5000, "alkukartoitus": 300, "omavalmentaja": 712, "yrityskoordinaattori": 712, "tredu": 1823}
#: Which count each component's events follow: foreign jobseekers (C) or integration-period customers (K).
WEIGHT_KEY = {"mainio": "ulkomaalaiset", "alkukartoitus": "ulkomaalaiset", "omavalmentaja": "kotoaikaiset",
              "yrityskoordinaattori": "kotoaikaiset", "tredu": "kotoaikaiset"}
#: Services that can be delivered on a member's own premises (staff travel from Tampere).
ON_SITE = ("mainio", "alkukartoitus")
ON_SITE_PER_MILLE = 120
INTERPRETATION_PER_MILLE = 30
#: Rough one-way road distance from Tampere (km), for plausible mileage.
DISTANCE = {"Akaa": 45, "Hämeenkyrö": 40, "Ikaalinen": 75, "Juupajoki": 65, "Kangasala": 20, "Kihniö": 120,
            "Lempäälä": 25, "Mänttä-Vilppula": 85, "Nokia": 20, "Orivesi": 45, "Parkano": 95, "Pirkkala": 15,
            "Punkalaidun": 90, "Pälkäne": 45, "Ruovesi": 70, "Sastamala": 65, "Urjala": 60, "Valkeakoski": 35,
            "Vesilahti": 35, "Virrat": 105, "Ylöjärvi": 20}
#: Public holidays on weekdays in 2021 (and Midsummer Eve and Christmas Eve, days off in practice).
HOLIDAYS = {dt.date(YEAR, m, d) for m, d in ((1, 1), (1, 6), (4, 2), (4, 5), (5, 13), (6, 25), (12, 6), (12, 24))}
MAINIO_QUARTER_HOURS = (2, 3, 4, 4, 4, 5, 6, 6, 8, 10, 12)  # 0,5 … 3 hours a visit
INTEGRATION_YEAR_WEIGHTS = ((1, 20), (2, 30), (3, 50))

EVENT_COLUMNS = ("event_id", "date", "component", "municipality", "customer", "quantity", "integration_year",
                 "travel_days", "km", "interpretation_cost")
EXAMPLE_NOTE = "esimerkki"
FIXED_TIME = (2022, 1, 1, 0, 0, 0)


def _agreement():
    sys.path.insert(0, str(ROOT / "src"))
    from osuus.agreement import load_agreement

    agreement, problems = load_agreement(AGREEMENT)
    if agreement is None or problems:
        raise SystemExit("\n".join(str(p) for p in problems))
    return agreement


def _apportion(total: int, weights: dict[str, Decimal], minimum: int = 0) -> dict[str, int]:
    """`total` split in proportion to `weights` by largest remainders, each at least `minimum`."""
    names = list(weights)
    base = {n: minimum for n in names}
    left = total - minimum * len(names)
    whole = sum(weights.values())
    exact = {n: weights[n] * left / whole for n in names}
    for n in names:
        base[n] += int(exact[n])
    rest = total - sum(base.values())
    for n in sorted(names, key=lambda n: (-(exact[n] - int(exact[n])), n))[:rest]:
        base[n] += 1
    return base


def _workday(rng: random.Random) -> dt.date:
    """A random working day of the year: no weekends, no Finnish public holidays of 2021."""
    while True:
        day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))
        if day.weekday() < 5 and day not in HOLIDAYS:
            return day


def make_events(agreement, rng: random.Random) -> list[dict]:
    names = [m.name for m in agreement.municipalities]
    code_of = {m.name: m.code for m in agreement.municipalities}  # the agreement keys its figures by code
    plan = {c: _apportion(n, {m: agreement.keys[WEIGHT_KEY[c]].values[code_of[m]] for m in names},
                          minimum=1 if c == "mainio" else 0) for c, n in EVENTS.items()}
    pools: dict[str, int] = {}
    for m in names:
        mainio = plan["mainio"][m]
        pools[m] = max(1, (mainio + 1) // 2, *(plan[c][m] for c in EVENTS if c != "mainio"))
    numbers = list(range(1, sum(pools.values()) + 1))
    rng.shuffle(numbers)
    customers: dict[str, list[str]] = {}
    for m in names:
        customers[m] = [f"A-{n:06d}" for n in numbers[:pools[m]]]
        numbers = numbers[pools[m]:]

    events = []
    for m in names:
        code = code_of[m]
        for component in EVENTS:
            count = plan[component][m]
            # Each customer is assessed, coached, coordinated and mapped once a year.
            chosen = (rng.choices(customers[m], k=count) if component == "mainio"
                      else rng.sample(customers[m], count))
            for customer in chosen:
                event = {"date": _workday(rng), "component": component, "municipality": code,
                         "customer": customer, "quantity": Decimal(1), "integration_year": None,
                         "travel_days": None, "km": None, "interpretation_cost": None}
                if component == "mainio":
                    event["quantity"] = Decimal(rng.choice(MAINIO_QUARTER_HOURS)) / 4
                if component == "omavalmentaja":
                    years, weights = zip(*INTEGRATION_YEAR_WEIGHTS)
                    event["integration_year"] = rng.choices(years, weights=weights)[0]
                if component in ON_SITE and code != agreement.host and rng.randrange(1000) < ON_SITE_PER_MILLE:
                    distance = DISTANCE[m]
                    event["travel_days"] = Decimal(1) if distance >= 60 else Decimal("0.5")
                    event["km"] = min(180, max(20, 2 * distance + rng.randint(-6, 6)))
                if component in ON_SITE and rng.randrange(1000) < INTERPRETATION_PER_MILLE:
                    event["interpretation_cost"] = Decimal(rng.randint(4_000, 26_000)).scaleb(-2)
                events.append(event)
    events.sort(key=lambda e: (e["date"], e["municipality"], e["component"], e["customer"]))
    for number, event in enumerate(events, start=1):
        event["event_id"] = f"{YEAR}-{number:06d}"
    return events


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_events_csv(events: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(EVENT_COLUMNS)
        for event in events:
            writer.writerow([_text(event[c]) for c in EVENT_COLUMNS])


def write_events_xlsx(events: list[dict], path: Path) -> None:
    """The same events as a workbook: numbers as numbers, dates as dates, codes as text."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "events"
    sheet.append(list(EVENT_COLUMNS))
    for event in events:
        sheet.append([event[c] for c in EVENT_COLUMNS])
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].number_format = "yyyy-mm-dd"
    for row in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].number_format = "@"  # municipality codes keep their leading zeros
    for letter, width in zip("ABCDEFGHIJ", (14, 12, 22, 13, 11, 9, 17, 12, 6, 20)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    moment = dt.datetime(*FIXED_TIME)
    workbook.properties.creator = "osuus examples/make_examples.py"
    workbook.properties.created = moment
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(_fixed_zip(buffer.getvalue()))


def _fixed_zip(data: bytes) -> bytes:
    """The workbook with fixed timestamps (openpyxl stamps the time of saving), for reproducible bytes."""
    stamp = dt.datetime(*FIXED_TIME).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + stamp + rb"\g<2>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)
    return out.getvalue()


def _changed(value: Decimal, rng: random.Random, per_mille: int) -> Decimal:
    """`value` plus or minus up to `per_mille` ‰ (at least 1), never below zero; whole numbers stay whole."""
    whole = int(value)
    step = max(1, whole * per_mille // 1000)
    return Decimal(max(0, whole + rng.randint(-step, step)))


def write_counts(agreement, rng: random.Random, path: Path) -> None:
    rows = []
    population = agreement.keys["asukasluku"].values
    for m in agreement.municipalities:
        rows.append(("asukasluku", m.code, "2020-12-31", _changed(population[m.code], rng, 12),
                     f"{EXAMPLE_NOTE}: 31.12.2019 luku ± keksitty muutos, ei Tilastokeskuksen luku"))
    for key, label in (("ulkomaalaiset", "ulkomaalaiset työttömät ja palveluissa"),
                       ("kotoaikaiset", "kotoutumisaikaiset asiakkaat")):
        values = agreement.keys[key].values
        for m in agreement.municipalities:
            value = values[m.code]
            if value != int(value):  # a suppressed small count stays suppressed
                new = value
            else:
                new = _changed(value, rng, 100)
            rows.append((key, m.code, "2021-07-31", new,
                         f"{EXAMPLE_NOTE}: heinäkuu 2020 ± keksitty muutos ({label}), ei julkaistu luku"))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("key", "municipality", "date", "value", "source"))
        writer.writerows(rows)


def _finnish_money(amount: Decimal) -> str:
    return format(amount, "f").replace(".", ",")


def write_costs(agreement, rng: random.Random, path: Path) -> None:
    """Actual 2021 costs near the agreed ones, and two funding rows; `;` and decimal comma as Excel writes."""
    rows = []
    for component in agreement.components.values():
        agreed = component.cost.value if component.kind == "pool" else component.total_cost.value
        cents = int(agreed * 100)
        actual = Decimal(cents + rng.randint(-cents * 3 // 100, cents * 3 // 100)).scaleb(-2)
        rows.append((str(YEAR), component.id, "kustannus", _finnish_money(actual),
                     f"{EXAMPLE_NOTE}: sovittu {agreed} € ± keksitty poikkeama"))
    rows.append((str(YEAR), "mainio", "rahoitus", _finnish_money(Decimal("35000.00")),
                 f"{EXAMPLE_NOTE}: keksitty hankerahoitus"))
    rows.append((str(YEAR), "omavalmentaja", "rahoitus", _finnish_money(Decimal("120000.00")),
                 f"{EXAMPLE_NOTE}: keksitty valtionavustus"))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(("year", "component", "kind", "amount", "note"))
        writer.writerows(rows)


#: The synthetic agreement of the next year, for the walkthrough of a year whose agreement
#: arrives after its first invoice.
NEXT_YEAR_NOTICE = """# SYNTHETIC EXAMPLE, NOT A PUBLISHED APPENDIX: the 2021 appendix of
# agreements/pirkanmaa-2021.toml with its year moved to 2022 and every cost
# raised by 2 %, written by examples/make_examples.py. It is used by the
# README's walkthrough to show a year's agreement stored after the year's first
# invoice (the advances recomputed). Do not use it for anything real.
"""


def write_next_agreement(path: Path) -> None:
    text = AGREEMENT.read_text(encoding="utf-8")
    cost = re.compile(r"^((?:cost|total_cost) = (?:\{ value = )?)([0-9_]+)", re.MULTILINE)

    def raised(match: re.Match) -> str:
        amount = Decimal(match.group(2).replace("_", "")) * Decimal("1.02")
        return f"{match.group(1)}{int(amount.quantize(Decimal(1))):_}"

    text = cost.sub(raised, text).replace(str(YEAR), str(YEAR + 1))
    path.write_text(NEXT_YEAR_NOTICE + text, encoding="utf-8")


def write_examples(out: Path = OUT) -> list[Path]:
    agreement = _agreement()
    out.mkdir(parents=True, exist_ok=True)
    events = make_events(agreement, random.Random(SEED))
    paths = [out / "events.csv", out / "events.xlsx", out / "counts.csv", out / "costs.csv"]
    write_events_csv(events, paths[0])
    write_events_xlsx(events, paths[1])
    write_counts(agreement, random.Random(SEED + 1), paths[2])
    write_costs(agreement, random.Random(SEED + 2), paths[3])
    if out == OUT:
        (OUT.parent / str(YEAR + 1)).mkdir(exist_ok=True)
        paths.append(OUT.parent / str(YEAR + 1) / "agreement.toml")
        write_next_agreement(paths[-1])
    return paths


if __name__ == "__main__":
    for written in write_examples(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(written)
