"""A small OpenID Connect provider for the tests, served by uvicorn in a thread on a free
127.0.0.1 port: discovery, the keys (an RSA key made here), an authorization endpoint that
approves at once (sending back a code for `identity`) and a token endpoint that checks the
client, the code (once), the redirect address and the PKCE verifier (S256) and answers
with an id_token it signs.

The tests bend what it says: `discovery_overrides` (e.g. another `issuer`),
`token_overrides` (claims of the id_token replaced; None removes one), `sign_with_other_key`
(a key of the same `kid` that its JWKS does not hold), `deny` (the person refuses).
`reset()` puts it back.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

with warnings.catch_warnings():
    import authlib.deprecate  # noqa: F401 (its import makes its warnings "always": ignored after it)

    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, JsonWebToken

KID = "test-key-1"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    nonce: str | None
    claims: dict
    used: bool = False


@dataclass
class TestProvider:
    clients: dict[str, str]  # client id -> secret
    identity: dict = field(default_factory=dict)  # the claims of whoever signs in next
    discovery_overrides: dict = field(default_factory=dict)
    token_overrides: dict = field(default_factory=dict)
    sign_with_other_key: bool = False
    deny: bool = False
    issuer: str = ""
    authorize_requests: list = field(default_factory=list)
    token_requests: list = field(default_factory=list)
    id_tokens: list = field(default_factory=list)

    __test__ = False  # not a test class, for pytest

    def __post_init__(self):
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": KID})
        self.other_key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": KID})
        self.grants: dict[str, Grant] = {}
        self.app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
        ])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._identity = dict(self.identity)

    def reset(self) -> None:
        self.identity = dict(self._identity)
        self.discovery_overrides, self.token_overrides = {}, {}
        self.sign_with_other_key = self.deny = False
        self.authorize_requests.clear()
        self.token_requests.clear()
        self.id_tokens.clear()

    # -- serving ---------------------------------------------------------------------------
    def start(self) -> "TestProvider":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_config=None, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OpenID Connect provider did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    # -- the endpoints -----------------------------------------------------------------------
    async def discovery(self, request: Request):
        doc = {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
               "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
               "response_types_supported": ["code"], "subject_types_supported": ["public"],
               "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
               "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]}
        doc.update(self.discovery_overrides)
        return JSONResponse(doc)

    async def jwks(self, request: Request):
        return JSONResponse({"keys": [self.key.as_dict(is_private=False) | {"use": "sig", "alg": "RS256"}]})

    async def authorize(self, request: Request):
        q = dict(request.query_params)
        self.authorize_requests.append(q)
        if q.get("response_type") != "code" or q.get("client_id") not in self.clients or not q.get("redirect_uri"):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if self.deny:
            back = {"error": "access_denied", "state": q.get("state", "")}
        else:
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(q["client_id"], q["redirect_uri"], q.get("code_challenge", ""),
                                      q.get("code_challenge_method", ""), q.get("nonce"), dict(self.identity))
            back = {"code": code, "state": q.get("state", "")}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(back)}", status_code=302)

    def _client(self, request: Request, form) -> str | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id if self.clients.get(client_id) == secret and secret else None

    async def token(self, request: Request):
        form = await request.form()
        self.token_requests.append({"form": dict(form), "basic": request.headers.get("authorization", "")
                                    .startswith("Basic ")})
        client_id = self._client(request, form)
        if client_id is None:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.get(form.get("code", ""))
        if (form.get("grant_type") != "authorization_code" or grant is None or grant.used
                or grant.client_id != client_id or grant.redirect_uri != form.get("redirect_uri")
                or grant.method != "S256" or s256(form.get("code_verifier", "")) != grant.challenge):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        grant.used = True
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": client_id, "iat": now, "exp": now + 300, "nonce": grant.nonce,
                  **grant.claims}
        for name, value in self.token_overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.other_key if self.sign_with_other_key else self.key
        id_token = JsonWebToken(["RS256"]).encode({"alg": "RS256", "kid": KID}, claims, key).decode("ascii")
        self.id_tokens.append(id_token)
        return JSONResponse({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                             "id_token": id_token})
