"""Headless Chromium driven over the DevTools protocol, for the tests that need a real browser.

Chromium speaks the protocol over a pipe (`--remote-debugging-pipe`: it reads commands from its
fd 3 and writes answers and events to its fd 4, each message JSON ended by a NUL), so no port
and no websocket client are needed. Every host but 127.0.0.1 resolves to nothing and every
request but to loopback goes to a proxy that is not there: a page it loads has no network but
this machine's."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

# Debian's package first, as .ci/run installs it; the others are what GitHub's runners have.
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# A port nothing listens on: a request that is not to loopback fails at once.
_NO_PROXY = "127.0.0.1:9"
_OPTIONS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    f"--proxy-server={_NO_PROXY}",
    "--proxy-bypass-list=127.0.0.1",
    "--remote-debugging-pipe",
)


class ProtocolError(Exception):
    pass


class Page:
    """One tab: commands to it, and the events it has sent so far (`events`, in order)."""

    def __init__(self, commands: int, answers: int) -> None:
        self._commands = commands
        self._answers = answers
        self._ids = count(1)
        self._pending = b""
        self.session = ""
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, timeout: float = 10, **params: Any) -> dict[str, Any]:
        """The result of one command (to the tab once `session` is set, else to the browser)."""
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            for received in self._receive(remaining):
                if received.get("id") != message_id:
                    continue
                if "error" in received:
                    raise ProtocolError(f"{method}: {received['error']}")
                result: dict[str, Any] = received["result"]
                return result
        raise TimeoutError(f"Chromium did not answer {method} within {timeout} s")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise ProtocolError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float) -> Any:
        """The first truthy value of `expression`, polled until `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            self._receive(0.05)  # takes in the events meanwhile, and waits a little
        raise TimeoutError(f"not within {timeout} s: {expression}")

    def _receive(self, timeout: float) -> list[dict[str, Any]]:
        """The messages that arrive within `timeout` seconds, perhaps none; the events among
        them are kept in `events`."""
        if b"\0" not in self._pending:
            ready, _, _ = select.select([self._answers], [], [], timeout)
            if ready:
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    raise ProtocolError("Chromium closed its end of the pipe")
                self._pending += chunk
        *complete, self._pending = self._pending.split(b"\0")
        messages = [json.loads(m) for m in complete]
        self.events += [m for m in messages if "method" in m]
        return messages


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A blank tab of a new headless Chromium with a profile of its own, closed on exit; its
    requests are recorded (Network.requestWillBeSent events), as is what it logs."""
    binary = find_browser()
    assert binary, f"none of {', '.join(BROWSERS)} is installed"
    command_read, command_write = os.pipe()
    answer_read, answer_write = os.pipe()
    with tempfile.TemporaryDirectory(prefix="conduit-chromium-") as profile:
        # bash puts the pipes where Chromium looks for them, fds 3 and 4.
        shell = f'exec "$0" "$@" 3<&{command_read} 4>&{answer_write}'
        browser = subprocess.Popen(  # noqa: S603 - Chromium from PATH, fixed options
            ["bash", "-c", shell, binary, *_OPTIONS, f"--user-data-dir={profile}"],  # noqa: S607
            pass_fds=(command_read, answer_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(command_read)
        os.close(answer_write)
        try:
            page = Page(command_write, answer_read)
            target = page.send("Target.createTarget", timeout=30, url="about:blank")["targetId"]
            page.session = page.send("Target.attachToTarget", targetId=target, flatten=True)[
                "sessionId"
            ]
            for domain in ("Network", "Runtime", "Log", "Page"):
                page.send(f"{domain}.enable")
            yield page
        finally:
            os.close(command_write)  # Chromium exits when its end of the pipe closes
            try:
                browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                browser.kill()
                browser.wait()
            os.close(answer_read)
