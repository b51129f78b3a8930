"""Your own checks without forking, the pytest ecosystem's two ways: classes in conftest.py
(or a module named in the ini), and an installed package's entry point. Each pytester run is
a subprocess: a check registered in this process would outlive the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

CHECK = '''
from harness.checks import Check, CheckContext, Verdict


class NoBigOrders(Check):
    """No order of more than ``limit`` units reaches the inventory."""

    key = "no_big_orders"
    limit: int = 100

    def evaluate(self, ctx: CheckContext) -> Verdict:
        big = [e.id for e in ctx.tool_events() if e.data.get("operation") == "create_order"
               and int((e.data.get("arguments") or {}).get("quantity", 0)) > self.limit]
        return self.verdict(not big, f"{len(big)} orders over {self.limit}" if big
                            else "no big orders", big)
'''

AGENTS = '''
import json, urllib.request

def small(task, env):
    return "nothing to order"

def big(task, env):
    body = json.dumps({"sku": "COAT-01", "quantity": 5000, "warehouse": "BER"}).encode()
    req = urllib.request.Request(env.tool_urls["inventory"] + "/tools/create_order", data=body,
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
    return "ordered"
'''

SCENARIO = """\
version: 1
name: orders
category: data_integrity
timeout: 20
task: "Reorder coats."
tools: [inventory]
llm:
  - text: "done"
goal: {answer_given: {}}
expect:
  - no_big_orders: {limit: 500}
  - terminates: {}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(myagents=AGENTS)
    (pytester.path / "scen").mkdir()
    (pytester.path / "scen" / "orders.yaml").write_text(SCENARIO)
    return pytester


def verdicts(path: Path) -> dict[str, bool]:
    runs = json.loads(path.read_text())["runs"]
    return {r["agent"]: next(v["passed"] for v in r["verdicts"] if v["check"] == "no_big_orders")
            for r in runs}


def run(project: pytest.Pytester, ini: str = "") -> pytest.RunResult:
    project.makeini(INI + "chaos_paths = scen\nchaos_agents =\n    small=myagents:small\n"
                    "    big=myagents:big\n" + ini)
    out = project.path / "results.json"
    return project.runpytest_subprocess("--chaos", f"--chaos-results={out}",
                                        f"--chaos-report={project.path / 'r.html'}", "-p",
                                        "no:cacheprovider")


def test_a_check_in_conftest(project: pytest.Pytester) -> None:
    project.makeconftest(CHECK)
    result = run(project)
    result.assert_outcomes(passed=1, failed=1)
    assert verdicts(project.path / "results.json") == {"small": True, "big": False}
    result.stdout.fnmatch_lines(["*no_big_orders*1 orders over 500*"])


def test_a_check_in_a_module_named_in_the_ini(project: pytest.Pytester) -> None:
    project.makepyfile(shopchecks=CHECK)
    result = run(project, "chaos_extensions = shopchecks\n")
    result.assert_outcomes(passed=1, failed=1)
    assert verdicts(project.path / "results.json") == {"small": True, "big": False}


def test_a_check_from_an_installed_packages_entry_point(project: pytest.Pytester,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    site = project.path / "site"
    (site / "shopchecks").mkdir(parents=True)
    (site / "shopchecks" / "__init__.py").write_text(CHECK)
    info = site / "shopchecks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shopchecks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pytest_agent_chaos]\nshop = shopchecks\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), *sys.path]))
    result = run(project)
    result.assert_outcomes(passed=1, failed=1)
    assert verdicts(project.path / "results.json") == {"small": True, "big": False}
    # The command line sees it too: in the list and in the scenarios' JSON Schema.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    listed = subprocess.run([sys.executable, "-m", "harness.cli", "list", "checks"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert "  no_big_orders            No order of more than ``limit`` units" in listed.stdout
    schema = subprocess.run([sys.executable, "-m", "harness.cli", "schema"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert '"no_big_orders"' in schema.stdout
    valid = subprocess.run([sys.executable, "-m", "harness.cli", "validate", "scen"],
                           capture_output=True, text=True, env=env, timeout=60,
                           cwd=project.path)
    assert valid.returncode == 0, valid.stderr


def test_a_key_defined_twice_names_both(project: pytest.Pytester) -> None:
    project.makeconftest(CHECK.replace('key = "no_big_orders"', 'key = "terminates"'))
    result = run(project)
    assert result.ret != 0
    result.stderr.fnmatch_lines([
        "*check 'terminates' is registered twice: by harness.checks.terminates.Terminates and "
        "by conftest.NoBigOrders; give one of them another key*"])


def test_an_extension_that_does_not_import_is_a_usage_error(project: pytest.Pytester) -> None:
    result = run(project, "chaos_extensions = nosuchmodule\n")
    assert result.ret == 4  # usage error
    result.stderr.fnmatch_lines(["*the extension module 'nosuchmodule' could not be imported: "
                                 "ModuleNotFoundError*"])
