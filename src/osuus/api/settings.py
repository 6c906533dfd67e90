"""The server's settings: one frozen object, read once from the environment.

| variable | meaning | default |
|---|---|---|
| `OSUUS_DATABASE_URL` | the ledger: a SQLite file or a PostgreSQL URL | the SQLite file of the command line |
| `OSUUS_AREA` | the area `POST /api/v1/login` signs in to when the request names none | the only area |
| `OSUUS_HOST`, `OSUUS_PORT` | where `osuus serve` listens | `127.0.0.1`, `8000` |
| `OSUUS_LOG_FORMAT` | `json` (one object a line) or `text` | `json` |
| `OSUUS_SELF_APPROVAL` | `1`: a one-person test installation may approve its own drafts (recorded as such) | off |
| `OSUUS_OIDC_CONFIG` | a TOML file of the OpenID Connect providers users may sign in with (docs/oidc.md) | none |
| `OSUUS_TRUSTED_PROXIES` | addresses of the reverse proxies (comma-separated, or `*`) whose `X-Forwarded-Proto` and `X-Forwarded-For` the server believes: behind a proxy that ends TLS, pages then see the `https` address the browser used | none: no proxy trusted |
| `OSUUS_SECRET` | the server's secret (at least 32 characters): signs the sign-in flow's cookie; the same in every process | a random one per process |

`osuus serve --host --port --db --area` override the environment (`Settings.replace`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Mapping

from osuus.problems import Problem, ProblemsError

LOG_FORMATS = ("json", "text")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_WORKERS = 64
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
SECRET_MIN = 32


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None  # None: the command line's default file (osuus.store.db.resolve_url)
    area: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    log_format: str = "json"
    self_approval: bool = False
    workers: int = 1  # server processes (uvicorn's workers); each has its own engines
    oidc_config: str | None = None  # OSUUS_OIDC_CONFIG: the OpenID Connect providers (osuus.web.oidc)
    secret: str | None = field(default=None, repr=False)  # OSUUS_SECRET; None: a random one per process
    trusted_proxies: str | None = None  # OSUUS_TRUSTED_PROXIES: uvicorn's forwarded_allow_ips; None: no proxy

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """The settings of the environment; a bad value is refused with every problem at once."""
        env = os.environ if env is None else env
        problems: list[Problem] = []
        port = DEFAULT_PORT
        text = env.get("OSUUS_PORT", "").strip()
        if text:
            if text.isascii() and text.isdigit() and 0 < int(text) < 65536:
                port = int(text)
            else:
                problems.append(Problem(f"expected a port number from 1 to 65535, found {text!r}", key="OSUUS_PORT",
                                        code="settings.port"))
        workers = 1
        text = env.get("OSUUS_WORKERS", "").strip()
        if text:
            if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_WORKERS:
                workers = int(text)
            else:
                problems.append(Problem(f"expected a number of server processes from 1 to {MAX_WORKERS}, found "
                                        f"{text!r}", key="OSUUS_WORKERS", code="settings.workers"))
        log_format = env.get("OSUUS_LOG_FORMAT", "json").strip().lower() or "json"
        if log_format not in LOG_FORMATS:
            problems.append(Problem(f"expected one of {', '.join(LOG_FORMATS)}, found {log_format!r}",
                                    key="OSUUS_LOG_FORMAT", code="settings.log-format"))
        approval = env.get("OSUUS_SELF_APPROVAL", "").strip().lower()
        if approval not in _TRUE + _FALSE:
            problems.append(Problem(f"expected 1 or 0, found {approval!r}", key="OSUUS_SELF_APPROVAL",
                                    code="settings.self-approval"))
        secret = env.get("OSUUS_SECRET", "").strip() or None
        if secret is not None and len(secret) < SECRET_MIN:
            problems.append(Problem(f"expected a secret of at least {SECRET_MIN} characters, found {len(secret)}",
                                    key="OSUUS_SECRET", code="settings.secret"))
        if problems:
            raise ProblemsError(problems)
        return cls(database_url=env.get("OSUUS_DATABASE_URL", "").strip() or None,
                   area=env.get("OSUUS_AREA", "").strip() or None,
                   host=env.get("OSUUS_HOST", "").strip() or DEFAULT_HOST, port=port, log_format=log_format,
                   self_approval=approval in _TRUE, workers=workers,
                   oidc_config=env.get("OSUUS_OIDC_CONFIG", "").strip() or None, secret=secret,
                   trusted_proxies=env.get("OSUUS_TRUSTED_PROXIES", "").strip() or None)

    def replace(self, **changes) -> "Settings":
        """These settings with the values given (None leaves a value as it is)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
