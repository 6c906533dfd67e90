"""How fast is osuus? A benchmark that prints figures (it is not a test).

Run it from the repository root:

    .venv/bin/python bench/bench_allocate.py            # everything
    .venv/bin/python bench/bench_allocate.py --profile  # and a cProfile of all 45 areas

What it measures (median of N runs after warm-up, time.perf_counter_ns):
  a. the shipped agreement (agreements/pirkanmaa-2021.toml, loaded once):
     allocate only, and allocate + render every line of every municipality's
     explanation in Finnish (`allocation.explain(code)`, `Figure.walk()`,
     `osuus.render.explain.Explainer.line()`);
  b. one synthetic 22-municipality area with 40 components;
  c. a national-scale synthetic set: 45 areas, ~300 municipalities, 40 components each;
  d. load_agreement of the shipped file, and load + allocate of the synthetic
     22-municipality area written out as TOML;
  e. `osuus allocate agreements/pirkanmaa-2021.toml` as a whole process, and
     `python -c "import osuus.cli"`.

The synthetic agreements are built deterministically (random.Random(2025)); all
money is Decimal made from ints and strings, never from floats.
"""

from __future__ import annotations

import argparse
import cProfile
import decimal
import gc
import io
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
try:
    import osuus  # noqa: F401
except ImportError:  # run without the package installed: use the source tree
    sys.path.insert(0, str(ROOT / "src"))

from osuus.agreement import Agreement, load_agreement  # noqa: E402
from osuus.agreement.model import (  # noqa: E402
    CountKey,
    DerivedKey,
    MixKey,
    Municipality,
    Overhead,
    Parameter,
    PoolComponent,
    Reduction,
    Sourced,
    Table,
    Text,
    UnitComponent,
    frozen_map,
)
from osuus.engine import Allocation, allocate  # noqa: E402
from osuus.money import CENT, Rounding  # noqa: E402
from osuus.render.explain import Explainer  # noqa: E402

SHIPPED = ROOT / "agreements" / "pirkanmaa-2021.toml"
SEED = 2025
AREAS = 45
MUNICIPALITIES = 300
MIN_SIZE, MAX_SIZE = 2, 20
COMPONENTS = 40
POOLS = 34  # the other COMPONENTS - POOLS are unit services
REDUCED_POOLS = 4  # a reduction applies to the first pools, as in Taulukko 1

AIM_ONE_MS = 5.0
AIM_ALL_MS = 200.0
AIM_CLI_S = 0.5


# --------------------------------------------------------------------------
# Synthetic agreements
# --------------------------------------------------------------------------

def euros(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount in whole cents between `low` and `high` euros, as a Decimal."""
    cents = rng.randint(low * 100, high * 100)
    return Decimal(f"{cents // 100}.{cents % 100:02d}")


def area_sizes(rng: random.Random, areas: int = AREAS, total: int = MUNICIPALITIES) -> list[int]:
    """Uneven sizes between MIN_SIZE and MAX_SIZE that add up to `total`."""
    sizes = [MIN_SIZE] * areas
    weights = [rng.randint(1, 10) ** 2 for _ in range(areas)]  # a few big areas, many small ones
    left = total - sum(sizes)
    while left:
        i = rng.choices(range(areas), weights)[0]
        if sizes[i] < MAX_SIZE:
            sizes[i] += 1
            left -= 1
    return sizes


def _ceil(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1), rounding=decimal.ROUND_CEILING)


def build_area(rng: random.Random, number: int, size: int, first_code: int, prefix: str = "Kunta") -> Agreement:
    """One employment area: a host, `size - 1` members, keys, 40 components, one reduction.
    Municipalities are identified by code (the model's mappings are keyed by code)."""
    codes = [f"{(first_code + i) % 1000:03d}" for i in range(size)]
    host = codes[0]
    municipalities = tuple(
        Municipality(code, f"{prefix} {first_code + i:03d}", name_sv=f"{prefix} {first_code + i:03d} (sv)")
        for i, code in enumerate(codes)
    )
    population: dict[str, Decimal] = {}
    jobseekers: dict[str, Decimal] = {}
    for code in codes:
        pop = rng.randint(20_000, 250_000) if code == host else rng.randint(800, 45_000)
        per_mille = rng.randint(40, 140)  # 4–14 % of the population
        seekers = max(1, pop * per_mille // 1000)
        population[code] = Decimal(pop)
        # a small count suppressed for privacy is published as 2.5 (as in Taulukko 2)
        jobseekers[code] = Decimal("2.5") if seekers < 5 else Decimal(seekers)

    derived = {"alkukartoitukset": Decimal("0.05"), "valmennettavat": Decimal("0.385")}
    keys = {
        "asukasluku": CountKey("asukasluku", Text("Asukasluku 31.12.2024"), frozen_map(population),
                               reference="Liite, sarake 'Asukasluku'"),
        "tyottomat": CountKey("tyottomat", Text("Työttömät työnhakijat"), frozen_map(jobseekers),
                              reference="Liite, sarake 'Työttömät työnhakijat'"),
        "sekoitus": MixKey("sekoitus", Text("50 % asukasluku + 50 % työttömät"),
                           (("asukasluku", Decimal("0.5")), ("tyottomat", Decimal("0.5"))),
                           reference="Liite, kohta 2: jakoperuste"),
        "alkukartoitukset": DerivedKey("alkukartoitukset", Text("Alkukartoitukset"), "tyottomat",
                                       derived["alkukartoitukset"], "ceil",
                                       reference="Liite, 5 % työttömistä, pyöristetty ylöspäin"),
        "valmennettavat": DerivedKey("valmennettavat", Text("Valmennettavat"), "tyottomat", derived["valmennettavat"],
                                     "ceil", reference="Liite, 38,5 % työttömistä, pyöristetty ylöspäin"),
    }
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        derived_sums = {k: sum((_ceil(rate * v) for v in jobseekers.values()), Decimal(0)) for k, rate in derived.items()}

    flat_rate = Parameter("flat_rate", Decimal("0.17"), Text("Flat rate: yleiskustannuslisä"),
                          reference="Liite, flat rate 17 %")
    overhead = Overhead(flat_rate.value, flat_rate.name, flat_rate.label, flat_rate.reference)
    pool_keys = ("asukasluku", "tyottomat", "sekoitus")
    prices = (Decimal(140), Decimal(280), Decimal(490), Decimal(750), Decimal(1150), Decimal(1400))
    components: dict[str, PoolComponent | UnitComponent] = {}
    for i in range(POOLS):
        cid = f"palvelu_{i + 1:02d}"
        cost = euros(rng, 20_000, 400_000)
        components[cid] = PoolComponent(
            cid, Text(f"Yhteinen palvelu {i + 1}"), Sourced(cost, f"Liite, kulut/vuosi, rivi {i + 1}"),
            pool_keys[i % len(pool_keys)], overhead, f"Liite, kohta 1.{i + 1}")
    for j in range(COMPONENTS - POOLS):
        cid = f"yksikko_{j + 1:02d}"
        key = ("alkukartoitukset", "valmennettavat")[j % 2]
        price = prices[j % len(prices)]
        total_cost = price * derived_sums[key] + Decimal(rng.randint(0, 5_000))  # the host's part stays >= 0
        components[cid] = UnitComponent(
            cid, Text(f"Yksikköhintainen palvelu {j + 1}"), key,
            price=Sourced(price, f"Liite, kohta 5: {price} € / asiakas"),
            total_cost=Sourced(total_cost, f"Liite, palvelun {j + 1} kokonaiskustannus"),
            remainder=host, reference=f"Liite, kohta 5.{j + 1}")

    pool_ids = tuple(c for c in components if c.startswith("palvelu_"))
    unit_ids = tuple(c for c in components if c.startswith("yksikko_"))
    reduced = codes[1 + rng.randrange(size - 1)]
    reductions = (Reduction(reduced, Decimal("0.2"), pool_ids[:REDUCED_POOLS],
                            "host" if number % 2 == 0 else "others",
                            "Aluekoordinaattori työskentelee koko alueelle", "Liite, kohta 6"),)
    tables = (
        Table("yhteiset", Text("Yhteiset kustannukset"), pool_ids, Text("Taulukko 1"), ("asukasluku", "tyottomat"),
              "asukasluku", None, "inline", "Taulukko 1"),
        Table("palvelut", Text("Yksikköhintaiset palvelut"), unit_ids, Text("Taulukko 2"),
              ("tyottomat", "alkukartoitukset", "valmennettavat"), "tyottomat", None, "separate", "Taulukko 2"),
    )
    return Agreement(
        id=f"synteettinen-{number:02d}", year=2025, title=Text(f"Synteettinen työllisyysalue {number}"), host=host,
        municipalities=municipalities, keys=frozen_map(keys), components=frozen_map(components), tables=tables,
        reductions=reductions, parameters=frozen_map({"flat_rate": flat_rate}),
        shown=Rounding(Decimal(1), "half_up"), invoiced=Rounding(CENT, "half_up"),
        reference="Synteettinen kustannustenjakoliite",
    )


def build_national(rng: random.Random) -> list[Agreement]:
    sizes = area_sizes(rng)
    out, code = [], 1
    for number, size in enumerate(sizes, 1):
        out.append(build_area(rng, number, size, code))
        code += size
    return out


# --------------------------------------------------------------------------
# Writing an agreement as TOML (for the loader)
# --------------------------------------------------------------------------

def _q(text: str | Text) -> str:
    text = str(text)  # a label: its Finnish words
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(value: Decimal) -> str:
    return format(value, "f")


def _pct(rate: Decimal) -> str:
    return _q(format((rate * 100).normalize(), "f") + " %")


def _sourced(s: Sourced) -> str:
    return f"{{ value = {_num(s.value)}, reference = {_q(s.reference)} }}"


def to_toml(a: Agreement) -> str:
    """The agreement in the file format of docs/agreement-format.md (what the benchmark builds):
    the file names municipalities, the model keys them by code."""
    name = {m.code: m.name for m in a.municipalities}
    out = [
        "[agreement]", f"id = {_q(a.id)}", f"year = {a.year}", f"title = {_q(a.title)}", f"host = {_q(name[a.host])}",
        f"reference = {_q(a.reference)}", "",
        "[rounding]",
        f'shown = {{ unit = "{a.shown.unit}", mode = "{a.shown.mode}" }}',
        f'invoiced = {{ unit = "{a.invoiced.unit}", mode = "{a.invoiced.mode}" }}', "",
    ]
    for p in a.parameters.values():
        out += [f"[parameters.{p.name}]", f"label = {_q(p.label)}", f"value = {_pct(p.value)}",
                f"reference = {_q(p.reference)}", ""]
    out.append("[municipalities]")
    for m in a.municipalities:
        out.append(f"{_q(m.name)} = {{ code = {_q(m.code)}, name_sv = {_q(m.name_sv)} }}")
    out.append("")
    for key in a.keys.values():
        out += [f"[keys.{key.name}]", f"kind = {_q(key.kind)}", f"label = {_q(key.label)}",
                f"reference = {_q(key.reference)}"]
        if isinstance(key, CountKey):
            out += ["", f"[keys.{key.name}.values]"] + [f"{_q(name[m])} = {_num(v)}" for m, v in key.values.items()]
        elif isinstance(key, DerivedKey):
            out += [f"from = {_q(key.source_key)}", f"rate = {_pct(key.rate)}", f"rounding = {_q(key.rounding)}"]
        elif isinstance(key, MixKey):
            out.append("weights = { " + ", ".join(f"{k} = {_pct(w)}" for k, w in key.weights) + " }")
        else:
            raise TypeError(f"no TOML writer for {key.kind} keys")
        out.append("")
    for c in a.components.values():
        out += [f"[components.{c.id}]", f"kind = {_q(c.kind)}", f"label = {_q(c.label)}",
                f"reference = {_q(c.reference)}"]
        if isinstance(c, PoolComponent):
            out += [f"cost = {_sourced(c.cost)}", f"key = {_q(c.key)}"]
            if c.overhead is not None:
                out.append(f"overhead = {_q(c.overhead.parameter)}" if c.overhead.parameter
                           else f"overhead = {_pct(c.overhead.rate)}")
        else:
            assert isinstance(c.quantity, str) and c.price is not None and c.total_cost is not None
            out += [f"price = {_sourced(c.price)}", f"quantity = {_q(c.quantity)}",
                    f"total_cost = {_sourced(c.total_cost)}",
                    f"remainder = {_q('host' if c.remainder == a.host else name[c.remainder])}"]
        out.append("")
    for r in a.reductions:
        out += ["[[reductions]]", f"municipality = {_q(name[r.municipality])}", f"rate = {_pct(r.rate)}",
                "components = [" + ", ".join(_q(c) for c in r.components) + "]",
                f"absorbed_by = {_q(r.absorbed_by)}", f"reason = {_q(r.reason)}", f"reference = {_q(r.reference)}", ""]
    for t in a.tables:
        out += [f"[tables.{t.id}]", f"title = {_q(t.title)}", f"caption = {_q(t.caption)}",
                "components = [" + ", ".join(_q(c) for c in t.components) + "]",
                "show_keys = [" + ", ".join(_q(k) for k in t.show_keys) + "]"]
        if t.share_of:
            out.append(f"share_of = {_q(t.share_of)}")
        out += [f"host_row = {_q(t.host_row)}", f"reference = {_q(t.reference)}", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------
# Work to time
# --------------------------------------------------------------------------

def render_explanation(allocation: Allocation) -> int:
    """Render every line of every municipality's explanation (in Finnish); return how many lines."""
    explainer = Explainer(allocation.agreement, "fi")
    lines = 0
    for code in allocation.agreement.codes:
        for _table, figures in allocation.explain(code):
            for figure in figures:
                for _depth, f in figure.walk():
                    explainer.line(f)
                    lines += 1
    return lines


def allocate_checked(agreement: Agreement) -> Allocation:
    allocation = allocate(agreement)
    if allocation.problems:
        raise SystemExit(f"{agreement.id}: the allocation has problems: {allocation.problems[0]}")
    return allocation


def invoiced_totals(allocation: Allocation) -> list[tuple[str, Decimal]]:
    return [(r.municipality, r.invoiced.value) for t in allocation.tables for r in t.rows]


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------

def median_ns(fn: Callable[[], object], runs: int, warmup: int) -> tuple[int, int, int]:
    """(median, min, max) in ns of `runs` calls of `fn`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - start)
    return int(statistics.median(times)), min(times), max(times)


def process_ns(cmd: list[str], runs: int, warmup: int = 1) -> tuple[int, int, int] | str:
    """Median wall time of a whole process, or the reason it could not be run."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter_ns()
        try:
            done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                  timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter_ns() - start
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return f"exit status {done.returncode}: {tail[0][:160]}"
        if i >= warmup:
            times.append(elapsed)
    return int(statistics.median(times)), min(times), max(times)


def osuus_command() -> list[str]:
    script = Path(sys.executable).parent / ("osuus.exe" if os.name == "nt" else "osuus")
    return [str(script)] if script.exists() else [sys.executable, "-m", "osuus"]


def ms(ns: int) -> str:
    return f"{ns / 1e6:10.3f} ms"


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def profile(fn: Callable[[], object], title: str, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    for sort in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(sort).print_stats(top)
        text = buf.getvalue()
        body = text[text.find("   ncalls"):] if "   ncalls" in text else text
        print(f"\n--- cProfile: {title}, sorted by {sort} (top {top}) ---")
        print(body.rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per in-process measurement (median)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs before measuring")
    parser.add_argument("--process-runs", type=int, default=11, help="timed runs per process measurement")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of all 45 areas")
    parser.add_argument("--top", type=int, default=25, help="rows of the profile")
    args = parser.parse_args()
    runs, warmup = args.runs, args.warmup

    print("osuus allocation benchmark")
    print(f"  python   {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    print(f"  machine  {platform.platform()}; {platform.machine()}; cpu count {os.cpu_count()}"
          f" (usable {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'})")
    libmpdec = getattr(decimal, "__libmpdec_version__", None)
    print(f"  decimal  {'C, libmpdec ' + libmpdec if libmpdec else 'pure Python (_pydecimal): expect it much slower'}")
    if hasattr(os, "getloadavg"):
        print("  load     average {:.2f} {:.2f} {:.2f} (1, 5, 15 min; other work on the machine skews the figures)"
              .format(*os.getloadavg()))
    print(f"  runs     median of {runs} after {warmup} warm-up; processes: median of {args.process_runs}")

    # ---- inputs ------------------------------------------------------------
    shipped, problems = load_agreement(SHIPPED)
    if shipped is None:
        raise SystemExit(f"{SHIPPED}: {problems[0]}")
    rng = random.Random(SEED)
    national = build_national(rng)
    one = build_area(random.Random(SEED), 0, 22, 1, prefix="Testikunta")
    n_munis = sum(len(a.municipalities) for a in national)
    sizes = sorted(len(a.municipalities) for a in national)
    print(f"  inputs   shipped: {len(shipped.municipalities)} municipalities, {len(shipped.components)} components; "
          f"synthetic: {len(national)} areas, {n_munis} municipalities (sizes {sizes[0]}–{sizes[-1]}, "
          f"median {statistics.median(sizes):g}), {COMPONENTS} components each "
          f"({POOLS} pools + {COMPONENTS - POOLS} unit services), 1 reduction each")

    # the TOML form of the 22-municipality area must load and give the same invoices
    tmp = tempfile.TemporaryDirectory(prefix="osuus-bench-")
    one_file = Path(tmp.name) / "synteettinen-22.toml"
    one_file.write_text(to_toml(one), encoding="utf-8")
    loaded, problems = load_agreement(one_file)
    if loaded is None:
        for p in problems[:10]:
            print("  ", p)
        raise SystemExit("the synthetic TOML does not load")
    if invoiced_totals(allocate_checked(loaded)) != invoiced_totals(allocate_checked(one)):
        raise SystemExit("the synthetic agreement gives other invoices when loaded from TOML")
    for a in national:
        allocation = allocate_checked(a)
        if allocation.warnings:
            print(f"  note: {a.id}: {allocation.warnings[0]}")

    lines_shipped = render_explanation(allocate_checked(shipped))
    lines_one = render_explanation(allocate_checked(one))
    lines_all = sum(render_explanation(allocate_checked(a)) for a in national)
    print(f"  lines    explanation lines rendered: shipped {lines_shipped:,}; 22-area {lines_one:,}; "
          f"45 areas {lines_all:,}".replace(",", " "))
    print()

    # ---- in-process --------------------------------------------------------
    def all_areas() -> list[Allocation]:  # kept, as a national run keeps them to write them out
        return [allocate(a) for a in national]

    def all_areas_explained() -> list[Allocation]:
        out = []
        for a in national:
            allocation = allocate(a)
            render_explanation(allocation)
            out.append(allocation)
        return out

    def without_gc(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            gc.disable()
            try:
                return fn()
            finally:
                gc.enable()
        return run

    def explain_host(agreement: Agreement) -> int:
        """What `osuus explain -m <host>` computes: the allocation and one municipality's lines."""
        allocation = allocate(agreement)
        explainer = Explainer(agreement, "fi")
        return sum(1 for _t, figures in allocation.explain(agreement.host) for fig in figures
                   for _d, f in fig.walk() if explainer.line(f))

    results: list[tuple[str, tuple[int, int, int] | str, float | None, str]] = []

    def measure(label: str, fn: Callable[[], object], aim_ms: float | None = None, r: int = runs) -> None:
        res = median_ns(fn, r, warmup)
        results.append((label, res, aim_ms, "ms"))
        print(f"  {label:<52} {ms(res[0])}   (min {res[1] / 1e6:.3f}, max {res[2] / 1e6:.3f})", flush=True)

    print("In process (median):")
    # `allocate` builds the whole explanation tree (every Figure with its formula,
    # inputs and clause); the aims apply to it. Rendering every line of every
    # municipality's explanation as text is measured for information.
    measure("a. shipped 22 mun.: allocate (with trace)", lambda: allocate(shipped), AIM_ONE_MS)
    measure("a. shipped 22 mun.: + render all explanation text", lambda: render_explanation(allocate(shipped)))
    measure("b. synthetic 22 mun. × 40 comp.: allocate (with trace)", lambda: allocate(one), AIM_ONE_MS)
    measure("b. synthetic 22 mun. × 40 comp.: + render all text", lambda: render_explanation(allocate(one)))
    measure("b. synthetic 22 mun.: allocate + explain the host", lambda: explain_host(one), AIM_ONE_MS)
    measure(f"c. all {len(national)} areas ({n_munis} mun.): allocate (with trace)", all_areas, AIM_ALL_MS)
    measure(f"c. all {len(national)} areas ({n_munis} mun.): + render all text", all_areas_explained)
    measure(f"c. all {len(national)} areas: allocate, gc off (info)", without_gc(all_areas))
    measure("d. load_agreement(shipped)", lambda: load_agreement(SHIPPED))
    measure("d. synthetic 22 mun. TOML: load + allocate", lambda: allocate(load_agreement(one_file)[0]))
    print()

    # ---- processes ---------------------------------------------------------
    print("Whole processes (median):")
    cmd = osuus_command()
    for label, command, aim in (
        ("e. osuus allocate agreements/pirkanmaa-2021.toml", cmd + ["allocate", str(SHIPPED.relative_to(ROOT))], AIM_CLI_S),
        ('e. python -c "import osuus.cli"', [sys.executable, "-c", "import osuus.cli"], None),
        ('e. python -c "pass" (interpreter start, for reference)', [sys.executable, "-c", "pass"], None),
    ):
        res = process_ns(command, args.process_runs)
        results.append((label, res, aim * 1000 if aim else None, "s"))
        if isinstance(res, str):
            print(f"  {label:<52} skipped ({res})")
        else:
            print(f"  {label:<52} {ms(res[0])}   (min {res[1] / 1e6:.1f}, max {res[2] / 1e6:.1f})", flush=True)
    print(f"  (command: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))})")
    print()

    # ---- summary -----------------------------------------------------------
    print("Results against the aims:")
    print(f"  {'measurement':<56} {'median':>12} {'aim':>10}  {'':4}")
    print(f"  {'-' * 56} {'-' * 12} {'-' * 10}  {'-' * 4}")
    for label, res, aim_ms, unit in results:
        if isinstance(res, str):
            print(f"  {label:<56} {'skipped':>12} {'' if aim_ms is None else f'< {aim_ms / 1000:g} s':>10}")
            continue
        med = res[0] / 1e6
        shown = f"{med / 1000:.3f} s" if unit == "s" else f"{med:.3f} ms"
        aim = "" if aim_ms is None else (f"< {aim_ms / 1000:g} s" if unit == "s" else f"< {aim_ms:g} ms")
        verdict = "" if aim_ms is None else ("ok" if med < aim_ms else "SLOW")
        print(f"  {label:<56} {shown:>12} {aim:>10}  {verdict}")
    tmp.cleanup()

    if args.profile:
        profile(all_areas, f"allocate all {len(national)} areas", args.top)
        profile(all_areas_explained, f"allocate + explanation, all {len(national)} areas", args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
