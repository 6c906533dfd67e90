"""Reference data from Statistics Finland (StatFin, PxWeb API v1), with provenance.

The counts that cost-sharing keys divide by — population on 31 December,
unemployed jobseekers at the end of a month — for the members of an
agreement, each figure with its source: the table, the dataset's `updated`
time, when it was fetched (or which file it was imported from) and the query
that asked for it. See docs/refdata.md.

- `fetch_population(client, members, year)`: table vaerak/11ra, content
  vaerak-vaesto (population 31.12.).
- `fetch_jobseekers(client, members, months)`: table tyonv/12r5, content
  TYOTTOMATLOPUSSA (unemployed jobseekers at the end of the month);
  `year_end` and `average` make a key's figure of the month-ends.
- `fetch(client, spec, members, periods)`: any `TableSpec`.
- `import_file(path, spec, members)`, `import_files(paths, …)`: the same
  from saved JSON-stat2 answers (`fetch(…, save_to=folder)` keeps them) or
  PxWeb CSV exports, for a host without network access.
- `to_count_records(result)`: `osuus.billing.records.CountRecord` values.

Every function returns a `RefResult` (values, problems, members not found):
problems are values, never raised. `PxWebClient` (httpx) is imported only when
asked for, so that reading a saved file needs no HTTP library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from osuus.refdata.areas import Merger, municipality_code
from osuus.refdata.convert import average, exact_average, key_values_toml, to_count_records, with_key, year_end
from osuus.refdata.records import Provenance, RefResult, RefValue
from osuus.refdata.saved import import_bytes, import_file, import_files
from osuus.refdata.tables import JOBSEEKERS, POPULATION, SPECS, TableSpec

if TYPE_CHECKING:
    from osuus.refdata.client import Limits, PxWebClient
    from osuus.refdata.fetching import fetch, fetch_jobseekers, fetch_population

_LAZY = {"PxWebClient": "osuus.refdata.client", "Limits": "osuus.refdata.client",
         "fetch": "osuus.refdata.fetching", "fetch_population": "osuus.refdata.fetching",
         "fetch_jobseekers": "osuus.refdata.fetching"}

__all__ = ["JOBSEEKERS", "POPULATION", "SPECS", "Limits", "Merger", "Provenance", "PxWebClient", "RefResult",
           "RefValue", "TableSpec", "average", "exact_average", "fetch", "fetch_jobseekers", "fetch_population",
           "import_bytes", "import_file", "import_files", "key_values_toml", "municipality_code", "to_count_records", "with_key",
           "year_end"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'osuus.refdata' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
