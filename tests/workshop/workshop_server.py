"""A `csei workshop` server on a free loopback port for the tests, with a small HTTP client
(the standard library's http.client, so raw paths and headers reach the server as written)."""
import http.client
import json
import os
import pathlib
import signal
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "build" / "test-artifacts"


def csei_binary():
    path = pathlib.Path(os.environ.get("CSEI_BIN", REPO / "build" / "csei"))
    if not path.exists():
        pytest.fail(f"csei binary not found at {path}: build it first (scripts/build.sh)")
    return str(path)


class WorkshopServer:
    """A running `csei workshop --port 0`; stop() interrupts it like Ctrl-C."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen(
            [csei_binary(), "workshop", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        line = self.proc.stdout.readline()  # "csei workshop: open http://127.0.0.1:PORT/ ..."
        if "http://" not in line:
            self.proc.kill()
            raise RuntimeError(f"the server did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url = line.split("open ", 1)[1].split()[0]
        self.host, port = self.url.removeprefix("http://").rstrip("/").split(":")
        self.port = int(port)
        self.lines = [line]
        self.join_url = self.join_code = self.trainer_code = None

    def read_codes(self):
        """Reads the lines up to the trainer's ("... trainer view URL (trainer code CODE ...)"),
        with the join URL and code before it under --lan; returns those lines."""
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"no trainer code in {self.lines!r}")
            self.lines.append(line)
            if "participants join at " in line:
                self.join_url = line.split("join at ", 1)[1].split()[0]
                self.join_code = line.split("(join code ", 1)[1].split(")")[0]
            if "trainer view " in line:
                self.trainer_code = line.split("(trainer code ", 1)[1].split(":")[0]
                return self.lines

    def connection(self, timeout=30, source=None):
        """A connection to the server; with source (an address such as "127.0.0.2"), bound to
        that address, so the server sees another host."""
        return http.client.HTTPConnection(
            self.host, self.port, timeout=timeout,
            source_address=(source, 0) if source else None)

    def request(self, method, path, body=None, headers=None, timeout=30, source=None):
        """(status, headers, body bytes) of one request on a fresh connection."""
        conn = self.connection(timeout, source)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            return res.status, dict(res.getheaders()), res.read()
        finally:
            conn.close()

    def run(self, payload, **kw):
        """POST /api/run with payload (a dict, or raw str/bytes sent as they are)."""
        body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        status, headers, data = self.request(
            "POST", "/api/run", body, {"Content-Type": "application/json"}, **kw)
        return status, headers, json.loads(data) if data else None

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=20):
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code
