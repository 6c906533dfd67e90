"""How fast are the documents of a year? A benchmark that prints figures (it is not a test).

Run it from the repository root, with the validate extra installed:

    .venv/bin/python bench/bench_documents.py
    .venv/bin/python bench/bench_documents.py --lang sv --repeat 3

What it measures, on a SQLite ledger holding the README's walkthrough (the 2021
agreement, the example events, twelve monthly invoice runs, the year closed,
2022-01 invoiced and one invoice credited), built once and not timed:
  1. `osuus export year 2021` as a user runs it (a child process, so start-up,
     imports and the compiling of the validators are counted): every 2021 invoice
     and credit note as PDF, Finvoice 3.0 and Peppol BIS 3 (each e-invoice
     validated), the 21 estimate letters, the 21 annual reports and the appendix
     tables; aim under 60 s.
     Its baseline, interleaved with it round by round: the same export with
     --no-validate; the ratio is what validating every e-invoice costs.
  2. In this process, after a warm-up: Peppol validation of one invoice (UBL XSD,
     CEN and Peppol schematron, osuus's rules), Finvoice validation (XSD and
     osuus's own rules), and the rendering of each kind of PDF: median of
     `--repeat` rounds over the documents; aim under 20 ms for one warm Peppol
     validation. Its baseline, interleaved round by round: parsing the same
     documents and checking them against the UBL 2.1 XSD only (what any
     validator does first); the ratio is what the compiled CEN and Peppol rules
     cost on top.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_ledger(url: str) -> None:
    from tests.documents.conftest import build_walkthrough

    build_walkthrough(url)


def timed(fn, *args, **kw) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kw)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="fi")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export-rounds", type=int, default=1, help="rounds of the two exports, interleaved")
    args = parser.parse_args()

    from osuus.einvoice import validate as v
    from osuus.einvoice.finvoice import finvoice_xml
    from osuus.einvoice.peppol import peppol_xml
    from osuus.render.pdf.letters import estimate_pdf, invoice_pdf
    from osuus.render.pdf.reports import annual_report_pdf, appendix_pdf
    from osuus.services.allocation import allocate_file
    from osuus.services.documents import annual_report_documents, estimate_letters, invoice_documents, select_invoices
    from osuus.services.ledger import Ledger

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'ledger.db'}"
        seconds, _ = timed(build_ledger, url)
        print(f"walkthrough ledger built in {seconds:.1f} s (not part of the figures)")

        env = {**os.environ, "OSUUS_DATABASE_URL": url}

        def export(flag: str, folder: Path) -> float:
            command = [sys.executable, "-m", "osuus", "export", "year", "2021", "--output", str(folder),
                       "--lang", args.lang, "--date", "2022-03-31", flag]
            start = time.perf_counter()
            proc = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{proc.stdout}\n{proc.stderr}")
            return seconds

        exports, baselines = [], []
        for r in range(args.export_rounds):  # interleaved: validated, then the baseline
            exports.append(export("--validate", Path(tmp) / f"export-{r}"))
            baselines.append(export("--no-validate", Path(tmp) / f"baseline-{r}"))
        export_seconds, baseline_seconds = statistics.median(exports), statistics.median(baselines)
        out = Path(tmp) / "export-0"
        files = [p for p in out.rglob("*") if p.is_file()]
        kinds = {}
        for p in files:
            key = "".join(p.suffixes[-2:]) if p.name.endswith(".xml") else p.suffix
            kinds[key] = kinds.get(key, 0) + 1
        size = sum(p.stat().st_size for p in files)

        # the documents as `export year` makes them: every invoice and credit note numbered in 2021
        # (with the e-invoice addresses), the estimate letters, the members' annual reports
        with Ledger(url, "bench", readonly=True) as ledger, ledger.read() as session:
            docs = invoice_documents(session, select_invoices(session, year=2021), einvoice=True)
            letters = estimate_letters(session, 2021, dt.date(2021, 8, 31))
            reports = annual_report_documents(session, 2021, dt.date(2022, 3, 31))
        allocation = allocate_file(ROOT / "agreements" / "pirkanmaa-2021.toml")

        peppol = [peppol_xml(d) for d in docs]
        finvoice = [finvoice_xml(d) for d in docs]
        warm, _ = timed(v.warm_up)
        v.validate_peppol(peppol[0])
        v.validate_finvoice(finvoice[0])

        from lxml import etree

        parser = v._safe_parser()

        def schema_only(data: bytes) -> bool:  # the baseline: parse, then the UBL 2.1 XSD
            root = etree.fromstring(data, parser)
            return v._ubl_schema(etree.QName(root).namespace).validate(root)

        assert all(map(schema_only, peppol))
        full_rounds, base_rounds = [], []
        for _ in range(args.repeat):  # interleaved, round by round
            for fn, rounds in ((v.validate_peppol, full_rounds), (schema_only, base_rounds)):
                start = time.perf_counter()
                for item in peppol:
                    fn(item)
                rounds.append((time.perf_counter() - start) / len(peppol))
        peppol_full, peppol_base = statistics.median(full_rounds), statistics.median(base_rounds)
        peppol_sorted = sorted(timed(v.validate_peppol, d)[0] for d in peppol)
        peppol_p95 = peppol_sorted[int(0.95 * (len(peppol_sorted) - 1))]

        def per_item(fn, items) -> float:
            rounds = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                for item in items:
                    fn(item)
                rounds.append((time.perf_counter() - start) / len(items))
            return statistics.median(rounds)

        figures = [
            ("Peppol validation, one invoice (warm)", peppol_full, 0.020),
            ("  baseline: parse + UBL XSD only", peppol_base, None),
            ("Finvoice validation, one invoice (warm)", per_item(v.validate_finvoice, finvoice), None),
            ("Peppol XML written, one invoice", per_item(peppol_xml, docs), None),
            ("Finvoice XML written, one invoice", per_item(finvoice_xml, docs), None),
            ("invoice PDF, one", per_item(lambda d: invoice_pdf(d, args.lang), docs[:60]), None),
            ("estimate letter PDF, one", per_item(lambda d: estimate_pdf(d, args.lang), letters), None),
            ("annual report PDF, one", per_item(lambda d: annual_report_pdf(d, args.lang), reports), None),
            ("appendix tables PDF", per_item(lambda a: appendix_pdf(a, args.lang), [allocation]), None),
        ]

    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"rule sets: {v.rule_set_versions()}")
    print()
    print(f"osuus export year 2021 (--validate, --lang {args.lang}), a child process: {export_seconds:.1f} s "
          f"(aim < 60 s) {'OK' if export_seconds < 60 else 'MISSED'}; median of {args.export_rounds}: "
          + ", ".join(f"{x:.1f}" for x in exports))
    print(f"  baseline, the same with --no-validate, interleaved: {baseline_seconds:.1f} s; "
          f"ratio {export_seconds / baseline_seconds:.2f} x")
    print(f"  {len(files)} files, {size / 1e6:.1f} MB: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    print(f"validators compiled (warm-up) in {warm:.2f} s")
    print()
    print(f"{'median of ' + str(args.repeat) + ' rounds':<45} {'ms':>9}  aim")
    for label, seconds, aim in figures:
        verdict = "" if aim is None else f"< {aim * 1000:.0f} ms {'OK' if seconds < aim else 'MISSED'}"
        print(f"{label:<45} {seconds * 1000:>9.2f}  {verdict}")
    print(f"Peppol validation over its baseline: ratio {peppol_full / peppol_base:.1f} x; "
          f"p95 of one pass over the {len(peppol)} documents: {peppol_p95 * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
