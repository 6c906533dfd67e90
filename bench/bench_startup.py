"""How long the `osuus` command takes as a whole process, against a bare `python -c pass`.

Each command runs as a fresh process, the commands interleaved round by round in a
shuffled order (this machine is shared and noisy: interleaving exposes every command
to the same noise), and the medians and their ratios to the bare interpreter are
printed. Bytecode is compiled first and written (as an installed package has it):
the environment's PYTHONDONTWRITEBYTECODE is cleared for the runs.

    .venv/bin/python bench/bench_startup.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "pirkanmaa-2021.toml"
OSUUS = [sys.executable, "-m", "osuus"]

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "osuus --help": [*OSUUS, "--help"],
    "osuus allocate (the shipped agreement)": [*OSUUS, "allocate", str(AGREEMENT)],
    "osuus check (the shipped agreement)": [*OSUUS, "check", str(AGREEMENT)],
    "python -c 'import osuus.cli'": [sys.executable, "-c", "import osuus.cli"],
}
AIMS = {"osuus --help": 0.15, "osuus allocate (the shipped agreement)": 0.2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "src" / "osuus", quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT / "src")
    for command in COMMANDS.values():  # once each, to warm the caches of the file system
        subprocess.run(command, env=env, capture_output=True, check=True)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    rng = random.Random(1)
    for _ in range(args.rounds):
        names = list(COMMANDS)
        rng.shuffle(names)
        for name in names:
            start = time.perf_counter()
            subprocess.run(COMMANDS[name], env=env, capture_output=True, check=True)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["python -c pass"])
    print(f"{args.rounds} rounds, interleaved; median wall time of the whole process")
    print(f"{'command':42} {'median':>8} {'p90':>8} {'÷ python':>9} {'aim':>7}")
    for name, values in times.items():
        median = statistics.median(values)
        p90 = sorted(values)[int(0.9 * (len(values) - 1))]
        aim = f"< {AIMS[name]:.2f}" if name in AIMS else ""
        print(f"{name:42} {median:8.3f} {p90:8.3f} {median / base:8.1f}× {aim:>7}")


if __name__ == "__main__":
    main()
