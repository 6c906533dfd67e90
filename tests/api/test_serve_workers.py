"""`osuus serve --workers 2`: each worker process configures its own request log
(osuus.web.app.create_app_from_env), so that its requests are logged as with one process."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT, _env


def test_the_factory_configures_the_log_of_its_process(tmp_path, monkeypatch):
    from osuus.api import logs
    from osuus.store.db import upgrade
    from osuus.web.app import create_app_from_env

    url = f"sqlite:///{tmp_path / 'osuus.db'}"
    upgrade(url)
    monkeypatch.setenv("OSUUS_DATABASE_URL", url)
    monkeypatch.setenv("OSUUS_LOG_FORMAT", "text")
    logger = logging.getLogger(logs.LOGGER)
    before = logger.handlers[:], logger.propagate
    try:
        app = create_app_from_env()
        assert app.state.settings.database_url == url
        assert [type(h.formatter) for h in logger.handlers] == [logs.TextFormatter]
    finally:
        for name in (logs.LOGGER, "osuus.access", "uvicorn", "uvicorn.error"):
            logging.getLogger(name).handlers[:] = []
            logging.getLogger(name).propagate = True
        logger.handlers[:], logger.propagate = before
        app.state.ledgers.close()


def test_the_workers_log_their_requests(tmp_path, free_tcp_port):
    from osuus.store.db import upgrade

    url = f"sqlite:///{tmp_path / 'osuus.db'}"
    upgrade(url)
    env = {**_env(), "OSUUS_LOG_FORMAT": "json"}
    command = [sys.executable, "-m", "osuus", "serve", "--port", str(free_tcp_port), "--db", url, "--workers", "2"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(answers) < 4:
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{free_tcp_port}/api/v1/health", timeout=5).status_code)
            except httpx.TransportError:
                time.sleep(0.2)
    finally:
        os.kill(server.pid, signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert answers == [200] * 4
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    logged = [(line["path"], line["status"]) for line in lines if line.get("path")]
    assert logged == [("/api/v1/health", 200)] * 4
