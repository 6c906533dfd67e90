"""A small agreement whose every billed figure is computed by hand, for the billing tests.

Host H (code 001), members A (002) and B (003); population H 50, A 30, B 20.
- p: pool 1 200 € by population, invoiced in advance: A 360 €/year, B 240 €/year.
- u: unit service 100 € each; t: tiered 10 € (year 1) / 20 € (year 2), tier 2 fixed;
  m: a pool billed per event at 8 €/hour. Travel: 40 €/day, 0,50 €/km.
"""

from osuus.agreement import parse_agreement

TEXT = """
[agreement]
id = "small-2025"
year = 2025
title = "Small"
host = "H"

[municipalities]
H = { code = "001" }
A = { code = "002" }
B = { code = "003" }

[keys.pop]
label = "Population"
reference = "k1"
values = { H = 50, A = 30, B = 20 }

[keys.cnt]
label = "Customers"
reference = "k2"
values = { H = 5, A = 2, B = 1 }

[components.p]
kind = "pool"
cost = 1200
key = "pop"
reference = "c-p"

[components.u]
kind = "unit"
price = 100
quantity = "cnt"
total_cost = 1000
remainder = "host"
reference = "c-u"

[components.t]
kind = "unit"
tiers = { 1 = 10, 2 = 20 }
tier = 2
quantity = "cnt"
total_cost = 500
remainder = "host"
reference = "c-t"

[components.m]
kind = "pool"
cost = 400
key = "pop"
reference = "c-m"

[tables.adv]
title = "Shared"
components = ["p"]

[tables.svc]
title = "Services"
components = ["u", "t", "m"]

[billing]
period = "month"
payment_terms_days = 14
advance = ["adv"]
reference = "settle-clause"

[billing.events.m]
unit = "tunti"
price = { value = 8, reference = "price-m" }

[billing.events.u]
unit = "kpl"

[billing.events.t]
unit = "asiakas"

[billing.travel]
per_diem = 40
km_rate = 0.5
reference = "travel"
"""


def small_agreement():
    agreement, problems = parse_agreement(TEXT, "small.toml")
    assert problems == [], problems
    return agreement
