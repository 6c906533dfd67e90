from osuus.agreement.toml_lines import index_lines

TEXT = '''# comment
[agreement]
id = "x"

[municipalities]
"Pälkäne" = { code = "635" }
Akaa = { code = "020" }

[keys.pop.values]
Akaa = 1
"Pälkäne" = [
  1, 2,
]
after = 3

[[reductions]]
municipality = "Akaa"

[[reductions]]
municipality = "Pälkäne"
'''


def test_lines_of_keys():
    ix = index_lines(TEXT)
    assert ix.line_of(("agreement", "id")) == 3
    assert ix.line_of(("municipalities", "Pälkäne")) == 6
    assert ix.line_of(("municipalities", "Pälkäne", "code")) == 6  # inline: the parent's line
    assert ix.line_of(("keys", "pop", "values", "Akaa")) == 10
    assert ix.line_of(("keys", "pop", "values", "after")) == 14  # a multi-line value is skipped over
    assert ix.line_of(("reductions", 1, "municipality")) == 20


def test_duplicates_found():
    ix = index_lines('[m]\nA = 1\nB = 2\nA = 3\n[m]\n')
    assert (("m", "A"), 4, 2) in ix.duplicates
    assert (("m",), 5, 1) in ix.duplicates
