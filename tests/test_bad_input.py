"""Bad agreement files: every problem is reported with its file and line, exit 2, nothing written.

Each case starts from the shipped agreement, changes it by a string
replacement and writes it to a temporary folder; then both `osuus check BAD`
and `osuus allocate BAD --format xlsx --output OUT.xlsx` must
- exit with status 2 (not 1, not a crash),
- name the file and the right line (found in the modified text, not hard-coded),
- say what was expected,
- print no traceback,
- write no output file (nor leave a temporary one behind).

The matrix runs in-process through Typer's CliRunner (quick); a few cases run
the real program in a subprocess as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

BAD_NAME = "bad.toml"
OUT_NAME = "out.xlsx"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def modify(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        assert text.count(old) == 1, f"the shipped agreement should hold {old!r} exactly once"
        text = text.replace(old, new)
    return text


def line_of(text: str, marker: str) -> int:
    """The (1-based) number of the one line of `text` that contains `marker`."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(found) == 1, f"{marker!r} is on lines {found}; make the marker unique"
    return found[0]


def write_bad(tmp_path: Path, text: str) -> Path:
    bad = tmp_path / BAD_NAME
    bad.write_text(text, encoding="utf-8")
    return bad


def problem_lines(stderr: str, bad: Path, line: int) -> list[str]:
    prefix = f"{bad}:{line}:"
    return [entry for entry in stderr.splitlines() if entry.startswith(prefix)]


def assert_nothing_written(tmp_path: Path, keep: set[str]) -> None:
    assert not (tmp_path / OUT_NAME).exists(), "an output file was written for a bad input"
    assert {p.name for p in tmp_path.iterdir()} == keep, "a stray (temporary?) file was left behind"


def commands(bad: Path, tmp_path: Path) -> list[tuple]:
    return [("check", bad), ("allocate", bad, "--format", "xlsx", "--output", tmp_path / OUT_NAME)]


def run_rejected(invoke_cli, bad: Path, tmp_path: Path, problems: list[tuple[int, list[str]]],
                 count: int | None = None) -> None:
    """Both commands refuse `bad`, each `(line, [texts])` of `problems` is reported on one stderr line."""
    for args in commands(bad, tmp_path):
        code, stdout, stderr, exc = invoke_cli(*args)
        context = f"osuus {' '.join(map(str, args))}\n--- stderr:\n{stderr}"
        assert exc is None or isinstance(exc, SystemExit), f"crashed with {exc!r}\n{context}"
        assert code == 2, context
        assert "Traceback" not in stdout + stderr, context
        for line, texts in problems:
            entries = problem_lines(stderr, bad, line)
            assert entries, f"no problem reported at {bad}:{line}\n{context}"
            assert any(all(t in e for t in texts) for e in entries), f"line {line}: expected {texts}\n{context}"
        if count is not None:
            assert f"({count} problem{'s' if count != 1 else ''}; nothing was written.)" in stderr, context
        assert "nothing was written" in stderr, context
        assert_nothing_written(tmp_path, {bad.name})


# ---------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------

@dataclass
class Case:
    replacements: list[tuple[str, str]]
    marker: str  # a text found on exactly the line the problem must be reported at (in the modified file)
    expected: list[str] = field(default_factory=list)  # texts that must be on that problem's line
    first_marker: str = ""  # where "{first}" in `expected` points: the line of the first definition


MIX_KEY = """[keys.sekoitus]
kind = "mix"
label = "Sekoitus"
weights = { asukasluku = "50 %", ulkomaalaiset = "40 %" }
reference = "Testi: painot eivät ole yhteensä 100 %"

[keys.valmennettavat]"""

AKAA = '"Akaa"            = { code = "020", name_sv = "Ackas",           business_id = "2050864-5" }\n'

CASES = {
    "toml_syntax_error": Case(
        [("year = 2021", "year = = 2021")], "year = = 2021",
        ["TOML syntax error", "Invalid value"]),
    "unknown_municipality_in_count_table": Case(
        [('"Akaa" = 45\n', '"Akaa" = 45\n"Helsinki" = 3\n')], '"Helsinki" = 3',
        ["[keys.ulkomaalaiset.values.Helsinki]", "unknown municipality 'Helsinki'", "expected one of"]),
    "missing_population": Case(
        [('"Orivesi" = 9_158\n', "")], "[keys.asukasluku.values]",
        ["missing value for Orivesi", "every municipality needs one"]),
    "negative_cost": Case(
        [("value = 70_801,", "value = -70_801,")], "value = -70_801,",
        ["[components.ict.cost", "expected an amount in euros that is not negative", "-70801"]),
    "reduction_over_100_percent": Case(
        [('rate = "20 %"', 'rate = "120 %"')], 'rate = "120 %"',
        ["[reductions.0.rate]", "expected a rate of at most 100 %", "120 %"]),
    "mixed_key_weights_not_1": Case(
        [("[keys.valmennettavat]", MIX_KEY)], "weights = { asukasluku",
        ["[keys.sekoitus.weights]", "must add up to 1", "90"]),
    "duplicated_municipality_name": Case(
        [(AKAA, AKAA + '"Akaa"            = { code = "021", name_sv = "Ackas" }\n')], '"Akaa"            = { code = "021"',
        ["'Akaa' is defined twice", "(first at line {first})"], first_marker='business_id = "2050864-5"'),
    "duplicated_municipality_code": Case(
        [('"Ylöjärvi"        = { code = "980"', '"Ylöjärvi"        = { code = "020"')], '= { code = "020", name_sv = "Ylöjärvi"',
        ["duplicated municipality", "code 020 is already used by Akaa"]),
    "host_not_a_municipality": Case(
        [('host = "Tampere"', 'host = "Helsinki"')], 'host = "Helsinki"',
        ["[agreement.host]", "'Helsinki' is not one of the municipalities", "expected one of"]),
    "unknown_component_in_table": Case(
        [('components = ["mainio", "alkukartoitus",', 'components = ["mainio", "alkukartoitusx",')],
        '"alkukartoitusx"',
        ["[tables.maahanmuuttajapalvelut.components]", "unknown component 'alkukartoitusx'", "expected one of"]),
    "unknown_component_in_reduction": Case(
        [('components = ["johtaminen", "ict", "perehdytys", "viestinta"]\nabsorbed_by',
          'components = ["johtaminen", "itc", "perehdytys", "viestinta"]\nabsorbed_by')], '"itc"',
        ["[reductions.0.components]", "unknown component 'itc'", "expected one of"]),
    "unknown_key_of_a_pool": Case(
        [('key = "ulkomaalaiset"', 'key = "ulkomaalaset"')], 'key = "ulkomaalaset"',
        ["[components.mainio.key]", "unknown key 'ulkomaalaset'", "expected one of", "ulkomaalaiset"]),
    "unknown_field_typo": Case(
        [("cost = { value = 62_620", "cots = { value = 62_620")], "cots = { value = 62_620",
        ["[components.viestinta.cots]", "unknown field 'cots'", "expected one of", "cost"]),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_refused_with_its_line(case: Case, agreement_text, tmp_path, invoke_cli):
    text = modify(agreement_text, case.replacements)
    bad = write_bad(tmp_path, text)
    expected = case.expected
    if case.first_marker:
        expected = [e.format(first=line_of(text, case.first_marker)) for e in expected]
    run_rejected(invoke_cli, bad, tmp_path, [(line_of(text, case.marker), expected)])


# ---------------------------------------------------------------------------
# several problems at once: every one is reported in one run
# ---------------------------------------------------------------------------

THREE_PROBLEMS = {
    "cost_key_reduction": [
        (("value = 70_801,", "value = -70_801,"), "value = -70_801,", "not negative"),
        (('key = "ulkomaalaiset"', 'key = "ulkomaalaset"'), 'key = "ulkomaalaset"', "unknown key 'ulkomaalaset'"),
        (('rate = "20 %"', 'rate = "120 %"'), 'rate = "120 %"', "at most 100 %"),
    ],
    "duplicate_host_field": [
        (('"Akaa" = 16_475\n', '"Akaa" = 16_475\n"Akaa" = 16_476\n'), '"Akaa" = 16_476', "'Akaa' is defined twice"),
        (('host = "Tampere"', 'host = "Tamperee"'), 'host = "Tamperee"', "'Tamperee' is not one of"),
        (('title = "Kuntien maksuosuudet 2021"', 'titel = "Kuntien maksuosuudet 2021"'), "titel =",
         "unknown field 'titel'"),
    ],
}


@pytest.mark.parametrize("problems", list(THREE_PROBLEMS.values()), ids=list(THREE_PROBLEMS))
def test_three_problems_reported_at_once(problems, agreement_text, tmp_path, invoke_cli):
    text = modify(agreement_text, [replacement for replacement, _, _ in problems])
    bad = write_bad(tmp_path, text)
    expected = [(line_of(text, marker), [message]) for _, marker, message in problems]
    assert len({line for line, _ in expected}) == 3
    run_rejected(invoke_cli, bad, tmp_path, expected, count=3)


def test_three_problems_end_to_end(agreement_text, tmp_path, run_cli):
    """The same, through the real program: a process, its exit status and its stderr."""
    problems = THREE_PROBLEMS["cost_key_reduction"]
    text = modify(agreement_text, [replacement for replacement, _, _ in problems])
    bad = write_bad(tmp_path, text)
    for args in commands(bad, tmp_path):
        code, stdout, stderr = run_cli(*args)
        assert code == 2, stderr
        assert "Traceback" not in stdout + stderr
        for _, marker, message in problems:
            assert any(message in e for e in problem_lines(stderr, bad, line_of(text, marker))), stderr
        assert "(3 problems; nothing was written.)" in stderr
        assert_nothing_written(tmp_path, {bad.name})


def test_syntax_error_and_duplicate_both_reported(agreement_text, tmp_path, invoke_cli):
    text = modify(agreement_text, [
        ("year = 2021", "year = = 2021"),
        ('"Akaa" = 16_475\n', '"Akaa" = 16_475\n"Akaa" = 16_476\n'),
    ])
    bad = write_bad(tmp_path, text)
    run_rejected(invoke_cli, bad, tmp_path, [
        (line_of(text, "year = = 2021"), ["TOML syntax error"]),
        (line_of(text, '"Akaa" = 16_476'), ["'Akaa' is defined twice"]),
    ], count=2)


# ---------------------------------------------------------------------------
# files that cannot be read
# ---------------------------------------------------------------------------

def test_missing_file(tmp_path, run_cli):
    missing = tmp_path / "no-such-agreement.toml"
    for args in commands(missing, tmp_path):
        code, stdout, stderr = run_cli(*args)
        assert code == 2, stderr
        assert "Traceback" not in stdout + stderr
        assert f"{missing}:" in stderr
        assert "file not found" in stderr
        assert not (tmp_path / OUT_NAME).exists()
    assert list(tmp_path.iterdir()) == []


def test_non_utf8_file(agreement_text, tmp_path, run_cli):
    bad = tmp_path / BAD_NAME
    bad.write_bytes(agreement_text.encode("cp1252"))  # 'ö', 'ä' as single Windows-1252 bytes
    for args in commands(bad, tmp_path):
        code, stdout, stderr = run_cli(*args)
        assert code == 2, stderr
        assert "Traceback" not in stdout + stderr
        assert f"{bad}:" in stderr
        assert "not UTF-8" in stderr
        assert_nothing_written(tmp_path, {bad.name})
