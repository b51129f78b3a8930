"""The pytest plugin (entry point ``pytest11: agent_chaos``): options, markers and hooks only.
Everything else is delegated to ``harness._pytest``; nothing heavy is imported here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._pytest.options import add_options

if TYPE_CHECKING:
    from ._pytest.fixture import Chaos


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chaos: a chaos scenario run (runs only with --chaos)")
    from ._pytest.session import ChaosSession


    ChaosSession.install(config)
    if config.getoption("chaos"):
        from .errors import ChaosError

        try:
            ChaosSession.get(config).load_extensions()
        except ChaosError as exc:
            raise pytest.UsageError(str(exc)) from None


# pytest-xdist's hook: optional, so pytest runs without xdist installed.
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:  # same seed on every worker
    from ._pytest.session import ChaosSession

    session = ChaosSession.get(node.config)
    node.workerinput["agent_chaos_seed"] = session.seed
    node.workerinput["agent_chaos_invocation_dir"] = str(session.invocation_dir)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from ._pytest.session import ChaosSession

    return ChaosSession.get(config).header()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from ._pytest.session import ChaosSession

    return ChaosSession.get(parent.config).collect_file(file_path, parent)


def pytest_unconfigure(config: pytest.Config) -> None:
    from ._pytest.session import ChaosSession

    ChaosSession.uninstall(config)


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> Iterator[Chaos]:
    """Run scenarios against agents from a test: ``chaos.run(scenario, agent)`` returns a
    ``RunResult`` with the trace, the verdicts and the score."""
    from ._pytest.fixture import Chaos
    from ._pytest.session import ChaosSession

    yield Chaos(ChaosSession.get(request.config))
