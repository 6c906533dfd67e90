"""Golden test: the shipped 2021 agreement reproduces every published cell of the appendix.

The expected figures below were transcribed by hand from the published appendix,
shared/seeds/001_058df844e514d4a2.txt (Kustannustenjakoliite, sections "Taulukko 1
19.11.2020" and "Taulukko 2 17.11.2020" at the end of the file). They are NOT the
program's output. Numbers are kept in the appendix's own notation (space as thousands
separator, comma as decimal separator, "-" for an empty reduction) so that each line can
be compared with the seed by eye.

The rule the appendix follows (shared/DOMAIN.md, "Rounding"): everything is computed in
full precision and rounded half-up to whole euros only where it is shown; published sums
are rounded sums of unrounded parts, so a row's shown parts need not add up to its shown
total (Sastamala: 6 706 + 3 885 + 3 774 + 3 436 = 17 801, total 17 800). The tests
therefore round each full-precision figure on its own and never add rounded figures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from osuus.agreement import load_agreement
from osuus.engine import allocate
from osuus.money import round_to

ROOT = Path(__file__).parent.parent
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
HOST = "Tampere"

T1_COMPONENTS = ("johtaminen", "ict", "perehdytys", "viestinta")
T2_COMPONENTS = ("mainio", "alkukartoitus", "omavalmentaja", "yrityskoordinaattori", "tredu")


def num(text: str) -> Decimal:
    """A figure as printed in the appendix: '1 234', '47,45', '3,2 %', '-' (nothing)."""
    text = text.strip().replace("\u00a0", "").replace(" ", "").rstrip("%")
    if text in ("", "-"):
        return Decimal(0)
    return Decimal(text.replace(",", "."))


def parse(table: str, columns: tuple[str, ...]) -> dict[str, dict[str, Decimal]]:
    """Rows 'Name | a | b | ...' into {name: {column: Decimal}}."""
    out = {}
    for line in table.strip().splitlines():
        name, *cells = [c.strip() for c in line.split("|")]
        assert len(cells) == len(columns), f"transcription error in row {name!r}: {cells}"
        out[name] = {col: num(cell) for col, cell in zip(columns, cells)}
    return out


# ---------------------------------------------------------------------------
# Taulukko 1 (19.11.2020), upper part: "Kokeilun jaettavat kustannukset 2021".
# Source: shared/seeds/001_058df844e514d4a2.txt, Taulukko 1.
# component | Kulut/vuosi | Flat rate (17%) | Yhteensä* | Yhteensä kuntien osuus 54%
# ---------------------------------------------------------------------------
T1_SERVICES = parse("""
johtaminen | 122 210 | 20 776 | 142 986 | 77 212
ict        |  70 801 | 12 036 |  82 837 | 44 732
perehdytys |  68 781 | 11 693 |  80 474 | 43 456
viestinta  |  62 620 | 10 645 |  73 265 | 39 563
""", ("cost", "overhead", "total", "members_54"))
T1_SERVICES_SUMMA = Decimal(204964)  # "Summa | 204 964" under the 54 % column

# ---------------------------------------------------------------------------
# Taulukko 1 (19.11.2020), lower part: "Kuntien maksuosuudet 2021".
# Source: shared/seeds/001_058df844e514d4a2.txt, Taulukko 1.
# Kunta | Asukasluku 31.12.2019 | %-osuus | johtaminen | ICT | perehdytys | viestintä
#       | Yhteensä | Alennus € | Maksuosuudet
# (The "Alennus %" column holds only Sastamala's 20 %; see T1_REDUCTION_RATE.)
# ---------------------------------------------------------------------------
T1_ROWS = parse("""
Akaa            |  16 475 |  3,2 % |  4 551 |  2 636 |  2 561 |  2 332 |  12 080 | -     |  12 080
Hämeenkyrö      |  10 404 |  2,0 % |  2 874 |  1 665 |  1 617 |  1 472 |   7 628 | -     |   7 628
Ikaalinen       |   6 942 |  1,3 % |  1 917 |  1 111 |  1 079 |    983 |   5 090 | -     |   5 090
Juupajoki       |   1 844 |  0,4 % |    509 |    295 |    287 |    261 |   1 352 | -     |   1 352
Kangasala       |  31 868 |  6,2 % |  8 802 |  5 100 |  4 954 |  4 510 |  23 366 | -     |  23 366
Kihniö          |   1 865 |  0,4 % |    515 |    298 |    290 |    264 |   1 367 | -     |   1 367
Lempäälä        |  23 523 |  4,5 % |  6 497 |  3 764 |  3 657 |  3 329 |  17 247 | -     |  17 247
Mänttä-Vilppula |   9 855 |  1,9 % |  2 722 |  1 577 |  1 532 |  1 395 |   7 226 | -     |   7 226
Nokia           |  33 929 |  6,6 % |  9 372 |  5 429 |  5 274 |  4 802 |  24 877 | -     |  24 877
Orivesi         |   9 158 |  1,8 % |  2 530 |  1 465 |  1 424 |  1 296 |   6 715 | -     |   6 715
Parkano         |   6 404 |  1,2 % |  1 769 |  1 025 |    996 |    906 |   4 696 | -     |   4 696
Pirkkala        |  19 623 |  3,8 % |  5 420 |  3 140 |  3 050 |  2 777 |  14 388 | -     |  14 388
Punkalaidun     |   2 828 |  0,5 % |    781 |    453 |    440 |    400 |   2 074 | -     |   2 074
Pälkäne         |   6 435 |  1,2 % |  1 777 |  1 030 |  1 000 |    911 |   4 718 | -     |   4 718
Ruovesi         |   4 283 |  0,8 % |  1 183 |    685 |    666 |    606 |   3 140 | -     |   3 140
Sastamala       |  24 277 |  4,7 % |  6 706 |  3 885 |  3 774 |  3 436 |  17 800 | 3 560 |  14 240
Tampere         | 238 140 | 46,0 % | 65 777 | 38 107 | 37 020 | 33 704 | 174 609 | -     | 178 169
Urjala          |   4 688 |  0,9 % |  1 295 |    750 |    729 |    663 |   3 437 | -     |   3 437
Valkeakoski     |  20 972 |  4,1 % |  5 793 |  3 356 |  3 260 |  2 968 |  15 377 | -     |  15 377
Vesilahti       |   4 355 |  0,8 % |  1 203 |    697 |    677 |    616 |   3 193 | -     |   3 193
Virrat          |   6 544 |  1,3 % |  1 808 |  1 047 |  1 017 |    926 |   4 798 | -     |   4 798
Ylöjärvi        |  33 254 |  6,4 % |  9 185 |  5 321 |  5 170 |  4 706 |  24 382 | -     |  24 382
""", ("asukasluku", "pct", *T1_COMPONENTS, "total", "reduction", "payment"))
# "Summa | 517 666 | 1,00 | 142 986 | 82 837 | 80 474 | 73 265 | 379 562 | | | 379 562"
T1_SUMMA = parse("""
Summa | 517 666 | 1,00 | 142 986 | 82 837 | 80 474 | 73 265 | 379 562 | 379 562
""", ("asukasluku", "share", *T1_COMPONENTS, "total", "payment"))["Summa"]
T1_REDUCTION_RATE = {"Sastamala": num("20 %") / 100}  # "Alennus %" column

# ---------------------------------------------------------------------------
# Taulukko 2 (17.11.2020): "Pirkanmaan keskitetyt maahanmuuttajapalvelut 2021".
# Source: shared/seeds/001_058df844e514d4a2.txt, Taulukko 2.
# Unit prices (header): Mainio 40,00 | alkukartoitus 140,00 | omavalmentaja 1 400,00
# | yrityskoordinaattori 490,00 | Tredu 280,00; rates "5 %" and "0,385".
# ---------------------------------------------------------------------------
T2_UNIT_PRICES = {"alkukartoitus": num("140,00"), "omavalmentaja": num("1 400,00"),
                  "yrityskoordinaattori": num("490,00"), "tredu": num("280,00")}
T2_RATES = {"alkukartoitukset": num("5 %") / 100, "valmennettavat": num("0,385")}

# Kunta | C: Ulkomaalaiset työttömät ja palveluissa | 5 % × C | Pyöristetty | K: Kaiki
# Kotoaikaiset | 38,5 % × K | Pyöristetty2 | Mainion kust. prosenttijakauma/kunta
# | Mainio | alkukartoitus | Omavalmentaja | Yrityskoordinaattori | Tredu | Yhteensä
T2_ROWS = parse("""
Akaa            |  45 | 2,25  | 3 | 17 |  6,55 |  7 |  4,7 % | 2 211 |   420 |  9 800 | 3 430 |  4 760 | 20 621
Hämeenkyrö      |  32 | 1,6   | 2 | 15 |  5,78 |  6 |  3,4 % | 1 572 |   280 |  8 400 | 2 940 |  4 200 | 17 392
Ikaalinen       |  20 | 1     | 1 |  5 |  1,93 |  2 |  2,1 % |   983 |   140 |  2 800 |   980 |  1 400 |  6 303
Juupajoki       | 2,5 | 0,125 | 1 |  1 |  0,39 |  1 |  0,3 % |   123 |   140 |  1 400 |   490 |    280 |  2 433
Kangasala       |  90 | 4,5   | 5 | 27 | 10,40 | 11 |  9,5 % | 4 422 |   700 | 15 400 | 5 390 |  7 560 | 33 472
Kihniö          | 2,5 | 0,125 | 1 |  1 |  0,39 |  1 |  0,3 % |   123 |   140 |  1 400 |   490 |    280 |  2 433
Lempäälä        |  70 | 3,5   | 4 | 25 |  9,63 | 10 |  7,4 % | 3 439 |   560 | 14 000 | 4 900 |  7 000 | 29 899
Mänttä-Vilppula |  68 | 3,4   | 4 | 43 | 16,56 | 17 |  7,2 % | 3 341 |   560 | 23 800 | 8 330 | 12 040 | 48 071
Nokia           | 146 | 7,3   | 8 | 41 | 15,79 | 16 | 15,4 % | 7 173 | 1 120 | 22 400 | 7 840 | 11 480 | 50 013
Orivesi         |  22 | 1,1   | 2 |  7 |  2,70 |  3 |  2,3 % | 1 081 |   280 |  4 200 | 1 470 |  1 960 |  8 991
Parkano         |  20 | 1     | 1 |  8 |  3,08 |  4 |  2,1 % |   983 |   140 |  5 600 | 1 960 |  2 240 | 10 923
Pirkkala        | 101 | 5,05  | 6 | 40 | 15,40 | 16 | 10,6 % | 4 962 |   840 | 22 400 | 7 840 | 11 200 | 47 242
Punkalaidun     |  14 | 0,7   | 1 |  5 |  1,93 |  2 |  1,5 % |   688 |   140 |  2 800 |   980 |  1 400 |  6 008
Pälkäne         |  21 | 1,05  | 2 |  6 |  2,31 |  3 |  2,2 % | 1 032 |   280 |  4 200 | 1 470 |  1 680 |  8 662
Ruovesi         |   5 | 0,25  | 1 |  2 |  0,77 |  1 |  0,5 % |   246 |   140 |  1 400 |   490 |    560 |  2 836
Sastamala       |  91 | 4,55  | 5 | 27 | 10,40 | 11 |  9,6 % | 4 471 |   700 | 15 400 | 5 390 |  7 560 | 33 521
Urjala          |  18 | 0,9   | 1 |  7 |  2,70 |  3 |  1,9 % |   884 |   140 |  4 200 | 1 470 |  1 960 |  8 654
Valkeakoski     |  78 | 3,9   | 4 | 25 |  9,63 | 10 |  8,2 % | 3 832 |   560 | 14 000 | 4 900 |  7 000 | 30 292
Vesilahti       |   5 | 0,25  | 1 |  2 |  0,77 |  1 |  0,5 % |   246 |   140 |  1 400 |   490 |    560 |  2 836
Virrat          |  10 | 0,5   | 1 |  6 |  2,31 |  3 |  1,1 % |   491 |   140 |  4 200 | 1 470 |  1 680 |  7 981
Ylöjärvi        |  88 | 4,4   | 5 | 27 | 10,40 | 11 |  9,3 % | 4 323 |   700 | 15 400 | 5 390 |  7 560 | 33 373
""", ("C", "C5", "alkukartoitukset", "K", "K385", "valmennettavat", "pct", *T2_COMPONENTS, "total"))
# "Summa | 949 | 47,45 | 337 | 129,75 | 100,0 % | Summa | 46 623 | 8 260 | 194 600 | 68 110
#  | 94 360 | 411 953" (the two 'Pyöristetty' columns have no sum in the appendix)
T2_SUMMA = parse("""
Summa | 949 | 47,45 | 337 | 129,75 | 100,0 % | 46 623 | 8 260 | 194 600 | 68 110 | 94 360 | 411 953
""", ("C", "C5", "K", "K385", "pct", *T2_COMPONENTS, "total"))["Summa"]

# The host's part of Taulukko 2.
# "Tampere | 5 051 | 252,55 | 1486" and "Tampereen osuus | 84,2 % | 84,2 % | 81,5 %"
T2_HOST_COUNTS = {"C": num("5 051"), "C5": num("252,55"), "K": num("1486")}
T2_HOST_SHARE_PCT = {"C": num("84,2 %"), "C5": num("84,2 %"), "K": num("81,5 %")}
# "Kokeilun asiakasmäärä 6 000 300 1 823"
T2_CUSTOMERS_ALL = {"C": num("6 000"), "C5": num("300"), "K": num("1 823")}
# Kunta/Palvelu | Mainio | Alkukartoitus | Oma valmentajat | Yrityskoordinaattori | Tredu | Yhteensä
T2_BOTTOM = parse("""
members | 46 623  |  8 260 |   194 600 |  68 110 |  94 360 |   411 953
host    | 248 148 | 33 740 | 1 002 797 | 482 282 | 416 080 | 2 183 047
all     | 294 771 | 42 000 | 1 197 397 | 550 392 | 510 440 | 2 595 000
""", (*T2_COMPONENTS, "total"))
T2_MEMBERS_SHARE_PCT = num("16 %")  # last cell of the 'yhteensä' line, whole percent

MEMBERS = tuple(T2_ROWS)  # the 21 members, in the appendix's order


# ---------------------------------------------------------------------------
# helpers and fixtures
# ---------------------------------------------------------------------------

def euros(value: Decimal) -> Decimal:
    """Shown the appendix's way: whole euros, half up."""
    return round_to(value, 1, "half_up")


@pytest.fixture(scope="module")
def agreement():
    a, problems = load_agreement(AGREEMENT)
    assert a is not None and not problems, problems
    return a


@pytest.fixture(scope="module")
def alloc(agreement):
    r = allocate(agreement)
    assert not r.problems, r.problems
    return r


def code(agreement, name: str) -> str:
    """The appendix names municipalities; the engine keys them by official code."""
    return agreement.find_municipality(name).code


def test_transcription_covers_every_municipality(agreement):
    assert set(T1_ROWS) == {m.name for m in agreement.municipalities}
    assert len(T1_ROWS) == 22
    assert set(T2_ROWS) == {agreement.name_of(c) for c in agreement.members}
    assert len(T2_ROWS) == 21
    assert agreement.name_of(agreement.host) == HOST


def test_no_warnings(alloc):
    assert not alloc.warnings, [str(w) for w in alloc.warnings]


# ---------------------------------------------------------------------------
# Taulukko 1
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("cid", T1_COMPONENTS)
def test_taulukko1_service(alloc, agreement, cid):
    want = T1_SERVICES[cid]
    comp = alloc.components[cid]
    assert euros(comp.cost) == want["cost"]
    assert euros(comp.overhead) == want["overhead"]
    assert euros(comp.total.value) == want["total"]
    members_share = agreement.parameters["kuntien_osuus"].value
    assert members_share == Decimal("0.54")
    assert euros(comp.total.value * members_share) == want["members_54"]


def test_taulukko1_services_summa(alloc, agreement):
    members_share = agreement.parameters["kuntien_osuus"].value
    exact = sum(alloc.components[c].total.value * members_share for c in T1_COMPONENTS)
    assert euros(exact) == T1_SERVICES_SUMMA
    # the published sum is not the sum of the rounded cells (77 212 + ... = 204 963)
    assert sum(w["members_54"] for w in T1_SERVICES.values()) == T1_SERVICES_SUMMA - 1


@pytest.mark.parametrize("municipality", tuple(T1_ROWS))
def test_taulukko1_row(alloc, agreement, municipality):
    want = T1_ROWS[municipality]
    m = code(agreement, municipality)
    row = alloc.table("yhteiset").row(m)
    assert alloc.key_values["asukasluku"][m] == want["asukasluku"]
    pop = alloc.key_values["asukasluku"]
    share_pct = pop[m] / sum(pop.values()) * 100
    assert round_to(share_pct, "0.1", "half_up") == want["pct"]
    got = {c: euros(row.amounts[c]) for c in T1_COMPONENTS}
    assert got == {c: want[c] for c in T1_COMPONENTS}
    assert euros(row.total.value) == want["total"]
    assert euros(row.reduction.value) == want["reduction"]
    assert euros(row.payment.value) == want["payment"]
    rates = {agreement.name_of(red.municipality): red.rate for red in agreement.reductions}
    assert rates.get(municipality, Decimal(0)) == T1_REDUCTION_RATE.get(municipality, Decimal(0))
    if municipality == HOST:
        # the host absorbs Sastamala's reduction: 174 609 + 3 560 = 178 169
        assert euros(row.absorbed.value) == T1_ROWS["Sastamala"]["reduction"]
    else:
        assert row.absorbed.value == 0


def test_taulukko1_summa(alloc):
    t = alloc.table("yhteiset")
    pop = alloc.key_values["asukasluku"]
    assert sum(pop.values()) == T1_SUMMA["asukasluku"]
    shares = sum(p / sum(pop.values()) for p in pop.values())
    assert round_to(shares, "0.01", "half_up") == T1_SUMMA["share"]
    for c in T1_COMPONENTS:
        assert euros(t.amounts[c]) == T1_SUMMA[c], c
    assert euros(t.total) == T1_SUMMA["total"]
    assert euros(t.payment) == T1_SUMMA["payment"]


# ---------------------------------------------------------------------------
# Taulukko 2
# ---------------------------------------------------------------------------

def test_taulukko2_prices_and_rates(agreement):
    for cid, price in T2_UNIT_PRICES.items():
        ((_, got, _),) = agreement.components[cid].priced_quantities()
        assert got == price, cid
    for key, rate in T2_RATES.items():
        assert agreement.keys[key].rate == rate, key


@pytest.mark.parametrize("municipality", MEMBERS)
def test_taulukko2_row(alloc, agreement, municipality):
    want = T2_ROWS[municipality]
    kv = alloc.key_values
    members_c = sum(kv["ulkomaalaiset"][code(agreement, m)] for m in MEMBERS)
    m = code(agreement, municipality)
    c = kv["ulkomaalaiset"][m]
    k = kv["kotoaikaiset"][m]
    got_counts = {
        "C": c,
        "C5": agreement.keys["alkukartoitukset"].rate * c,  # shown unrounded
        "alkukartoitukset": kv["alkukartoitukset"][m],
        "K": k,
        "K385": round_to(agreement.keys["valmennettavat"].rate * k, "0.01", "half_up"),
        "valmennettavat": kv["valmennettavat"][m],
        # "Mainion kust. prosenttijakauma/kunta": C as a share of the members' C
        "pct": round_to(c / members_c * 100, "0.1", "half_up"),
    }
    assert got_counts == {col: want[col] for col in got_counts}
    row = alloc.table("maahanmuuttajapalvelut").row(m)
    got = {cid: euros(row.amounts[cid]) for cid in T2_COMPONENTS}
    assert got == {cid: want[cid] for cid in T2_COMPONENTS}
    assert euros(row.total.value) == want["total"]
    assert row.reduction.value == 0 and row.absorbed.value == 0
    assert euros(row.payment.value) == want["total"]


def test_taulukko2_summa(alloc, agreement):
    kv = alloc.key_values
    t = alloc.table("maahanmuuttajapalvelut")
    members = [code(agreement, m) for m in MEMBERS]
    c_sum = sum(kv["ulkomaalaiset"][m] for m in members)
    k_sum = sum(kv["kotoaikaiset"][m] for m in members)
    assert c_sum == T2_SUMMA["C"]
    assert agreement.keys["alkukartoitukset"].rate * c_sum == T2_SUMMA["C5"]
    assert k_sum == T2_SUMMA["K"]
    assert round_to(agreement.keys["valmennettavat"].rate * k_sum, "0.01", "half_up") == T2_SUMMA["K385"]
    pct = sum(kv["ulkomaalaiset"][m] / c_sum * 100 for m in members)
    assert round_to(pct, "0.1", "half_up") == T2_SUMMA["pct"]
    rows = [t.row(m) for m in members]
    for cid in T2_COMPONENTS:
        exact = sum(r.amounts[cid] for r in rows)
        assert euros(exact) == T2_SUMMA[cid], cid
        assert T2_BOTTOM["members"][cid] == T2_SUMMA[cid], cid
    assert euros(sum(r.total.value for r in rows)) == T2_SUMMA["total"]
    assert euros(sum(r.payment.value for r in rows)) == T2_SUMMA["total"]


def test_taulukko2_host_counts(alloc, agreement):
    kv = alloc.key_values
    rate5 = agreement.keys["alkukartoitukset"].rate
    h = code(agreement, HOST)
    host = {"C": kv["ulkomaalaiset"][h], "C5": rate5 * kv["ulkomaalaiset"][h], "K": kv["kotoaikaiset"][h]}
    everyone = {
        "C": sum(kv["ulkomaalaiset"].values()),
        "C5": rate5 * sum(kv["ulkomaalaiset"].values()),
        "K": sum(kv["kotoaikaiset"].values()),
    }
    assert host == T2_HOST_COUNTS
    assert everyone == T2_CUSTOMERS_ALL
    pct = {col: round_to(host[col] / everyone[col] * 100, "0.1", "half_up") for col in host}
    assert pct == T2_HOST_SHARE_PCT


@pytest.mark.parametrize("cid", (*T2_COMPONENTS, "total"))
def test_taulukko2_host_and_totals(alloc, agreement, cid):
    t = alloc.table("maahanmuuttajapalvelut")
    host_row = t.row(code(agreement, HOST))
    if cid == "total":
        host_value, all_value = host_row.total.value, t.total
        assert euros(host_row.payment.value) == T2_BOTTOM["host"]["total"]
        assert euros(t.payment) == T2_BOTTOM["all"]["total"]
    else:
        host_value, all_value = host_row.amounts[cid], t.amounts[cid]
        assert euros(alloc.components[cid].total.value) == T2_BOTTOM["all"][cid]
        assert euros(alloc.components[cid].amounts[code(agreement, HOST)]) == T2_BOTTOM["host"][cid]
    assert euros(host_value) == T2_BOTTOM["host"][cid]
    assert euros(all_value) == T2_BOTTOM["all"][cid]


def test_taulukko2_members_share_of_total(alloc, agreement):
    t = alloc.table("maahanmuuttajapalvelut")
    members = sum(t.row(code(agreement, m)).total.value for m in MEMBERS)
    assert round_to(members / t.total * 100, 1, "half_up") == T2_MEMBERS_SHARE_PCT


# ---------------------------------------------------------------------------
# The same figures through the CLI's JSON contract
# ---------------------------------------------------------------------------

MONEY = re.compile(r"^-?\d+\.\d{2}$")


def expected_cli_row(table_id: str, municipality: str) -> dict:
    if table_id == "yhteiset":
        want = T1_ROWS[municipality]
        return {"amounts": {c: want[c] for c in T1_COMPONENTS}, "total": want["total"],
                "payment": want["payment"]}
    if municipality == HOST:
        want = T2_BOTTOM["host"]
        return {"amounts": {c: want[c] for c in T2_COMPONENTS}, "total": want["total"],
                "payment": want["total"]}
    want = T2_ROWS[municipality]
    return {"amounts": {c: want[c] for c in T2_COMPONENTS}, "total": want["total"], "payment": want["total"]}


CLI_CASES = [("yhteiset", m) for m in T1_ROWS] + [("maahanmuuttajapalvelut", m) for m in T1_ROWS]


@pytest.fixture(scope="module")
def cli_json():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "osuus", "allocate", str(AGREEMENT), "--format", "json"],
        capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def cli_table(data: dict, table_id: str) -> dict:
    (table,) = [t for t in data["tables"] if t["id"] == table_id]
    return table


def money(text: str) -> Decimal:
    assert isinstance(text, str) and MONEY.match(text), f"not a two-decimal money string: {text!r}"
    return Decimal(text)


@pytest.mark.parametrize("table_id, municipality", CLI_CASES)
def test_cli_json_row(cli_json, table_id, municipality):
    table = cli_table(cli_json, table_id)
    rows = [r for r in table["rows"] if r["municipality"] == municipality]
    assert len(rows) == 1, f"{municipality} appears {len(rows)} times in {table_id}"
    row = rows[0]
    want = expected_cli_row(table_id, municipality)
    assert list(row["amounts"]) == list(want["amounts"])
    got = {c: euros(money(v)) for c, v in row["amounts"].items()}
    assert got == want["amounts"]
    assert euros(money(row["total"])) == want["total"]
    assert euros(money(row["payment"])) == want["payment"]
    for field in ("reduction", "absorbed", "invoiced"):
        money(row[field])


@pytest.mark.parametrize("table_id", ("yhteiset", "maahanmuuttajapalvelut"))
def test_cli_json_totals(cli_json, table_id):
    table = cli_table(cli_json, table_id)
    assert len(table["rows"]) == 22
    totals = table["totals"]
    if table_id == "yhteiset":
        want = {c: T1_SUMMA[c] for c in T1_COMPONENTS}
        want_total = want_payment = T1_SUMMA["total"]
    else:
        want = {c: T2_BOTTOM["all"][c] for c in T2_COMPONENTS}
        want_total = want_payment = T2_BOTTOM["all"]["total"]
    assert {c: euros(money(v)) for c, v in totals["amounts"].items()} == want
    assert euros(money(totals["total"])) == want_total
    assert euros(money(totals["payment"])) == want_payment
    for field in ("reduction", "absorbed", "invoiced"):
        money(totals[field])
    for cid in want:
        assert euros(money(cli_json["components"][cid]["total"])) == want[cid]
