"""`dua console user add` and `dua console` as processes: a user is created, the console
serves on DUA_CONSOLE_PORT, and that user signs in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _dua(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dua", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def test_add_a_user_and_serve(tmp_path: Path) -> None:
    """The user added on the command line signs in to the console that `dua console` serves."""
    port = _port()
    env = {**os.environ, "DUA_STATE_DIR": str(tmp_path), "DUA_CONSOLE_PORT": str(port)}
    assert _dua(["db", "migrate"], env).returncode == 0
    added = _dua(
        ["console", "user", "add", "boss", "--role", "admin", "--password-stdin"],
        env,
        "pw-long-enough-1\n",
    )
    assert added.returncode == 0, added.stderr
    short = _dua(
        ["console", "user", "add", "x", "--role", "auditor", "--password-stdin"], env, "short\n"
    )
    assert short.returncode == 2
    assert "at least 12 characters" in short.stderr
    server = subprocess.Popen(
        [sys.executable, "-m", "dua", "console"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the console did not answer"
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.3)
        opener = urllib.request.build_opener(_NoRedirect)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/login", data=b"name=boss&password=pw-long-enough-1"
        )
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(request, timeout=10)
        assert redirect.value.code == 303
        assert "httponly" in redirect.value.headers["set-cookie"].lower()
    finally:
        server.terminate()
        server.wait(timeout=30)
