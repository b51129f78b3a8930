"""Your own checks, goals, model behaviours and faults, without forking.

A check (goal, behaviour, fault) is a class that subclasses ``Check`` (``Goal``, ``Turn``,
``Fault``) with a ``key``: defining it registers it, wherever it is defined. Three places are
read, all into the same registries, with the same error for a key defined twice:

- your ``conftest.py`` (pytest imports it before collecting the scenarios);
- modules named in the ini option ``chaos_extensions`` (or ``agent-chaos -x MODULE``);
- installed packages that declare an entry point in the group ``pytest_agent_chaos``
  (``[project.entry-points.pytest_agent_chaos] mychecks = "mypkg.checks"``), loaded by the
  pytest plugin and by every ``agent-chaos`` command.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib.metadata import entry_points

from .errors import ChaosError

GROUP = "pytest_agent_chaos"


def load_extensions(modules: Iterable[str] = ()) -> list[str]:
    """Import every entry point of the group and each module in ``modules``, so their classes
    register; the names loaded. ``ChaosError`` says which one could not be loaded and why."""
    # The built-in registries first, so that a clash names the built-in as the first owner.
    from . import checks, faults, goals  # noqa: F401
    from .llm import behaviours  # noqa: F401

    loaded = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            ep.load()
        except Exception as exc:
            raise ChaosError(f"the {GROUP} entry point {ep.name!r} ({ep.value}) could not be "
                             f"loaded: {type(exc).__name__}: {exc}") from exc
        loaded.append(f"{ep.name} ({ep.value})")
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:
            raise ChaosError(f"the extension module {module!r} could not be imported: "
                             f"{type(exc).__name__}: {exc}") from exc
        loaded.append(module)
    return loaded
