"""Property tests: random agreements, written as TOML, loaded and allocated.

Each random agreement is first drawn as a plain description (`Spec`) and then
written out as agreement-file text, so that the loader is exercised as well as
the engine and so that the same agreement can be written again with its
municipalities renamed, reordered, or its costs doubled.

Numbers are drawn as integers and turned into `Decimal`s; no float is ever made.
"""

from __future__ import annotations

import decimal
import os
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osuus.agreement import load_agreement, parse_agreement
from osuus.engine import Allocation, Figure, allocate
from osuus.engine.trace import Num, Word
from osuus.money import CENT, CONTEXT, round_count

ROOT = Path(__file__).resolve().parents[1]
PIRKANMAA = ROOT / "agreements" / "pirkanmaa-2021.toml"

#: Letters of municipality names: Finnish and Swedish letters, a few more
#: non-ASCII ones, and the punctuation real names carry.
NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyzåäöABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖüéßÆΩж語 -'."

PRECISION = Decimal("1e-30")

#: OSUUS_PROPERTY_EXAMPLES=2000 searches harder (the default keeps the file under ~15 s).
SETTINGS = settings(
    max_examples=int(os.environ.get("OSUUS_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def close(a: Decimal, b: Decimal, scale: Decimal | None = None) -> bool:
    """Equal to the precision of the arithmetic context (50 digits)."""
    scale = max(abs(a), abs(b)) if scale is None else abs(scale)
    with decimal.localcontext(CONTEXT):
        return abs(a - b) < PRECISION * max(Decimal(1), scale)


def double(value: Decimal) -> Decimal:
    """2 × value in the engine's 50-digit context (the default context keeps only 28 digits)."""
    return CONTEXT.multiply(2, value)


def dsum(values) -> Decimal:
    with decimal.localcontext(CONTEXT):
        return sum(values, Decimal(0))


# --------------------------------------------------------------------------
# A random agreement, described
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Pool:
    id: str
    cost: Decimal
    key: str
    overhead: str | None  # None, a rate such as "17 %", or "flat_rate" (a parameter)
    sourced: bool  # write the cost as { value, reference }


@dataclass(frozen=True)
class Unit:
    id: str
    price: Decimal
    quantity: str
    total_cost: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()  # when given, `tier` prices everyone
    tier: int | None = None


@dataclass(frozen=True)
class Reduction:
    municipality: str
    rate: str
    components: tuple[str, ...]
    absorbed_by: str


@dataclass(frozen=True)
class Spec:
    names: tuple[str, ...]  # in file order
    codes: dict[str, str]
    host: str
    counts: dict[str, dict[str, Decimal]]
    derived: tuple[str, str, str, str] | None  # (name, from, rate text, rounding)
    mix: tuple[str, tuple[tuple[str, str], ...]] | None  # (name, ((key, weight text), ...))
    fixed: tuple[str, dict[str, Decimal]] | None  # (name, percentage per municipality)
    pools: tuple[Pool, ...]
    units: tuple[Unit, ...]
    reductions: tuple[Reduction, ...]
    tables: tuple[tuple[str, tuple[str, ...], str], ...]  # (id, components, host_row)
    bare: dict[str, bool] = field(default_factory=dict)  # per count key: bare numbers or "strings"

    @property
    def component_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.pools) + tuple(u.id for u in self.units)

    def renamed(self, mapping: dict[str, str]) -> "Spec":
        """The same agreement with every municipality renamed by `mapping`."""
        return replace(
            self,
            names=tuple(mapping[n] for n in self.names),
            codes={mapping[n]: c for n, c in self.codes.items()},
            host=mapping[self.host],
            counts={k: {mapping[n]: v for n, v in vals.items()} for k, vals in self.counts.items()},
            fixed=None if self.fixed is None else (self.fixed[0], {mapping[n]: v for n, v in self.fixed[1].items()}),
            reductions=tuple(replace(r, municipality=mapping[r.municipality]) for r in self.reductions),
        )

    def reordered(self, order) -> "Spec":
        return replace(self, names=tuple(order))

    def doubled(self) -> "Spec":
        """Every cost doubled: pool costs, unit prices (and tiers) and total costs."""
        return replace(
            self,
            pools=tuple(replace(p, cost=p.cost * 2) for p in self.pools),
            units=tuple(replace(u, price=u.price * 2, total_cost=u.total_cost * 2,
                                tiers=tuple((t, v * 2) for t, v in u.tiers)) for u in self.units),
        )


def q(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def num(value: Decimal, bare: bool = True) -> str:
    text = format(value, "f")
    return text if bare else q(text)


def render(spec: Spec) -> str:
    """The agreement file of `spec`, municipalities written in `spec.names` order."""
    out = [
        "# A random agreement written by tests/test_properties.py",
        "[agreement]",
        'id = "property-test"',
        "year = 2021",
        'title = "Satunnainen sopimus"',
        f"host = {q(spec.host)}",
        "",
        "[rounding]",
        'shown = { unit = "1", mode = "half_up" }',
        'invoiced = { unit = "0.01", mode = "half_up", reference = "Laskutus senteissä" }',
        "",
        "[parameters.flat_rate]",
        'label = "Flat rate"',
        'value = "17 %"',
        'reference = "Taulukko 1, flat rate"',
        "",
        "[municipalities]",
    ]
    for n in spec.names:
        out.append(f"{q(n)} = {{ code = {q(spec.codes[n])} }}")
    for key, values in spec.counts.items():
        out += ["", f"[keys.{key}]", 'kind = "count"', f'label = "Avain {key}"', "date = 2019-12-31",
                f'reference = "Taulukko, sarake {key}"', "", f"[keys.{key}.values]"]
        for n in spec.names:
            out.append(f"{q(n)} = {num(values[n], spec.bare.get(key, True))}")
    if spec.derived is not None:
        name, source, rate, rounding = spec.derived
        out += ["", f"[keys.{name}]", 'kind = "derived"', f"from = {q(source)}", f"rate = {q(rate)}",
                f"rounding = {q(rounding)}", 'reference = "Johdettu avain"']
    if spec.mix is not None:
        name, weights = spec.mix
        inner = ", ".join(f"{k} = {q(w)}" for k, w in weights)
        out += ["", f"[keys.{name}]", 'kind = "mix"', f"weights = {{ {inner} }}", 'reference = "Yhdistelmäavain"']
    if spec.fixed is not None:
        name, shares = spec.fixed
        out += ["", f"[keys.{name}]", 'kind = "fixed"', 'reference = "Sovitut osuudet"', "", f"[keys.{name}.shares]"]
        for n in spec.names:
            out.append(f"{q(n)} = {q(format(shares[n], 'f') + ' %')}")
    for p in spec.pools:
        cost = (f'{{ value = {num(p.cost)}, reference = "Kulut/vuosi {p.id}" }}' if p.sourced
                else num(p.cost, bare=False))
        out += ["", f"[components.{p.id}]", 'kind = "pool"', f'label = "Palvelu {p.id}"', f"cost = {cost}",
                f"key = {q(p.key)}", f'reference = "Kohta {p.id}"']
        if p.overhead is not None:
            out.append(f"overhead = {q(p.overhead)}")
    for u in spec.units:
        out += ["", f"[components.{u.id}]", 'kind = "unit"', f'label = "Yksikköpalvelu {u.id}"']
        if u.tiers:
            out.append("tiers = { " + ", ".join(f"{t} = {num(v)}" for t, v in u.tiers) + " }")
            out.append('tiers_reference = "Hinnat vuosittain"')
            out.append(f"tier = {u.tier}")
        else:
            out.append(f'price = {{ value = {num(u.price)}, reference = "Hinta {u.id}" }}')
        out += [f"quantity = {q(u.quantity)}", f"total_cost = {num(u.total_cost)}", 'remainder = "host"',
                f'reference = "Kohta {u.id}"']
    for r in spec.reductions:
        comps = ", ".join(q(c) for c in r.components)
        out += ["", "[[reductions]]", f"municipality = {q(r.municipality)}", f"rate = {q(r.rate)}",
                f"components = [{comps}]", f"absorbed_by = {q(r.absorbed_by)}", 'reference = "Kohta 3.13"']
    for tid, comps, host_row in spec.tables:
        listed = ", ".join(q(c) for c in comps)
        out += ["", f"[tables.{tid}]", f'title = "Taulukko {tid}"', f"components = [{listed}]",
                f"host_row = {q(host_row)}", f'reference = "Taulukko {tid}"']
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------

names_st = st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=12).filter(lambda s: s.strip() != "")


def positive_decimal(max_int: int = 100_000, max_places: int = 2):
    """A positive Decimal: an integer, or a decimal with up to `max_places` places."""
    return st.builds(lambda n, p: Decimal(n).scaleb(-p),
                     st.integers(1, max_int * 100), st.integers(0, max_places)).filter(lambda d: d > 0)


def money_st(min_cents: int = 1, max_cents: int = 10**9):
    return st.integers(min_cents, max_cents).map(lambda c: Decimal(c).scaleb(-2))


def pct_text(draw, basis_points: int) -> str:
    """A percentage written as "12.5 %" or, Finnish style, "12,5 %"."""
    text = format(Decimal(basis_points).scaleb(-2).normalize(), "f")
    if draw(st.booleans()):
        text = text.replace(".", ",")
    return text + " %"


def derived_values(counts: dict[str, Decimal], rate: Decimal, rounding: str) -> dict[str, Decimal]:
    with decimal.localcontext(CONTEXT):
        return {m: (rate * v if rounding == "none" else round_count(rate * v, rounding)) for m, v in counts.items()}


@st.composite
def specs(draw) -> Spec:
    n = draw(st.integers(2, 30))
    names = tuple(draw(st.lists(names_st, min_size=n, max_size=n, unique=True)))
    codes = draw(st.lists(st.integers(0, 999), min_size=n, max_size=n, unique=True))
    codes = {name: f"{c:03d}" for name, c in zip(names, codes)}
    host = draw(st.sampled_from(names))
    members = [m for m in names if m != host]

    # keys
    n_counts = draw(st.integers(1, 4))
    counts = {}
    bare = {}
    for i in range(n_counts):
        counts[f"k{i}"] = {m: draw(positive_decimal(100_000 if i % 2 == 0 else 500, 2)) for m in names}
        bare[f"k{i}"] = draw(st.booleans())
    count_keys = list(counts)
    key_values = dict(counts)  # count and derived keys: the figures per municipality

    derived = None
    if draw(st.booleans()):
        source = draw(st.sampled_from(count_keys))
        bp = draw(st.integers(1, 10_000))
        rounding = draw(st.sampled_from(["ceil", "floor", "half_up", "none"]))
        rate_text = pct_text(draw, bp)
        derived = ("johdettu", source, rate_text, rounding)
        key_values["johdettu"] = derived_values(counts[source], Decimal(bp).scaleb(-4), rounding)

    mix = None
    if n_counts >= 2 and draw(st.booleans()):
        a, b = draw(st.permutations(count_keys))[:2]
        bp = draw(st.integers(0, 10_000))
        mix = ("yhdistelma", ((a, pct_text(draw, bp)), (b, pct_text(draw, 10_000 - bp))))

    fixed = None
    if draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=n - 1, max_size=n - 1)))
        edges = [0, *cuts, 10_000]
        fixed = ("sovittu", {m: Decimal(edges[i + 1] - edges[i]).scaleb(-2) for i, m in enumerate(names)})

    pool_keys = [k for k, vals in key_values.items() if sum(vals.values()) > 0]
    if mix is not None:
        pool_keys.append(mix[0])
    if fixed is not None:
        pool_keys.append(fixed[0])

    # components
    pools = []
    for i in range(draw(st.integers(1, 6))):
        overhead = draw(st.sampled_from([None, "17 %", "flat_rate", "0 %", "12,5 %", "0.2"]))
        pools.append(Pool(f"yhteinen{i}", draw(money_st()), draw(st.sampled_from(pool_keys)), overhead,
                          draw(st.booleans())))
    units = []
    unit_keys = list(key_values)
    for i in range(draw(st.integers(0, 3))):
        qty = draw(st.sampled_from(unit_keys))
        price = draw(money_st(1, 500_000))
        tiers: tuple = ()
        tier = None
        if draw(st.booleans()):
            tiers = tuple((t, draw(money_st(1, 500_000))) for t in (1, 2, 3))
            tier = draw(st.sampled_from([1, 2, 3]))
            price = dict(tiers)[tier]
        with decimal.localcontext(CONTEXT):
            charged = sum((price * key_values[qty][m] for m in members), Decimal(0))
        extra = draw(money_st(0, 10**9))
        # an agreement's amounts have at most 6 decimals (docs/agreement-format.md, Limits): the
        # total is what is charged, up to the millionth, plus what the host pays on top
        total = (charged + extra).quantize(Decimal("0.000001"), rounding=decimal.ROUND_CEILING)
        units.append(Unit(f"palvelu{i}", price, qty, total, tiers, tier))

    spec_components = [p.id for p in pools] + [u.id for u in units]

    # reductions: on members only, each (member, component) at most once
    reductions = []
    taken: set[tuple[str, str]] = set()
    for _ in range(draw(st.integers(0, 2))):
        who = draw(st.sampled_from(members))
        comps = draw(st.lists(st.sampled_from(spec_components), min_size=1, max_size=len(spec_components),
                              unique=True))
        comps = [c for c in comps if (who, c) not in taken]
        if not comps:
            continue
        taken.update((who, c) for c in comps)
        rate = pct_text(draw, draw(st.integers(0, 10_000)))
        reductions.append(Reduction(who, rate, tuple(comps), draw(st.sampled_from(["host", "others"]))))

    # tables: a partition of the components
    order = draw(st.permutations(spec_components))
    n_tables = draw(st.integers(1, len(order)))
    cuts = sorted(draw(st.lists(st.integers(1, len(order) - 1), min_size=n_tables - 1, max_size=n_tables - 1,
                                unique=True))) if len(order) > 1 and n_tables > 1 else []
    edges = [0, *cuts, len(order)]
    tables = tuple((f"taulukko{i}", tuple(order[edges[i]:edges[i + 1]]), draw(st.sampled_from(["inline", "separate"])))
                   for i in range(len(edges) - 1))

    return Spec(names, codes, host, counts, derived, mix, fixed, tuple(pools), tuple(units), tuple(reductions),
                tables, bare)


def load(spec: Spec):
    text = render(spec)
    agreement, problems = parse_agreement(text, "random.toml")
    assert problems == [], "the generated agreement does not load:\n" + "\n".join(map(str, problems)) + "\n\n" + text
    assert agreement is not None
    return agreement


def run(spec: Spec) -> Allocation:
    allocation = allocate(load(spec))
    assert not allocation.problems, [str(p) for p in allocation.problems]
    return allocation


# --------------------------------------------------------------------------
# The properties, as checks reused by the random and the shipped agreement
# --------------------------------------------------------------------------

def check_pools_add_up(allocation: Allocation) -> None:
    for cid, comp in allocation.components.items():
        if comp.kind != "pool":
            continue
        parts = dsum(comp.amounts.values())
        assert close(parts, comp.total.value, comp.total.value), (cid, parts, comp.total.value)


def check_invoicing_exact(allocation: Allocation) -> None:
    agreement = allocation.agreement
    for table in allocation.tables:
        table_cost = dsum(allocation.components[c].total.value for c in table.table.components)
        rounded = agreement.invoiced.apply(table_cost)
        assert rounded == table_cost.quantize(CENT, rounding=decimal.ROUND_HALF_UP)
        invoiced = {row.municipality: row.invoiced.value for row in table.rows}
        assert set(invoiced) == set(agreement.codes)
        # exactly: members' invoices plus what the host bears make the rounded cost
        assert dsum(invoiced.values()) == rounded, (table.table.id, dsum(invoiced.values()), rounded)
        assert table.invoiced == rounded
        for row in table.rows:
            assert row.invoiced.value == row.invoiced.value.quantize(CENT), row
            if row.municipality != agreement.host:
                assert row.invoiced.value == row.payment.value.quantize(CENT, rounding=decimal.ROUND_HALF_UP)
        # and the host bears no more than the rounding differences of the members' invoices
        host = table.row(agreement.host)
        slack = CENT / 2 * len(agreement.codes)
        assert abs(host.invoiced.value - host.payment.value) <= slack, (host.invoiced.value, host.payment.value)


def check_units_exact(allocation: Allocation) -> None:
    for cid, comp in allocation.components.items():
        if comp.kind != "unit":
            continue
        unit = allocation.agreement.components[cid]
        if unit.remainder is None:
            continue
        assert comp.remainder_payer == unit.remainder
        assert comp.total.value == unit.total_cost.value
        assert dsum(comp.amounts.values()) == unit.total_cost.value, (cid, dict(comp.amounts))


def check_reductions_conserved(allocation: Allocation) -> None:
    all_reduction = all_absorbed = Decimal(0)
    for table in allocation.tables:
        reduction = dsum(r.reduction.value for r in table.rows)
        absorbed = dsum(r.absorbed.value for r in table.rows)
        payments = dsum(r.payment.value for r in table.rows)
        totals = dsum(r.total.value for r in table.rows)
        scale = max(totals, Decimal(1))
        assert close(reduction, absorbed, scale), (table.table.id, reduction, absorbed)
        assert close(payments, totals, scale), (table.table.id, payments, totals)
        assert close(table.reduction, table.absorbed, scale)
        assert close(table.payment, table.total, scale)
        all_reduction += reduction
        all_absorbed += absorbed
    assert close(all_reduction, all_absorbed, max(all_reduction, Decimal(1)))


def figures_by_municipality(allocation: Allocation) -> dict[str, dict[tuple, Decimal]]:
    """Every figure of each municipality (by its name in the file), keyed by where it is."""
    name = allocation.agreement.name_of
    out: dict[str, dict[tuple, Decimal]] = {name(m): {} for m in allocation.agreement.codes}
    for key, values in allocation.key_values.items():
        for m, v in values.items():
            out[name(m)][("key", key)] = v
    for key, shares in allocation.key_shares.items():
        for m, v in shares.items():
            out[name(m)][("share", key)] = v
    for cid, comp in allocation.components.items():
        for m, v in comp.amounts.items():
            out[name(m)][("component", cid)] = v
    for table in allocation.tables:
        tid = table.table.id
        for row in table.rows:
            for c, v in row.amounts.items():
                out[name(row.municipality)][(tid, "amount", c)] = v
            for what in ("total", "reduction", "absorbed", "payment", "invoiced"):
                out[name(row.municipality)][(tid, what)] = getattr(row, what).value
    return out


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

@SETTINGS
@given(specs())
def test_pool_shares_add_up_to_the_pool_total(spec):
    check_pools_add_up(run(spec))


@SETTINGS
@given(specs())
def test_invoiced_amounts_add_up_to_the_rounded_table_cost_exactly(spec):
    check_invoicing_exact(run(spec))


@SETTINGS
@given(specs())
def test_unit_service_parts_add_up_exactly_with_remainder_to_host(spec):
    check_units_exact(run(spec))


@SETTINGS
@given(specs())
def test_reductions_are_conserved(spec):
    check_reductions_conserved(run(spec))


@st.composite
def renamings(draw):
    spec = draw(specs())
    n = len(spec.names)
    new = draw(st.one_of(
        st.lists(names_st, min_size=n, max_size=n, unique=True),
        st.permutations(spec.names),  # the same names, swapped among the municipalities
    ))
    mapping = dict(zip(spec.names, new))
    order = draw(st.permutations(spec.names))
    return spec, mapping, order


@SETTINGS
@given(renamings())
def test_renaming_or_reordering_municipalities_changes_no_figure(case):
    spec, mapping, order = case
    before = figures_by_municipality(run(spec))

    renamed = figures_by_municipality(run(spec.renamed(mapping)))
    assert set(renamed) == {mapping[m] for m in spec.names}
    for m in spec.names:
        assert renamed[mapping[m]] == before[m], m

    reordered = figures_by_municipality(run(spec.reordered(order)))
    assert set(reordered) == set(before)
    for m in spec.names:
        got, want = reordered[m], before[m]
        assert got.keys() == want.keys()
        for where in want:
            if where[-1] == "invoiced":  # money on an invoice: exactly the same
                assert got[where] == want[where], (m, where, got[where], want[where])
            else:  # full precision: the same up to the 50-digit context
                assert close(got[where], want[where]), (m, where, got[where], want[where])


@SETTINGS
@given(specs())
def test_doubling_every_cost_doubles_every_share(spec):
    once = run(spec)
    twice = run(spec.doubled())
    for cid, comp in once.components.items():
        assert close(twice.components[cid].total.value, double(comp.total.value))
        for m, v in comp.amounts.items():
            assert close(twice.components[cid].amounts[m], double(v), comp.total.value), (cid, m)
    for t1, t2 in zip(once.tables, twice.tables):
        scale = max(t1.total, Decimal(1))
        for r1, r2 in zip(t1.rows, t2.rows):
            assert r1.municipality == r2.municipality
            for what in ("total", "reduction", "absorbed", "payment"):
                a, b = getattr(r1, what).value, getattr(r2, what).value
                assert close(b, double(a), scale), (t1.table.id, r1.municipality, what, a, b)
            if r1.municipality != once.agreement.host:  # each invoice within a cent of double
                assert abs(r2.invoiced.value - 2 * r1.invoiced.value) <= CENT
        assert close(t2.payment, double(t1.payment), scale)


def all_numbers(allocation: Allocation):
    """Every number the allocation holds: figures (walked, with their formulas) and plain maps."""
    def figure_numbers(figure: Figure):
        for _, f in figure.walk():
            yield f.value, f"{f.name} value"
            for token in f.expr:
                if isinstance(token, Num):
                    yield token.value, f"{f.name} formula"
                else:
                    assert isinstance(token, (str, Word)), (f.name, token)

    for table in allocation.tables:
        for value in (table.total, table.reduction, table.absorbed, table.payment, table.invoiced,
                      *table.amounts.values()):
            yield value, f"table {table.table.id}"
        for row in table.rows:
            yield from ((v, "row amount") for v in row.amounts.values())
            for figure in (*row.figures.values(), row.total, row.reduction, row.absorbed, row.payment,
                           row.invoiced, *row.explanation()):
                yield from figure_numbers(figure)
    for comp in allocation.components.values():
        yield from figure_numbers(comp.total)
        yield from ((v, f"{comp.id} amount") for v in comp.amounts.values())
        for figure in comp.figures.values():
            yield from figure_numbers(figure)
    for mapping in (allocation.key_values, allocation.key_shares):
        for values in mapping.values():
            yield from ((v, "key") for v in values.values())
    for figures in allocation.key_figures.values():
        for figure in figures.values():
            yield from figure_numbers(figure)


@SETTINGS
@given(specs())
def test_nothing_in_the_result_is_a_float(spec):
    allocation = run(spec)
    seen = 0
    for value, where in all_numbers(allocation):
        assert type(value) is Decimal, (where, type(value), value)
        assert value.is_finite(), (where, value)
        seen += 1
    assert seen > 0


def test_shipped_agreement_keeps_the_properties():
    agreement, problems = load_agreement(PIRKANMAA)
    assert problems == []
    allocation = allocate(agreement)
    assert not allocation.problems
    assert len(allocation.tables) == 2
    check_pools_add_up(allocation)
    check_invoicing_exact(allocation)
    check_units_exact(allocation)
    check_reductions_conserved(allocation)
    for value, where in all_numbers(allocation):
        assert type(value) is Decimal, where

