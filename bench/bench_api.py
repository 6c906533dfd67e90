"""How fast does the API answer many readers at once? A benchmark that prints figures (not a test).

Run it from the repository root:

    .venv/bin/python bench/bench_api.py                       # 1 000 000 events, 50 clients, 3 rounds of 20 s
    .venv/bin/python bench/bench_api.py --events 100000 --seconds 5 --rounds 1   # a quick look

What it does:
  1. A ledger of a full year on SQLite (kept in --keep DIR, default a temporary folder, so a second
     run can reuse it): the shipped 2021 agreement, N service events (bench_ledger's generator,
     deterministic), the twelve monthly invoice runs prepared and approved by two users (four
     eyes), and an auditor's API key with read scopes.
  2. Two servers on loopback, each uvicorn with one worker process, run at the same time:
     - osuus: `osuus serve` (the app of osuus.api) on that ledger;
     - baseline: a bare ASGI app in uvicorn that answers every request with the same bytes
       osuus gave for the invoice list (no routing, no authentication, no database). It is the
       floor that uvicorn, the HTTP stack and the load generator alone put under any answer.
  3. The load: a separate process with 50 clients (asyncio + httpx, each its own keep-alive
     connection), each sending its next request as soon as the last answered, for --seconds; the
     mix is 40 % the invoice list (a page of 50), 30 % one invoice, 20 % the explanation of a
     line, 10 % a PDF. With --think T each client waits T seconds on average (uniformly 0.5–1.5 T)
     between an answer and its next request, as a person reading does, and the clients start
     spread over T; without it, each asks again at once (the server's saturation). The first 2 s
     of a round (connections opening) are not counted. Rounds alternate osuus and baseline
     (interleaved, so both see the same noise of this shared machine).
  4. Per kind of request: count, p50, p95, p99 (ms), throughput (requests/s); the JSON reads'
     p95 against the aim (< 100 ms) and as a ratio to the baseline's p95.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
AREA = "default"
CLIENTS = 50
MIX = (("list", 40), ("invoice", 30), ("explain", 20), ("pdf", 10))
AIM_P95_MS = 100.0
JSON_KINDS = ("list", "invoice", "explain")
WARM_UP_S = 2.0  # each round's first seconds (connections opening) are not counted


# --------------------------------------------------------------------------
# 1. the ledger
# --------------------------------------------------------------------------

def build_ledger(folder: Path, events: int) -> tuple[str, str]:
    """The database of a full year and an auditor's API key (made once per folder and size)."""
    url = f"sqlite:///{folder / f'api-{events}.db'}"
    key_file = folder / f"api-{events}.key"
    if key_file.exists():
        return url, key_file.read_text().strip()
    from bench_ledger import write_events

    from osuus.calendar import Period
    from osuus.services import accounts
    from osuus.services.agreements import add_agreement
    from osuus.services.approval import approve, prepare_run
    from osuus.services.imports import import_events
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade

    db_file = folder / f"api-{events}.db"
    for path in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        path.unlink(missing_ok=True)
    upgrade(url)
    csv_path = folder / f"events-{events}.csv"
    started = time.perf_counter()
    write_events(csv_path, events)
    with Ledger(url, "valmistelija") as preparer, Ledger(url, "hyvaksyja") as approver:
        add_agreement(preparer, AGREEMENT)
        import_events(preparer, csv_path)
        for month in range(1, 13):
            period = Period.parse(f"2021-{month:02d}")
            issue = period.end + dt.timedelta(days=1)  # the day after the month ends
            draft = prepare_run(preparer, period, issue)
            approve(approver, draft.id)
        _, key = accounts.create_api_key(
            preparer, "bench", "auditor", ["invoices:read"],
            dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30))
    csv_path.unlink()
    key_file.write_text(key)
    print(f"ledger built in {time.perf_counter() - started:.0f} s: {db_file}", flush=True)
    return url, key


# --------------------------------------------------------------------------
# 2. the servers
# --------------------------------------------------------------------------

BASELINE_APP = '''"""The bare server: the same bytes for every request (no routing, no auth, no database)."""
import os

BODY = open(os.environ["BARE_BODY"], "rb").read()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, path: str = "/") -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} ended with status {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not answer in 60 s")


def start_osuus(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "OSUUS_DATABASE_URL": url, "OSUUS_LOG_FORMAT": "json"}
    process = subprocess.Popen([str(Path(sys.executable).parent / "osuus"), "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_until_up(port, process, "/api/v1/health")
    return process


def start_baseline(body_file: Path, port: int, workers: int) -> subprocess.Popen:
    """uvicorn with the bare app, in as many worker processes as osuus has."""
    (body_file.parent / "bare_app.py").write_text(BASELINE_APP, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(body_file.parent),
                                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                                "--log-level", "warning", "--no-access-log"],
                               env={**os.environ, "BARE_BODY": str(body_file)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(port, process)
    return process


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


# --------------------------------------------------------------------------
# 3. the load (a child process: `bench_api.py --load PORT SECONDS KEY PLAN`)
# --------------------------------------------------------------------------

def plan_requests(url: str, key: str, port: int) -> dict:
    """The paths of each kind: invoice numbers and lines taken from the API itself."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    base = f"http://127.0.0.1:{port}/api/v1/areas/{AREA}"
    with httpx.Client(headers=headers, timeout=60) as client:
        listed = client.get(f"{base}/invoices", params={"year": 2021, "limit": 50})
        listed.raise_for_status()
        numbers, cursors, cursor = [], [None], None
        while len(numbers) < 400:
            page = client.get(f"{base}/invoices", params={"year": 2021, "limit": 50,
                                                           **({"cursor": cursor} if cursor else {})})
            page.raise_for_status()
            numbers += [item["number"] for item in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
            cursors.append(cursor)
        lines = {}
        for number in numbers[:40]:
            invoice = client.get(f"{base}/invoices/{number}")
            invoice.raise_for_status()
            lines[number] = [line["position"] for line in invoice.json()["lines"]]
    lists = [f"/api/v1/areas/{AREA}/invoices?year=2021&limit=50" + (f"&cursor={c}" if c else "") for c in cursors[:4]]
    return {"list": lists,
            "invoice": [f"/api/v1/areas/{AREA}/invoices/{n}" for n in numbers],
            "explain": [f"/api/v1/areas/{AREA}/invoices/{n}/explain/{p}" for n, ps in lines.items() for p in ps],
            "pdf": [f"/api/v1/areas/{AREA}/invoices/{n}.pdf" for n in numbers[:40]],
            "list_body": listed.content.decode("utf-8")}


async def _load(port: int, seconds: float, key: str, plan: dict, seed: int, think: float) -> dict:
    import httpx

    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    results: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
    errors: dict[str, int] = {}
    began = time.perf_counter()
    end = began + seconds
    counted_from = began + min(WARM_UP_S, seconds / 5)  # the first seconds open connections: not counted

    async def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        if think:  # people do not all click at the same instant: arrivals spread over one think time
            await asyncio.sleep(rng.uniform(0, think))
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60,
                                     headers={"Authorization": f"Bearer {key}"}) as http:
            while time.perf_counter() < end:
                kind = rng.choice(kinds)
                path = rng.choice(plan[kind])
                started = time.perf_counter()
                answer = await http.get(path)
                elapsed = time.perf_counter() - started
                if started < counted_from:
                    continue
                if answer.status_code != 200:
                    errors[f"{kind} {answer.status_code}"] = errors.get(f"{kind} {answer.status_code}", 0) + 1
                results[kind].append(elapsed)
                if think:
                    await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return {"seconds": time.perf_counter() - counted_from, "results": results, "errors": errors}


def child_load(argv: list[str]) -> None:
    port, seconds, key, plan_file, seed = int(argv[0]), float(argv[1]), argv[2], argv[3], int(argv[4])
    think = float(argv[5])
    plan = json.loads(Path(plan_file).read_text())
    print(json.dumps(asyncio.run(_load(port, seconds, key, plan, seed, think))))


def run_load(port: int, seconds: float, key: str, plan_file: Path, seed: int, think: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--load", str(port), str(seconds), key, str(plan_file),
                          str(seed), str(think)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# --------------------------------------------------------------------------
# 4. figures
# --------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


def summarise(rounds: list[dict]) -> dict:
    merged: dict[str, list[float]] = {}
    seconds, errors = 0.0, {}
    for r in rounds:
        seconds += r["seconds"]
        for kind, values in r["results"].items():
            merged.setdefault(kind, []).extend(values)
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    out = {kind: {"count": len(v), "p50": percentile(v, 50), "p95": percentile(v, 95), "p99": percentile(v, 99)}
           for kind, v in merged.items()}
    json_reads = [x for kind in JSON_KINDS for x in merged.get(kind, [])]
    out["json"] = {"count": len(json_reads), "p50": percentile(json_reads, 50), "p95": percentile(json_reads, 95),
                   "p99": percentile(json_reads, 99)}
    out["all"] = {"count": sum(len(v) for v in merged.values()), "throughput": sum(len(v) for v in merged.values())
                  / seconds if seconds else 0.0}
    out["errors"] = errors
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        child_load(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="a folder to keep the ledger in (and reuse it)")
    parser.add_argument("--workers", type=int, default=2, help="server processes of each server (this machine: 2 cores)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a client waits between answers (0: the next request at once)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="osuus-bench-api-"))
    folder.mkdir(parents=True, exist_ok=True)
    url, key = build_ledger(folder, args.events)
    osuus_port, base_port = free_port(), free_port()
    servers = [start_osuus(url, osuus_port, args.workers)]
    try:
        plan = plan_requests(url, key, osuus_port)
        body_file = folder / "list-body.json"
        body_file.write_text(plan.pop("list_body"), encoding="utf-8")
        plan_file = folder / "plan.json"
        plan_file.write_text(json.dumps(plan))
        servers.append(start_baseline(body_file, base_port, args.workers))
        run_load(osuus_port, 3, key, plan_file, 0, 0.0)  # warm-up (untimed)
        measured: dict[str, list[dict]] = {"osuus": [], "baseline": []}
        for index in range(args.rounds):
            for name, port in (("osuus", osuus_port), ("baseline", base_port)):
                measured[name].append(run_load(port, args.seconds, key, plan_file, index + 1, args.think))
                print(f"round {index + 1} {name}: done", flush=True)
    finally:
        for process in servers:
            stop(process)
    osuus, base = summarise(measured["osuus"]), summarise(measured["baseline"])
    print(f"\nAPI under load: {CLIENTS} clients on loopback, {args.rounds} × {args.seconds:.0f} s per server, "
          f"interleaved; {args.events:,} events; {args.workers} server processes each; ".replace(",", " ")
          + (f"each client waits {args.think:g} s (±50 %) between answers" if args.think
             else "each client asks again at once"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'request':<10}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind in [k for k, _ in MIX] + ["json"]:
        f = osuus[kind]
        print(f"{kind:<10}{f['count']:>8}{f['p50']:>9.1f}{f['p95']:>9.1f}{f['p99']:>9.1f}")
    b = base["json"]
    print(f"{'baseline':<10}{b['count']:>8}{b['p50']:>9.1f}{b['p95']:>9.1f}{b['p99']:>9.1f}")
    print(f"throughput: osuus {osuus['all']['throughput']:.0f} requests/s, baseline "
          f"{base['all']['throughput']:.0f} requests/s")
    p95 = osuus["json"]["p95"]
    print(f"JSON reads p95 {p95:.1f} ms: aim < {AIM_P95_MS:.0f} ms {'met' if p95 < AIM_P95_MS else 'NOT met'}; "
          f"× {p95 / b['p95']:.1f} the bare server's p95 ({b['p95']:.1f} ms)")
    if osuus["errors"]:
        print(f"errors (not 200): {osuus['errors']}")


if __name__ == "__main__":
    main()
