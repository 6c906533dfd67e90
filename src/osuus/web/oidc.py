"""OpenID Connect sign-in for the municipalities that sign in with their own identity provider.

The providers are configured in a TOML file (`OSUUS_OIDC_CONFIG`, docs/oidc.md), read and
checked when the app is made (every problem of the file at once). `app.state.oidc` is the
`Registry` of them; pages/oidc.py has the two routes.

The flow is the authorization code flow with PKCE (S256), a `state` and a `nonce`. What the
callback needs to check the answer (the state, the nonce, the PKCE verifier, the redirect
address and where to go after) is kept in the browser in a short-lived cookie signed with a
key derived from the server's secret (`OSUUS_SECRET`; unset: a random key of the process, so
a sign-in must come back to the process that began it). A state is taken once: a second
callback with it is refused (in this process; the provider takes a code once, too).

Every check is made here, explicitly, and each refusal has its reason (`Refused.reason`),
which the page logs: the discovery document's `issuer` and the id_token's `iss` must equal
the configured issuer exactly (no trailing-slash or case leniency); the id_token's signature
is verified against the provider's JWKS with an asymmetric algorithm only; `aud` must hold
the client id (and `azp`, when there are other audiences, be it); `exp`, `iat` (and `nbf`)
must hold now, with a minute's leeway; the `nonce` must be the one sent; and the tenant
claim must equal the configured tenant. Authlib makes the PKCE challenge and verifies the
JWS (authlib.jose, which Authlib keeps until 2.0).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

from osuus.access import Role
from osuus.api.auth import AREA_PATTERN
from osuus.problems import Problem, ProblemsError

FLOW_COOKIE = "osuus_oidc"
FLOW_PATH = "/login/oidc"
#: A sign-in must come back from the provider within this many seconds.
FLOW_LIFETIME = 600
#: Clock skew allowed between the provider and this server, in seconds.
LEEWAY = 60
#: An id_token issued longer ago than this (seconds) is not taken: the code flow's are fresh.
MAX_TOKEN_AGE = 600
#: The discovery document and the keys are kept this long (seconds); unknown keys are
#: looked for again at most every KEYS_REFETCH seconds (a provider rotated its keys).
DISCOVERY_TTL = 3600
KEYS_REFETCH = 60
HTTP_TIMEOUT = 10.0
#: Only asymmetric signatures: a provider's public key can never be taken as an HMAC secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
TOKEN_AUTH = ("client_secret_basic", "client_secret_post")
DEFAULT_SCOPES = ("openid", "profile")
PROVIDER_KEYS = {"name", "label", "issuer", "client_id", "client_secret", "client_secret_env", "scopes", "token_auth",
                 "area", "tenant_claim", "tenant", "role", "municipality", "roles"}
RULE_KEYS = {"claim", "value", "role", "municipality"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


# --------------------------------------------------------------------------
# the configuration
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class RoleRule:
    """A role given to whoever's `claim` is `value` (or a list holding it)."""

    claim: str
    value: str
    role: Role
    municipality: str | None = None


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    area: str
    tenant_claim: str
    tenant: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    token_auth: str = "client_secret_basic"
    role: Role | None = None  # given to everyone of the provider
    municipality: str | None = None
    rules: tuple[RoleRule, ...] = ()

    def roles_for(self, claims: Mapping[str, Any]) -> tuple[tuple[Role, str | None], ...]:
        """The roles in the area that a person with these claims has: the provider's own, and
        those of each rule whose claim holds its value."""
        found = [(self.role, self.municipality)] if self.role is not None else []
        for rule in self.rules:
            value = claims.get(rule.claim)
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and v == rule.value for v in values):
                found.append((rule.role, rule.municipality))
        return tuple(dict.fromkeys(found))


def _url_problem(text: Any) -> str | None:
    """Why `text` is not an address a provider may have: https, or http on this machine only."""
    if not isinstance(text, str) or not text:
        return "expected an https:// address"
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return f"expected an https:// address, found {text!r}"
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)):
        return f"expected an https:// address (http only on this machine), found {text!r}"
    if parts.query or parts.fragment:
        return f"expected an address without ?query or #fragment, found {text!r}"
    return None


def _role_of(entry: Mapping, where: str, problems: list[Problem], file: str) -> tuple[Role | None, str | None]:
    from osuus.services.accounts import role_problems

    text, municipality = entry.get("role"), entry.get("municipality")
    if municipality is not None and not isinstance(municipality, str):
        problems.append(Problem(f"expected a municipality's three-digit code as text (\"020\"), found "
                                f"{municipality!r}", file=file, key=f"{where}.municipality", code="oidc.municipality"))
        return None, None
    try:
        role = Role(text)
    except ValueError:
        problems.append(Problem(f"expected a role, one of {', '.join(r.value for r in Role)}, found {text!r}",
                                file=file, key=f"{where}.role", code="oidc.role"))
        return None, None
    for problem in role_problems(role, municipality, key=f"{where}.municipality"):
        problems.append(Problem(problem.message, file=file, key=problem.key, code="oidc.municipality"))
    return role, municipality


def _text(entry: Mapping, name: str, where: str, problems: list[Problem], file: str, *,
          required: bool = True, limit: int = 200) -> str | None:
    value = entry.get(name)
    if value is None:
        if required:
            problems.append(Problem(f"expected `{name}`", file=file, key=f"{where}.{name}", code="oidc.missing"))
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        problems.append(Problem(f"expected text of 1–{limit} characters, found {value!r}"[:300], file=file,
                                key=f"{where}.{name}", code="oidc.text"))
        return None
    return value


def _provider(entry: Any, index: int, names: set[str], env: Mapping[str, str], file: str,
              problems: list[Problem]) -> Provider | None:
    from osuus.services.identities import PROVIDER_NAME

    where = f"providers[{index}]"
    if not isinstance(entry, dict):
        problems.append(Problem("expected a table ([[providers]])", file=file, key=where, code="oidc.provider"))
        return None
    before = len(problems)
    name = entry.get("name")
    if isinstance(name, str) and PROVIDER_NAME.match(name):
        if name in names:
            problems.append(Problem(f"a provider is named {name!r} already", file=file, key=f"{where}.name",
                                    code="oidc.name-taken"))
        else:
            names.add(name)
            where = f"providers.{name}"
    else:
        problems.append(Problem(f"expected a name of 1–30 lowercase letters, digits and - (it goes into the sign-in "
                                f"address and the users' names), found {name!r}", file=file, key=f"{where}.name",
                                code="oidc.name"))
    for unknown in sorted(set(entry) - PROVIDER_KEYS):
        problems.append(Problem(f"unknown key `{unknown}` (expected {', '.join(sorted(PROVIDER_KEYS))})", file=file,
                                key=f"{where}.{unknown}", code="oidc.unknown-key"))
    label = _text(entry, "label", where, problems, file, limit=100)
    issuer = entry.get("issuer")
    wrong = _url_problem(issuer)
    if wrong:
        problems.append(Problem(wrong, file=file, key=f"{where}.issuer", code="oidc.issuer"))
    client_id = _text(entry, "client_id", where, problems, file, limit=500)
    secret = None
    if ("client_secret" in entry) == ("client_secret_env" in entry):
        problems.append(Problem("expected one of `client_secret` and `client_secret_env` (the name of an environment "
                                "variable holding the secret)", file=file, key=f"{where}.client_secret",
                                code="oidc.secret"))
    elif "client_secret" in entry:
        secret = _text(entry, "client_secret", where, problems, file, limit=2000)
    else:
        variable = _text(entry, "client_secret_env", where, problems, file, limit=200)
        if variable is not None:
            secret = env.get(variable, "").strip() or None
            if secret is None:
                problems.append(Problem(f"the environment variable {variable} holds no secret", file=file,
                                        key=f"{where}.client_secret_env", code="oidc.secret-env"))
    scopes = entry.get("scopes", list(DEFAULT_SCOPES))
    if not (isinstance(scopes, list) and all(isinstance(s, str) and s and " " not in s for s in scopes)
            and "openid" in scopes):
        problems.append(Problem(f"expected a list of scopes holding \"openid\", found {scopes!r}", file=file,
                                key=f"{where}.scopes", code="oidc.scopes"))
    token_auth = entry.get("token_auth", TOKEN_AUTH[0])
    if token_auth not in TOKEN_AUTH:
        problems.append(Problem(f"expected one of {', '.join(TOKEN_AUTH)}, found {token_auth!r}", file=file,
                                key=f"{where}.token_auth", code="oidc.token-auth"))
    area = entry.get("area")
    if not (isinstance(area, str) and re.match(AREA_PATTERN, area)):
        problems.append(Problem(f"expected the code of an area (such as pirkanmaa), found {area!r}", file=file,
                                key=f"{where}.area", code="oidc.area"))
    tenant_claim = _text(entry, "tenant_claim", where, problems, file, limit=100)
    tenant = _text(entry, "tenant", where, problems, file, limit=500)
    role = municipality = None
    if "role" in entry:
        role, municipality = _role_of(entry, where, problems, file)
    elif "municipality" in entry:
        problems.append(Problem("`municipality` goes with `role = \"member\"`", file=file,
                                key=f"{where}.municipality", code="oidc.municipality"))
    rules = []
    table = entry.get("roles", [])
    if not isinstance(table, list):
        problems.append(Problem("expected a list of tables ([[providers.roles]])", file=file, key=f"{where}.roles",
                                code="oidc.rules"))
        table = []
    for i, rule in enumerate(table, start=1):
        at = f"{where}.roles[{i}]"
        if not isinstance(rule, dict):
            problems.append(Problem("expected a table with claim, value and role", file=file, key=at,
                                    code="oidc.rules"))
            continue
        for unknown in sorted(set(rule) - RULE_KEYS):
            problems.append(Problem(f"unknown key `{unknown}` (expected {', '.join(sorted(RULE_KEYS))})", file=file,
                                    key=f"{at}.{unknown}", code="oidc.unknown-key"))
        claim = _text(rule, "claim", at, problems, file, limit=100)
        value = _text(rule, "value", at, problems, file, limit=500)
        rule_role, rule_municipality = _role_of(rule, at, problems, file)
        if claim and value and rule_role:
            rules.append(RoleRule(claim, value, rule_role, rule_municipality))
    if "role" not in entry and not table:
        problems.append(Problem("expected `role` (everyone of the provider), `[[providers.roles]]` (by a claim), "
                                "or both: a sign-in must map to a role in the area", file=file, key=f"{where}.role",
                                code="oidc.no-role"))
    if len(problems) > before:
        return None
    return Provider(name=name, label=label, issuer=issuer, client_id=client_id, client_secret=secret, area=area,
                    tenant_claim=tenant_claim, tenant=tenant, scopes=tuple(scopes), token_auth=token_auth, role=role,
                    municipality=municipality, rules=tuple(rules))


@dataclass(frozen=True)
class Config:
    providers: tuple[Provider, ...]
    #: this server's public address (required with providers): the provider's redirect address is
    #: made from it, never from a request's Host header, which whoever sends the request chooses
    redirect_base: str | None = None


def parse_config(data: Mapping[str, Any], *, file: str = "", env: Mapping[str, str] | None = None) -> Config:
    """The providers of a configuration read from TOML; every problem at once (ProblemsError)."""
    env = os.environ if env is None else env
    problems: list[Problem] = []
    for unknown in sorted(set(data) - {"providers", "redirect_base"}):
        problems.append(Problem(f"unknown key `{unknown}` (expected providers, redirect_base)", file=file,
                                key=unknown, code="oidc.unknown-key"))
    base = data.get("redirect_base")
    if base is None:
        problems.append(Problem("expected `redirect_base`, this server's public address (such as "
                                "https://osuus.example.fi): the address the provider sends people back to is "
                                "made from it", file=file, key="redirect_base", code="oidc.redirect-base"))
    else:
        wrong = _url_problem(base)
        if wrong:
            problems.append(Problem(wrong, file=file, key="redirect_base", code="oidc.redirect-base"))
    entries = data.get("providers")
    if not isinstance(entries, list) or not entries:
        problems.append(Problem("expected at least one provider ([[providers]])", file=file, key="providers",
                                code="oidc.providers"))
        entries = []
    names: set[str] = set()
    providers = [_provider(entry, i, names, env, file, problems) for i, entry in enumerate(entries, start=1)]
    if problems:
        raise ProblemsError(problems)
    return Config(tuple(providers), base.rstrip("/") if isinstance(base, str) else None)


def load_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> Config:
    """The configuration file `path` (TOML), checked."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProblemsError([Problem(f"cannot read the file: {exc.strerror or exc}", file=str(path),
                                     key="OSUUS_OIDC_CONFIG", code="oidc.file")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProblemsError([Problem(f"not TOML: {exc}", file=str(path), code="oidc.toml")]) from None
    return parse_config(data, file=str(path), env=env)


# --------------------------------------------------------------------------
# refusals
# --------------------------------------------------------------------------

#: reason -> (status, catalogue key of the page)
REASONS = {
    "state-missing": (401, "web.oidc.refused_state"),
    "state-invalid": (401, "web.oidc.refused_state"),
    "state-expired": (401, "web.oidc.refused_state"),
    "state-mismatch": (401, "web.oidc.refused_state"),
    "state-replayed": (401, "web.oidc.refused_state"),
    "idp-error": (401, "web.oidc.refused_idp"),
    "code-missing": (401, "web.oidc.refused_idp"),
    "token-refused": (401, "web.oidc.refused_idp"),
    "discovery-issuer": (401, "web.oidc.refused_issuer"),
    "discovery-invalid": (401, "web.oidc.refused_token"),
    "pkce": (401, "web.oidc.refused_token"),
    "issuer": (401, "web.oidc.refused_issuer"),
    "tenant": (401, "web.oidc.refused_tenant"),
    "token-invalid": (401, "web.oidc.refused_token"),
    "keys": (401, "web.oidc.refused_token"),
    "algorithm": (401, "web.oidc.refused_token"),
    "signature": (401, "web.oidc.refused_token"),
    "audience": (401, "web.oidc.refused_token"),
    "azp": (401, "web.oidc.refused_token"),
    "expired": (401, "web.oidc.refused_token"),
    "issued-at": (401, "web.oidc.refused_token"),
    "not-before": (401, "web.oidc.refused_token"),
    "nonce": (401, "web.oidc.refused_token"),
    "at-hash": (401, "web.oidc.refused_token"),
    "subject": (401, "web.oidc.refused_token"),
    "no-role": (403, "web.oidc.no_access"),
    "account": (403, "web.oidc.no_access"),
    "unreachable": (502, "web.oidc.unavailable"),
}


class Refused(Exception):
    """A sign-in refused: `reason` (logged, one of REASONS), what is known of the token
    (`issuer`, `tenant`, `sub`: the only contents ever logged) and a detail for the log."""

    def __init__(self, reason: str, *, issuer: str | None = None, tenant: str | None = None, sub: str | None = None,
                 detail: str = ""):
        super().__init__(reason)
        self.reason, self.issuer, self.tenant, self.sub, self.detail = reason, issuer, tenant, sub, detail
        self.status, self.key = REASONS[reason]


# --------------------------------------------------------------------------
# the id_token
# --------------------------------------------------------------------------

def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token_header(id_token: Any) -> dict:
    """The JOSE header of a compact JWS (a JWE or anything else refused)."""
    parts = id_token.split(".") if isinstance(id_token, str) else []
    if len(parts) != 3:
        raise Refused("token-invalid", detail="not a signed JWT")
    try:
        header = json.loads(_b64decode(parts[0]))
    except (ValueError, binascii.Error):
        raise Refused("token-invalid", detail="the header is not JSON") from None
    if not isinstance(header, dict):
        raise Refused("token-invalid", detail="the header is not an object")
    if header.get("alg") not in ALGORITHMS:
        raise Refused("algorithm", detail=f"alg {str(header.get('alg'))[:20]!r}")
    return header


def _jose():
    with warnings.catch_warnings():  # authlib.jose is deprecated in favour of joserfc, kept until Authlib 2
        import authlib.deprecate  # noqa: F401 (its import makes its warnings "always": ignored after it)

        warnings.simplefilter("ignore")
        from authlib.jose import JsonWebKey, JsonWebToken
        from authlib.jose.errors import JoseError
    return JsonWebKey, JsonWebToken, JoseError


def _signed_claims(id_token: str, header: dict, jwks: Mapping) -> dict:
    """The claims of `id_token`, its signature verified with a key of `jwks` (its `kid`'s)."""
    JsonWebKey, JsonWebToken, JoseError = _jose()
    keys = [k for k in (jwks.get("keys") if isinstance(jwks, Mapping) else None) or []
            if isinstance(k, dict) and k.get("kty") in ("RSA", "EC") and k.get("use", "sig") == "sig"]
    kid = header.get("kid")
    candidates = [k for k in keys if k.get("kid") == kid] if kid is not None else keys
    if not candidates:
        raise Refused("signature", detail=f"no key {str(kid)[:40]!r} in the provider's keys")
    decoder = JsonWebToken(list(ALGORITHMS))
    for found in candidates[:20]:
        try:
            key = JsonWebKey.import_key(found)
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        try:
            claims = decoder.decode(id_token, key)
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        return dict(claims)
    raise Refused("signature", detail="no key of the provider verifies the signature")


def _half_hash(value: str, alg: str) -> str:
    digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[alg[-3:]](value.encode()).digest()
    return _b64encode(digest[:len(digest) // 2])


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_claims(provider: Provider, claims: Mapping[str, Any], *, nonce: str, alg: str, now: float,
                 access_token: str | None = None) -> None:
    """Each claim an id_token of `provider` must have, checked explicitly (Refused with the reason)."""
    iss, tenant, sub = claims.get("iss"), claims.get(provider.tenant_claim), claims.get("sub")
    known = {"issuer": str(iss)[:200] if iss is not None else None,
             "tenant": str(tenant)[:200] if tenant is not None else None,
             "sub": str(sub)[:200] if sub is not None else None}
    if iss != provider.issuer:
        raise Refused("issuer", **known)
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if provider.client_id not in audiences:
        raise Refused("audience", **known)
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != provider.client_id:
        raise Refused("azp", **known)
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if not _number(exp) or exp <= now - LEEWAY:
        raise Refused("expired", **known)
    if not _number(iat) or iat > now + LEEWAY or iat < now - MAX_TOKEN_AGE - LEEWAY:
        raise Refused("issued-at", **known)
    if nbf is not None and (not _number(nbf) or nbf > now + LEEWAY):
        raise Refused("not-before", **known)
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise Refused("nonce", **known)
    at_hash = claims.get("at_hash")
    if at_hash is not None and access_token and at_hash != _half_hash(access_token, alg):
        raise Refused("at-hash", **known)
    if not isinstance(tenant, str) or not hmac.compare_digest(tenant.encode(), provider.tenant.encode()):
        raise Refused("tenant", **known)
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise Refused("subject", **known)


def verify_id_token(provider: Provider, id_token: str, jwks: Mapping, *, nonce: str, now: float | None = None,
                    access_token: str | None = None) -> dict:
    """The claims of an id_token that `provider` signed for this client and this sign-in."""
    header = token_header(id_token)
    claims = _signed_claims(id_token, header, jwks)
    check_claims(provider, claims, nonce=nonce, alg=header["alg"], now=time.time() if now is None else now,
                 access_token=access_token)
    return claims


def display_name(claims: Mapping[str, Any]) -> str:
    """What a person is called (`name`, else given and family name); masked and cut by the use case."""
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name
    parts = [claims.get("given_name"), claims.get("family_name")]
    return " ".join(p for p in parts if isinstance(p, str) and p.strip())


def language(claims: Mapping[str, Any]) -> str | None:
    locale = claims.get("locale")
    if isinstance(locale, str) and locale[:2].lower() in ("fi", "sv", "en"):
        return locale[:2].lower()
    return None


# --------------------------------------------------------------------------
# the providers of a server, and the flow
# --------------------------------------------------------------------------

@dataclass
class Flow:
    """What the callback checks the provider's answer against (kept in the signed cookie)."""

    provider: str
    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    next: str
    expires: float


class Registry:
    """The configured providers, their discovery documents and keys (kept a while), and the
    signing of the flow cookie. `providers` is what the sign-in page lists."""

    def __init__(self, providers: tuple[Provider, ...] | list[Provider] = (), *, secret: str | bytes | None = None,
                 redirect_base: str | None = None):
        if providers and not redirect_base:
            raise ValueError("providers need redirect_base, this server's public address")
        self.providers = list(providers)
        self.redirect_base = redirect_base.rstrip("/") if redirect_base else None
        seed = secret.encode("utf-8") if isinstance(secret, str) else secret or secrets.token_bytes(32)
        self._key = hmac.new(seed, b"osuus-oidc-flow", hashlib.sha256).digest()
        self._discovery: dict[str, tuple[dict, float]] = {}
        self._keys: dict[str, tuple[dict, float]] = {}
        self._used: dict[str, float] = {}
        self._tls = None

    def _client(self):
        """An HTTP client for a provider: the system's trusted certificates (one TLS context for
        all: making one reads them all), no redirects followed, a timeout."""
        import httpx

        if self._tls is None:
            import ssl

            self._tls = ssl.create_default_context()
        return httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False, verify=self._tls)

    @classmethod
    def from_settings(cls, settings) -> "Registry":
        """The providers of `settings.oidc_config` (none when unset), signing with `settings.secret`."""
        path = getattr(settings, "oidc_config", None)
        config = load_config(path) if path else Config(())
        return cls(config.providers, secret=getattr(settings, "secret", None), redirect_base=config.redirect_base)

    def get(self, name: str) -> Provider | None:
        return next((p for p in self.providers if p.name == name), None)

    def forget(self) -> None:
        """Drop the discovery documents and keys kept (fetched again at the next sign-in)."""
        self._discovery.clear()
        self._keys.clear()

    # -- the flow cookie ---------------------------------------------------------------
    def seal(self, flow: Flow) -> str:
        payload = _b64encode(json.dumps(flow.__dict__, separators=(",", ":")).encode("utf-8"))
        mac = _b64encode(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())
        return f"{payload}.{mac}"

    def open(self, value: str | None) -> Flow:
        """The flow of a cookie this server signed (Refused: none, forged or expired)."""
        if not value:
            raise Refused("state-missing", detail="no sign-in under way in this browser")
        payload, _, mac = value.partition(".")
        expected = _b64encode(hmac.new(self._key, payload.encode("ascii", "replace"), hashlib.sha256).digest())
        if not hmac.compare_digest(mac.encode("ascii", "replace"), expected.encode("ascii")):
            raise Refused("state-invalid", detail="the sign-in cookie is not this server's")
        try:
            flow = Flow(**json.loads(_b64decode(payload)))
        except (ValueError, TypeError, binascii.Error):
            raise Refused("state-invalid", detail="the sign-in cookie cannot be read") from None
        if flow.expires < time.time():
            raise Refused("state-expired")
        return flow

    def take_state(self, state: str, expires: float) -> None:
        """Mark a state used; Refused when it was (a callback replayed)."""
        at = time.time()
        for old in [k for k, until in self._used.items() if until < at]:
            del self._used[old]
        key = hashlib.sha256(state.encode("utf-8")).hexdigest()
        if key in self._used:
            raise Refused("state-replayed")
        self._used[key] = expires

    # -- the provider's documents -------------------------------------------------------
    async def _get_json(self, url: str) -> Any:
        import httpx

        try:
            async with self._client() as client:
                answer = await client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Refused("unreachable", detail=f"{type(exc).__name__} from {url}") from None
        if answer.status_code != 200:
            raise Refused("unreachable", detail=f"HTTP {answer.status_code} from {url}")
        try:
            return answer.json()
        except ValueError:
            raise Refused("discovery-invalid", detail=f"no JSON from {url}") from None

    async def discovery(self, provider: Provider) -> dict:
        """The provider's discovery document: its `issuer` exactly the configured one, its
        endpoints https, PKCE S256 among its methods (when it lists them)."""
        kept = self._discovery.get(provider.name)
        if kept is not None and kept[1] > time.time():
            return kept[0]
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = await self._get_json(url)
        if not isinstance(doc, dict):
            raise Refused("discovery-invalid", detail="the discovery document is not an object")
        if doc.get("issuer") != provider.issuer:
            raise Refused("discovery-issuer", issuer=str(doc.get("issuer"))[:200])
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            wrong = _url_problem(doc.get(name))
            if wrong:
                raise Refused("discovery-invalid", detail=f"{name}: {wrong}"[:300])
        methods = doc.get("code_challenge_methods_supported")
        if methods is not None and "S256" not in (methods if isinstance(methods, list) else []):
            raise Refused("pkce", detail="the provider does not list PKCE S256")
        self._discovery[provider.name] = (doc, time.time() + DISCOVERY_TTL)
        return doc

    async def jwks(self, provider: Provider, doc: dict, kid: str | None) -> dict:
        """The provider's keys; fetched again when `kid` is not among them (at most every
        KEYS_REFETCH seconds)."""
        at = time.time()
        kept = self._keys.get(provider.name)
        if kept is not None:
            keys, fetched = kept
            known = {k.get("kid") for k in keys.get("keys", []) if isinstance(k, dict)}
            if at < fetched + DISCOVERY_TTL and (kid is None or kid in known or at < fetched + KEYS_REFETCH):
                return keys
        keys = await self._get_json(doc["jwks_uri"])
        if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
            raise Refused("keys", detail="the provider's JWKS is not a key set")
        self._keys[provider.name] = (keys, at)
        return keys

    # -- the flow ------------------------------------------------------------------------
    async def begin(self, provider: Provider, redirect_uri: str, next_: str, ui_locale: str = "") -> tuple[str, str]:
        """The address of the provider's sign-in, and the flow cookie's value."""
        from authlib.common.urls import add_params_to_uri
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        doc = await self.discovery(provider)
        flow = Flow(provider=provider.name, state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                    verifier=secrets.token_urlsafe(64), redirect_uri=redirect_uri, next=next_,
                    expires=time.time() + FLOW_LIFETIME)
        params = [("response_type", "code"), ("client_id", provider.client_id), ("redirect_uri", redirect_uri),
                  ("scope", " ".join(provider.scopes)), ("state", flow.state), ("nonce", flow.nonce),
                  ("code_challenge", create_s256_code_challenge(flow.verifier)), ("code_challenge_method", "S256")]
        if ui_locale:
            params.append(("ui_locales", ui_locale))
        return add_params_to_uri(doc["authorization_endpoint"], params), self.seal(flow)

    async def _token(self, provider: Provider, doc: dict, code: str, flow: Flow) -> dict:
        import httpx

        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
                "code_verifier": flow.verifier}
        headers = {"Accept": "application/json"}
        if provider.token_auth == "client_secret_post":
            data.update(client_id=provider.client_id, client_secret=provider.client_secret)
        else:  # RFC 6749 2.3.1: each form-encoded before joining
            pair = f"{quote(provider.client_id, safe='')}:{quote(provider.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        try:
            async with self._client() as client:
                answer = await client.post(doc["token_endpoint"], data=data, headers=headers)
        except httpx.HTTPError as exc:
            raise Refused("unreachable", detail=f"{type(exc).__name__} from the token endpoint") from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code != 200:
            error = body.get("error") if isinstance(body, dict) else None
            raise Refused("token-refused", detail=f"HTTP {answer.status_code} {str(error)[:40]}".strip())
        if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            raise Refused("token-invalid", detail="the token answer holds no id_token")
        return body

    async def finish(self, provider: Provider, query: Mapping[str, str], cookie: str | None) -> tuple[dict, Flow]:
        """The verified claims of the person the provider sent back, and the flow (Refused
        with the reason, whatever is wrong)."""
        flow = self.open(cookie)
        state = query.get("state")
        if flow.provider != provider.name:
            raise Refused("state-mismatch", detail=f"the sign-in began with {flow.provider[:30]!r}")
        if not state:
            raise Refused("state-missing", detail="the provider's answer has no state")
        if not hmac.compare_digest(state.encode("utf-8"), flow.state.encode("utf-8")):
            raise Refused("state-mismatch")
        self.take_state(flow.state, flow.expires)
        if query.get("error"):
            raise Refused("idp-error", detail=str(query.get("error"))[:40])
        code = query.get("code")
        if not code:
            raise Refused("code-missing")
        doc = await self.discovery(provider)
        answer = await self._token(provider, doc, code, flow)
        id_token = answer["id_token"]
        header = token_header(id_token)
        keys = await self.jwks(provider, doc, header.get("kid"))
        access_token = answer.get("access_token") if isinstance(answer.get("access_token"), str) else None
        claims = verify_id_token(provider, id_token, keys, nonce=flow.nonce, access_token=access_token)
        return claims, flow
