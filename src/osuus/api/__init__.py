"""The REST API of osuus (`/api/v1`, OpenAPI 3.1), served by `osuus serve`.

- `app`: `create_app(settings)`, the FastAPI app, and its route table
- `settings`: the one settings object, from the environment
- `auth`: who asks (a session or an API key) and what each route requires
- `problems`: every error as RFC 9457 problem details
- `idempotency`: `Idempotency-Key` on every POST
- `paging`, `etags`: lists by `limit` and `cursor`; documents with ETags
- `logs`: one structured line per request
- `ledgers`: the database's ledgers, shared by the requests
- `models`: the contract as pydantic models
- `routes`: one module per resource

Only `osuus serve` imports this package (FastAPI stays off the command line's start-up).
The routes parse, call the same use cases as the command line (osuus.services) and render
with the same JSON (osuus.render); they compute nothing themselves.
"""
