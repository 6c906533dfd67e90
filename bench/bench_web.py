"""How fast do the web app's pages load for 50 people at once? A benchmark that prints figures (not a test).

Run it from the repository root:

    .venv/bin/python bench/bench_web.py                        # 1 000 000 events, 50 sessions, 3 rounds of 20 s
    .venv/bin/python bench/bench_web.py --events 200000 --seconds 20 --rounds 1    # a quicker look
    .venv/bin/python bench/bench_web.py --events 200000 --profile invoice          # where one page's time goes

What it does:
  1. The ledger of bench_api.py (its build_ledger: a full year on SQLite, the shipped 2021
     agreement, N service events, the twelve monthly runs approved by a second user: 252
     invoices; kept in --keep DIR so that a second run reuses it), and one user per session,
     added once: host staff (admin, preparer, approver, auditor in turn) and members (each of
     one municipality, the invoiced ones in turn), in Finnish mostly, some in Swedish and
     English. Each is signed in (osuus.services.accounts.login, in this process; the sessions are
     kept in the folder and reused while they have an hour left): its session token is the
     cookie its client sends, as a browser would.
  2. Two servers on loopback, each --workers processes (default 2), run at the same time:
     - osuus: osuus.web.app.create_app in uvicorn (what `osuus serve` runs), through a factory
       that also sends each worker's request log to a file. The log (osuus.api.logs.RequestLog)
       has one line per request with its duration: that is the server time reported.
       (`--server osuus-serve` runs `osuus serve --workers N` itself, whose workers make the app
       with osuus.web.app.create_app_from_env, which configures each one's request log.)
     - baseline: a bare ASGI app in uvicorn that answers every request with the same HTML bytes
       (osuus's page of median size: no routing, no sign-in, no database, no template): the
       floor that uvicorn, the HTTP stack and the load generator put under any page.
  3. The load: a separate process with --sessions clients (asyncio + httpx, each its own
     keep-alive connection and session cookie). Each loads its pages in turn, from a random
     first one: the host's staff the year at a glance, the agreement's tables, the invoice
     list, one invoice (of the 252, at random), a member's annual report; a member its home,
     the agreement's published tables, its invoice list, one of its own invoices, its own
     report. Between an answer and the next request a client waits --think seconds on average
     (uniformly 0.5–1.5 ×), as a person reading does; the clients start spread over one think
     time; --think 0: each asks again at once (the server's saturation). Only the HTML of each
     page is asked for: a browser keeps the style sheet and scripts (/static) in its cache.
     The first 2 s of a round are not counted; rounds alternate osuus and baseline
     (interleaved, so both see the same noise of this shared machine).
  4. Per page (and who loads it) and overall: requests, p50/p95/p99 of the server time (ms:
     from the request reaching the app to its last byte handed to uvicorn: routing, the
     session's guard, the database, the template; not the HTTP parsing nor the socket), the
     client's p95 on loopback, errors (any answer but 200; 0: none within 30 s); the aim
     (server p95 < 100 ms per page); the client p95 as a ratio to the bare server's; the CPU
     each server used during its rounds (from /proc: whether it was busy, or waited for cores
     that other work on the machine had), and the load average before and after.
  --pages chooses the pages loaded (e.g. all but the slow ones, to see what the rest cost).
  A page that does not answer 200 when the run starts (not written yet, or at another address:
  see PAGES and --path) is skipped, with a note.

--profile PAGE (or all) loads each page repeatedly in this process, one request at a time (no
server, no load), prints its time and CPU per request, and a cProfile of it (of the slowest).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_api import AREA, build_ledger, free_port, percentile, stop, wait_until_up  # noqa: E402

YEAR = 2021
SESSIONS = 50
AIM_P95_MS = 100.0
WARM_UP_S = 2.0  # each round's first seconds (connections opening) are not counted
PASSWORD = "penkkitesti-salasana-2021"
STAFF_ROLES = ("preparer", "approver", "auditor", "admin")
LANGUAGES = ("fi", "fi", "fi", "sv", "en")  # users' own languages, in turn
COOKIE = "__Host-osuus_session"

#: (page, who loads it, candidate paths): the first candidate that answers 200 when the run
#: starts is loaded; {area}, {number} (an invoice the session may see) and {code} (a member
#: municipality it may see) are filled in per request. `who`: host, member or both.
PAGES = (
    ("year", "host", ("/areas/{area}/",)),
    ("home", "member", ("/areas/{area}/",)),
    ("agreement", "both", (f"/areas/{{area}}/agreement/{YEAR}", "/areas/{area}/agreement")),
    ("invoices", "both", (f"/areas/{{area}}/invoices?year={YEAR}", "/areas/{area}/invoices")),
    ("invoice", "both", ("/areas/{area}/invoices/{number}",)),
    ("report", "both", (f"/areas/{{area}}/reports/{YEAR}/{{code}}",)),
)


# --------------------------------------------------------------------------
# 1. the ledger's people
# --------------------------------------------------------------------------

def people(sessions: int, members_share: float) -> list[dict]:
    """Who the sessions are: names, roles and languages (municipalities are given later)."""
    members = round(sessions * members_share)
    found = []
    for i in range(sessions - members):
        found.append({"name": f"bench-staff-{i + 1:03d}", "who": "host", "role": STAFF_ROLES[i % len(STAFF_ROLES)],
                      "language": LANGUAGES[i % len(LANGUAGES)]})
    for i in range(members):
        found.append({"name": f"bench-member-{i + 1:03d}", "who": "member", "role": "member", "index": i,
                      "language": LANGUAGES[(i + 2) % len(LANGUAGES)]})
    return found


def add_people(url: str, folk: list[dict]) -> dict[str, list[str]]:
    """The users of `folk` (those not there yet) with their roles; every invoice number of the
    year by municipality code. Each member gets a municipality: the invoiced ones in turn."""
    from osuus.services import accounts
    from osuus.services.invoicing import list_invoices
    from osuus.services.ledger import Ledger
    from osuus.store.db import upgrade

    upgrade(url)  # a kept ledger may predate the schema's newest migrations
    with Ledger(url, "bench-setup") as ledger:
        numbers: dict[str, list[str]] = {}
        for invoice in list_invoices(ledger, year=YEAR, explanations=False):
            numbers.setdefault(invoice.municipality, []).append(invoice.number)
        codes = sorted(numbers)
        existing = {user.name: user for user in accounts.list_users(ledger, area_only=False)}
        for person in folk:
            if person["who"] == "member":
                person["code"] = codes[person["index"] % len(codes)]
            if person["name"] in existing:
                continue
            accounts.add_user(ledger, person["name"], password=PASSWORD, language=person["language"],
                              display_name=person["name"])
            accounts.grant_role(ledger, person["name"], person["role"], person.get("code"))
    return numbers


def sign_in(url: str, folk: list[dict], keep: Path) -> int:
    """A session for each person (what a browser's cookie would hold): one kept in `keep` from
    an earlier run while it has an hour left, else a new one (signing in takes argon2's tenth of
    a second or more). Returns how many were new."""
    import datetime as dt

    from osuus.services import accounts
    from osuus.services.ledger import Ledger

    kept = json.loads(keep.read_text()) if keep.exists() else {}
    fresh = 0
    with Ledger(url, "bench-setup") as ledger:
        soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
        for person in folk:
            token = kept.get(person["name"])
            expires = accounts.session_expiry(ledger, token) if token else None
            if expires is None or expires < soon:
                token, fresh = accounts.login(ledger, person["name"], PASSWORD, "bench").token, fresh + 1
            person["token"] = kept[person["name"]] = token
    keep.write_text(json.dumps(kept))
    return fresh


# --------------------------------------------------------------------------
# 2. the servers
# --------------------------------------------------------------------------

FACTORY = '''"""osuus.web.app.create_app for the benchmark: each worker process also sends its request log
(one JSON line per request, with its duration) to stderr, as `osuus serve` does for one process."""


def app():
    from osuus.api import logs
    from osuus.web.app import create_app

    logs.configure("json")
    return create_app()
'''

BARE_APP = '''"""The bare server: the same HTML bytes for every request (no routing, no auth, no database)."""
import os

BODY = open(os.environ["BARE_BODY"], "rb").read()
HEADERS = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
'''

UVICORN_OPTIONS = ["--host", "127.0.0.1", "--no-access-log", "--no-proxy-headers", "--no-server-header",
                   "--log-level", "warning"]


def start_osuus(url: str, port: int, workers: int, folder: Path, log_file: Path, launcher: str) -> subprocess.Popen:
    env = {**os.environ, "OSUUS_DATABASE_URL": url, "OSUUS_LOG_FORMAT": "json"}
    if launcher == "osuus-serve":
        command = [str(Path(sys.executable).parent / "osuus"), "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(workers)]
    else:
        (folder / "bench_web_app.py").write_text(FACTORY, encoding="utf-8")
        command = [sys.executable, "-m", "uvicorn", "bench_web_app:app", "--factory", "--app-dir", str(folder),
                   "--port", str(port), "--workers", str(workers), *UVICORN_OPTIONS]
    with log_file.open("ab") as log:  # append: each worker's lines whole
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    wait_until_up(port, process, "/api/v1/health")
    return process


def start_bare(body_file: Path, port: int, workers: int) -> subprocess.Popen:
    (body_file.parent / "bench_web_bare.py").write_text(BARE_APP, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench_web_bare:app", "--app-dir",
                                str(body_file.parent), "--port", str(port), "--workers", str(workers),
                                *UVICORN_OPTIONS],
                               env={**os.environ, "BARE_BODY": str(body_file)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(port, process)
    return process


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a server: its process and its children (uvicorn's workers),
    from /proc (None where there is none)."""
    proc = Path("/proc")
    if not (proc / str(pid) / "stat").exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


# --------------------------------------------------------------------------
# 3. the plan and the load (a child process: `bench_web.py --load PLAN PORT SECONDS SEED THINK`)
# --------------------------------------------------------------------------

def fill(template: str, numbers: list[str], codes: list[str]) -> list[str]:
    """Every address of a page a session may load (one, or one per invoice or municipality)."""
    path = template.replace("{area}", AREA)
    if "{number}" in path:
        return [path.replace("{number}", n) for n in numbers]
    if "{code}" in path:
        return [path.replace("{code}", c) for c in codes]
    return [path]


def reach(person: dict, numbers: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """The invoices and municipalities a person may load: all for the host, its own for a member."""
    if person["who"] == "member":
        return numbers.get(person["code"], []), [person["code"]]
    return [n for code in sorted(numbers) for n in numbers[code]], sorted(numbers)


def choose_pages(port: int, folk: list[dict], numbers: dict[str, list[str]],
                 pages: tuple) -> tuple[dict[tuple[str, str], str], list[str], list[bytes]]:
    """Which candidate address of each page answers 200 now (asked by the first session of each
    kind); notes on the pages skipped; the bodies seen (the bare server serves one of them)."""
    import httpx

    chosen, notes, bodies = {}, [], []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, follow_redirects=False) as client:
        for page, who, candidates in pages:
            for kind in (("host", "member") if who == "both" else (who,)):
                person = next((p for p in folk if p["who"] == kind), None)
                if person is None:
                    continue
                tried = []
                for template in candidates:
                    paths = fill(template, *reach(person, numbers))
                    if not paths:
                        tried.append(f"{template}: nothing to fill in")
                        continue
                    answer = None
                    for _ in range(2):  # once more on a fresh connection: a page that failed may have ended it
                        try:
                            answer = client.get(paths[0], headers={"Cookie": f"{COOKIE}={person['token']}"})
                            break
                        except httpx.HTTPError as exc:
                            failure = type(exc).__name__
                    if answer is None:
                        tried.append(f"{paths[0]} no answer ({failure})")
                        continue
                    if answer.status_code == 200 and answer.headers.get("content-type", "").startswith("text/html"):
                        chosen[(page, kind)] = template
                        bodies.append(answer.content)
                        break
                    tried.append(f"{paths[0]} {answer.status_code}")
                else:
                    notes.append(f"skipped {page} ({kind}): " + "; ".join(tried))
    return chosen, notes, bodies


def make_plan(folk: list[dict], numbers: dict[str, list[str]], chosen: dict[tuple[str, str], str]) -> list[dict]:
    """Each session's cookie and its pages, each with every address it may load."""
    plan = []
    for person in folk:
        mine = reach(person, numbers)
        pages = [{"key": f"{page} {kind}", "paths": fill(template, *mine)}
                 for (page, kind), template in chosen.items() if kind == person["who"]]
        plan.append({"cookie": f"{COOKIE}={person['token']}", "pages": [p for p in pages if p["paths"]]})
    return plan


async def _load(port: int, seconds: float, plan: list[dict], seed: int, think: float) -> dict:
    import httpx

    results: list[list] = []  # [page key, request id, seconds, status]
    began = time.perf_counter()
    end = began + seconds
    counted_from = began + min(WARM_UP_S, seconds / 5)

    async def client(index: int, session: dict) -> None:
        rng = random.Random(seed * 1000 + index)
        pages = session["pages"]
        if not pages:
            return
        if think:  # people do not all click at the same instant: arrivals spread over one think time
            await asyncio.sleep(rng.uniform(0, think))
        turn = rng.randrange(len(pages))
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30,
                                     follow_redirects=False, headers={"Cookie": session["cookie"]}) as http:
            sequence = 0
            while time.perf_counter() < end:
                page = pages[turn % len(pages)]
                turn += 1
                sequence += 1
                rid = f"{page['key'].replace(' ', '.')}:{seed}:{index}:{sequence}"
                started = time.perf_counter()
                try:
                    answer = await http.get(rng.choice(page["paths"]), headers={"X-Request-ID": rid})
                    status = answer.status_code
                except httpx.HTTPError:
                    status = 0
                elapsed = time.perf_counter() - started
                if started >= counted_from:
                    results.append([page["key"], rid, elapsed, status])
                if think:
                    await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    await asyncio.gather(*(client(i, s) for i, s in enumerate(plan)))
    return {"seconds": time.perf_counter() - counted_from, "results": results}


def child_load(argv: list[str]) -> None:
    plan_file, port, seconds, seed, think = argv[0], int(argv[1]), float(argv[2]), int(argv[3]), float(argv[4])
    plan = json.loads(Path(plan_file).read_text())
    print(json.dumps(asyncio.run(_load(port, seconds, plan, seed, think))))


def run_load(plan_file: Path, port: int, seconds: float, seed: int, think: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--load", str(plan_file), str(port), str(seconds), str(seed),
                          str(think)], capture_output=True, text=True, check=True, timeout=seconds + 120)
    return json.loads(out.stdout)


# --------------------------------------------------------------------------
# 4. figures
# --------------------------------------------------------------------------

def server_times(log_file: Path) -> dict[str, float]:
    """Each request's duration (seconds) by its id, from the servers' request log."""
    found = {}
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"request_id"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "duration_ms" in record:
            found[record["request_id"]] = record["duration_ms"] / 1000
    return found


def summarise(rounds: list[dict], times: dict[str, float] | None) -> dict:
    """Per page key and 'all': count, server and client percentiles (ms), errors; throughput."""
    rows: dict[str, dict] = {}
    seconds = sum(r["seconds"] for r in rounds)
    for r in rounds:
        for key, rid, elapsed, status in r["results"]:
            for name in (key, "all"):
                row = rows.setdefault(name, {"client": [], "server": [], "errors": {}, "unlogged": 0})
                row["client"].append(elapsed)
                if status != 200:
                    row["errors"][status] = row["errors"].get(status, 0) + 1
                if times is not None:
                    if rid in times:
                        row["server"].append(times[rid])
                    else:
                        row["unlogged"] += 1
    out = {}
    for name, row in rows.items():
        out[name] = {"count": len(row["client"]), "errors": row["errors"], "unlogged": row["unlogged"],
                     "server": {q: percentile(row["server"], q) for q in (50, 95, 99)},
                     "client": {q: percentile(row["client"], q) for q in (50, 95, 99)},
                     "server_count": len(row["server"])}
    out["throughput"] = len(rows["all"]["client"]) / seconds if seconds and "all" in rows else 0.0
    return out


def spaced(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def report(args, osuus: dict, base: dict, notes: list[str], body_size: int, uses_log: bool, cpu: dict,
           measured: dict) -> None:
    members = round(args.sessions * args.members)
    print(f"\nWeb pages under load: {args.sessions} sessions on loopback ({args.sessions - members} host staff, "
          f"{members} members), {args.rounds} × {args.seconds:g} s per server, "
          f"interleaved; {spaced(args.events)} events; {args.workers} server processes each; "
          + (f"each session waits {args.think:g} s (±50 %) between pages" if args.think
             else "each session asks again at once"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
          f"{args.load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after (above the cores: other work shares "
          "them and skews the figures)")
    what = "server time (the request log's duration)" if uses_log else "client time on loopback (no server log)"
    print(f"ms: {what}; client p95 on loopback for comparison")
    print(f"{'page':<20}{'count':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'client p95':>12}{'errors':>8}  aim")
    keys = sorted((k for k in osuus if k not in ("all", "throughput")),
                  key=lambda k: ([p for p, _, _ in PAGES].index(k.split()[0]), k))
    missed = []
    for key in keys + ["all"]:
        f = osuus[key]
        figures = f["server"] if uses_log else f["client"]
        errors = sum(f["errors"].values())
        verdict = "met" if figures[95] < AIM_P95_MS else "NOT met"
        if key != "all" and verdict != "met":
            missed.append(key)
        print(f"{key:<20}{f['count']:>7}{figures[50]:>8.1f}{figures[95]:>8.1f}{figures[99]:>8.1f}"
              f"{f['client'][95]:>12.1f}{errors:>8}  {verdict if key != 'all' else ''}")
    b = base.get("all")
    if b:
        print(f"{'bare server':<20}{b['count']:>7}{b['client'][50]:>8.1f}{b['client'][95]:>8.1f}"
              f"{b['client'][99]:>8.1f}{b['client'][95]:>12.1f}{sum(b['errors'].values()):>8}  "
              f"(client times; {spaced(body_size)} bytes of HTML)")
        ratio = osuus["all"]["client"][95] / b["client"][95] if b["client"][95] else float("nan")
        print(f"client p95: osuus {osuus['all']['client'][95]:.1f} ms, bare server {b['client'][95]:.1f} ms "
              f"(× {ratio:.1f})")
    print(f"throughput: osuus {osuus['throughput']:.0f} pages/s, bare server {base.get('throughput', 0):.0f} "
          f"requests/s")
    for name, label in (("osuus", "osuus"), ("baseline", "bare")):
        used, wall = cpu[name]
        answered = sum(len(r["results"]) for r in measured[name])  # counted ones: the CPU is of the whole round
        if wall:
            print(f"CPU of the {label} server during its rounds: {used / wall:.2f} of {os.cpu_count()} cores, "
                  f"about {used / max(1, answered) * 1000:.1f} ms per counted request")
    print(f"aim (p95 < {AIM_P95_MS:.0f} ms per page): " + ("met by every page" if not missed
                                                           else "NOT met by " + ", ".join(missed)))
    errors = {k: osuus[k]["errors"] for k in keys if osuus[k]["errors"]}
    if errors:
        print(f"errors (status: count; 0 = no answer): {errors}")
    unlogged = osuus["all"]["unlogged"] if uses_log else 0
    if unlogged:
        print(f"{unlogged} requests have no line in the server's log (not counted in the server times)")
    for note in notes:
        print(f"note: {note}")


# --------------------------------------------------------------------------
# the profile of one page
# --------------------------------------------------------------------------

def profile(url: str, folk: list[dict], numbers: dict[str, list[str]], pages: list, page: str, repeat: int,
            top: int) -> None:
    """Pages asked `repeat` times each in this process (no server, no load): the time and CPU
    each takes, then a cProfile of `page` (with 'all': of the slowest). The app runs in this
    thread: httpx's ASGI transport, and the routes' thread-pool calls made inline, so that
    cProfile sees every call (it profiles one thread)."""
    import anyio.to_thread
    import httpx

    from osuus.api.settings import Settings
    from osuus.web.app import create_app

    async def inline(func, *args, **_):
        return func(*args)

    anyio.to_thread.run_sync = inline  # starlette.concurrency.run_in_threadpool calls it by this name
    if page != "all" and page.split()[0] not in [p for p, _, _ in pages]:
        raise SystemExit(f"no page {page!r}: one of {', '.join(p for p, _, _ in pages)}, optionally followed by "
                         "host or member, or all")
    wanted = [(name, kind, candidates) for name, who, candidates in pages
              for kind in (("host", "member") if who == "both" else (who,))
              if page == "all" or (name == page.split()[0] and (" " not in page or page.split()[1] == kind))]
    if page != "all" and " " not in page:
        wanted = wanted[:1]
    app = create_app(Settings(database_url=url))

    async def measure() -> list[dict]:
        found = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
            for name, kind, candidates in wanted:
                person = next((p for p in folk if p["who"] == kind), None)
                if person is None:
                    continue
                cookie = {"Cookie": f"{COOKIE}={person['token']}"}
                for template in candidates:
                    paths = fill(template, *reach(person, numbers))
                    if paths and (await http.get(paths[0], headers=cookie)).status_code == 200:
                        break
                else:
                    print(f"{name} ({kind}): no 200 at {', '.join(candidates)}: skipped")
                    continue
                rng = random.Random(1)
                for _ in range(3):  # warm: templates compiled, caches filled, connections opened
                    await http.get(rng.choice(paths), headers=cookie)
                walls, cpus, profiler = [], [], cProfile.Profile()
                for profiled in (False, True):
                    for _ in range(repeat):
                        path = rng.choice(paths)
                        wall, cpu = time.perf_counter(), time.process_time()
                        if profiled:
                            profiler.enable()
                        answer = await http.get(path, headers=cookie)
                        if profiled:
                            profiler.disable()
                        else:
                            walls.append(time.perf_counter() - wall)
                            cpus.append(time.process_time() - cpu)
                        if answer.status_code != 200:
                            raise SystemExit(f"{path}: {answer.status_code}")
                found.append({"page": f"{name} {kind}", "person": person["name"], "size": len(answer.content),
                              "wall": statistics.median(walls), "cpu": statistics.median(cpus),
                              "profiler": profiler})
        return found

    found = asyncio.run(measure())
    if not found:
        raise SystemExit("no page to profile")
    print(f"\nin this process, one request at a time, {repeat} requests each (medians, without the profiler):")
    print(f"{'page':<20}{'ms':>8}{'CPU ms':>9}{'bytes':>9}")
    for f in found:
        print(f"{f['page']:<20}{f['wall'] * 1000:>8.1f}{f['cpu'] * 1000:>9.1f}{f['size']:>9}")
    slowest = max(found, key=lambda f: f["wall"])
    print(f"\nprofile of {slowest['page']} (as {slowest['person']}), {repeat} requests:")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(slowest["profiler"], stream=out).sort_stats(order).print_stats(top)
        text = out.getvalue().replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "")
        print(f"\n--- top {top} by {order} ---")
        print(text.split("\n\n", 1)[-1].strip())


# --------------------------------------------------------------------------

def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        child_load(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="See the module's docstring (top of bench/bench_web.py) for the method.")
    parser.add_argument("--events", type=int, default=1_000_000, help="service events in the year (default 1 000 000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured round (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server, interleaved (default 3)")
    parser.add_argument("--sessions", type=int, default=SESSIONS, help="concurrent signed-in sessions (default 50)")
    parser.add_argument("--members", type=float, default=0.5,
                        help="the share of sessions that are member municipalities' users (default 0.5)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds a session waits between pages (default 1; 0: the next page at once)")
    parser.add_argument("--workers", type=int, default=2, help="server processes of each server (default 2)")
    parser.add_argument("--server", choices=("uvicorn", "osuus-serve"), default="uvicorn",
                        help="how osuus is started: uvicorn with create_app and each worker's request log (default),"
                             " or `osuus serve` (its workers log their requests too)")
    parser.add_argument("--keep", type=Path, help="a folder to keep the ledger in (and reuse it)")
    parser.add_argument("--path", action="append", default=[], metavar="PAGE=PATH",
                        help="load PAGE (year, home, agreement, invoices, invoice, report) at PATH instead, e.g. "
                             "invoice=/areas/{area}/invoices/{number} ({area}, {number}, {code} filled in)")
    parser.add_argument("--pages", default=",".join(p for p, _, _ in PAGES),
                        help="the pages loaded, comma-separated (default all: %(default)s)")
    parser.add_argument("--profile", metavar="PAGE",
                        help="instead of the load: time PAGE ('invoice', 'invoice member', or 'all' pages) one "
                             "request at a time in this process and print a cProfile of it (of the slowest)")
    parser.add_argument("--repeat", type=int, default=20, help="requests of each profiled page (default 20)")
    parser.add_argument("--top", type=int, default=25, help="functions shown of the profile (default 25)")
    args = parser.parse_args()
    if args.sessions < 1 or not 0 <= args.members <= 1:
        parser.error("--sessions at least 1, --members between 0 and 1")
    names = [p for p, _, _ in PAGES]
    asked = [name.strip() for name in args.pages.split(",") if name.strip()]
    if not asked or any(name not in names for name in asked):
        parser.error(f"--pages {args.pages}: expected some of {', '.join(names)}")
    pages = [entry for entry in PAGES if entry[0] in asked]
    for given in args.path:
        name, _, path = given.partition("=")
        index = next((i for i, e in enumerate(pages) if e[0] == name), None)
        if index is None or not path.startswith("/"):
            parser.error(f"--path {given}: expected PAGE=/path with PAGE one of {', '.join(p for p, _, _ in pages)}")
        pages[index] = (name, pages[index][1], (path,))

    args.load_before = os.getloadavg()[0]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="osuus-bench-web-"))
    folder.mkdir(parents=True, exist_ok=True)
    url, _ = build_ledger(folder, args.events)
    folk = people(args.sessions, args.members)
    numbers = add_people(url, folk)
    started = time.perf_counter()
    fresh = sign_in(url, folk, folder / f"web-{args.events}-sessions.json")
    print(f"{len(folk)} people signed in ({fresh} new sessions) in {time.perf_counter() - started:.0f} s", flush=True)
    if args.profile:
        profile(url, folk, numbers, pages, args.profile, args.repeat, args.top)
        return

    osuus_port, base_port = free_port(), free_port()
    log_file = folder / f"web-{os.getpid()}.log"
    servers = [start_osuus(url, osuus_port, args.workers, folder, log_file, args.server)]
    try:
        chosen, notes, bodies = choose_pages(osuus_port, folk, numbers, tuple(pages))
        if not chosen:
            raise SystemExit("no page answers 200: " + "; ".join(notes))
        body = sorted(bodies, key=len)[len(bodies) // 2]
        body_file = folder / "web-body.html"
        body_file.write_bytes(body)
        plan_file = folder / "web-plan.json"
        plan_file.write_text(json.dumps(make_plan(folk, numbers, chosen)))
        servers.append(start_bare(body_file, base_port, args.workers))
        run_load(plan_file, osuus_port, 3, 0, 0.0)  # warm-up (untimed): every worker's templates and caches
        measured: dict[str, list[dict]] = {"osuus": [], "baseline": []}
        cpu = {"osuus": [0.0, 0.0], "baseline": [0.0, 0.0]}  # CPU seconds of the server, wall seconds
        for index in range(args.rounds):
            for name, port, process in (("osuus", osuus_port, servers[0]), ("baseline", base_port, servers[1])):
                before, began = cpu_seconds(process.pid), time.perf_counter()
                measured[name].append(run_load(plan_file, port, args.seconds, index + 1, args.think))
                after = cpu_seconds(process.pid)
                if before is not None and after is not None:
                    cpu[name][0] += after - before
                    cpu[name][1] += time.perf_counter() - began
                print(f"round {index + 1} {name}: done", flush=True)
    finally:
        for process in servers:
            stop(process)
    times = server_times(log_file)
    uses_log = bool(times) and any(rid in times for r in measured["osuus"] for _, rid, _, _ in r["results"])
    osuus = summarise(measured["osuus"], times if uses_log else None)
    base = summarise(measured["baseline"], None)
    report(args, osuus, base, notes, len(body), uses_log, cpu, measured)
    log_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
