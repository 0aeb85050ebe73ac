"""Fixtures for workshop mode: a server for the session, and extra servers with options."""
import pytest

from workshop_server import WorkshopServer


@pytest.fixture(scope="session")
def server():
    s = WorkshopServer()
    yield s
    assert s.stop() == 0, "Ctrl-C should stop the server cleanly"


@pytest.fixture
def make_server():
    """Starts extra servers with options; stops them at the end of the test."""
    started = []

    def make(*args, env=None):
        s = WorkshopServer(*args, env=env)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()

