"""``await chaos.arun(...)`` in pytest-asyncio tests: runs on worker threads, so the test's
event loop goes on and gathered runs overlap, in function and session loop scopes."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

ASYNC_TEST = '''
import asyncio
import time

import pytest

SLEEPY = {{"version": 1, "name": "sleepy", "category": "loop", "timeout": 2,
          "task": "Anything.", "tools": ["inventory"], "llm": [{{"text": "done"}}],
          "goal": {{"answer_given": {{}}}}, "expect": [{{"terminates": {{}}}}]}}
SLEEPER = "sleeper=tests.agents.runaway:sleeps_forever"


@pytest.mark.asyncio(loop_scope="{scope}")
async def test_gathered_runs_overlap_and_the_loop_goes_on(chaos):
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    await chaos.arun({{**SLEEPY, "timeout": 0.5}}, SLEEPER)  # the agent's fork server is up
    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    results = await asyncio.gather(*[chaos.arun(SLEEPY, SLEEPER, trial=n) for n in range(4)])
    wall = time.monotonic() - started
    ticker.cancel()
    assert [r.outcome.status for r in results] == ["timeout"] * 4
    assert [r.session_id for r in results] == [f"sleepy.sleeper.{{n}}" for n in range(4)]
    took = sum(r.outcome.duration for r in results)
    assert wall < 0.6 * took, (wall, took)  # about the slowest, not the sum
    assert ticks >= 0.5 * wall / 0.05, ticks  # the test's loop was never blocked


@pytest.mark.asyncio(loop_scope="{scope}")
async def test_a_cancelled_run_stops_its_agent(chaos):
    run = asyncio.create_task(chaos.arun({{**SLEEPY, "timeout": 60}}, SLEEPER))
    await asyncio.sleep(1.5)
    started = time.monotonic()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert time.monotonic() - started < 5  # not the 60 s time limit


@pytest.mark.asyncio(loop_scope="{scope}")
async def test_a_run_that_finds_a_breach_fails_the_test_as_run_does(chaos):
    result = await chaos.arun("winter-coats-in-july", "naive=examples.agents.naive:run")
    assert not result.passed
    with pytest.raises(AssertionError, match="business_bounds"):
        result.assert_resilient()
'''


@pytest.mark.parametrize("scope", ["function", "session"])
def test_arun_in_async_tests(pytester: pytest.Pytester, scope: str) -> None:
    pytester.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = {scope}\n"
                     "filterwarnings = error::ResourceWarning\n")
    pytester.makepyfile(test_async_user=ASYNC_TEST.format(scope=scope))
    result = pytester.runpytest("-p", "no:randomly", "-v")
    result.assert_outcomes(passed=3)
