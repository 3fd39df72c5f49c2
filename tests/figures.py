"""The figures SECURITY.md §5 asks the suite to print, tallied by the tests that produce them.

A test calls `figures.tally("CSRF", attempts=47, refused=47)`; counts add up across
tests, parametrisations and pytest-xdist workers, and the end of the run prints one line per figure
(docs/security.md explains each).  Only what a test really checked is counted.
"""
from collections import defaultdict

import pytest

_TALLIES = defaultdict(lambda: defaultdict(int))


class Figures:
    def tally(self, name, **counts):
        for key, value in counts.items():
            _TALLIES[name][key] += int(value)


@pytest.fixture(scope="session")
def figures():
    return Figures()


def pytest_terminal_summary(terminalreporter):
    if not _TALLIES:
        return
    terminalreporter.section("security and reliability figures (docs/security.md)")
    for name in sorted(_TALLIES):
        counts = ", ".join(f"{key} {value}" for key, value in _TALLIES[name].items())
        terminalreporter.write_line(f"{name}: {counts}")


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands its tallies to the controller, which prints the summary."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["figures"] = {name: dict(counts) for name, counts in _TALLIES.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist, on the controller: add a finished worker's tallies to the run's."""
    for name, counts in getattr(node, "workeroutput", {}).get("figures", {}).items():
        Figures().tally(name, **counts)
