"""The HTML report in a real headless Chromium (Debian's, driven by playwright): it loads with
no network and no console error, shows results.json's numbers, reveals evidence on click,
filters, and shows hostile text as text. Without chromium these tests skip, unless
CHAOS_REQUIRE_BROWSER is set (CI sets it)."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness._pytest.report import build_results
from harness.report import render_html, write_html
from harness.runner import Runner

from .conftest import scenario_from

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

XSS = [
    "<script>window.__xss = 1</script>",
    "</script><script>window.__xss = 2</script>",
    '<img src=x onerror="window.__xss = 3">',
    '"><svg onload="window.__xss = 4">',
    "'><iframe srcdoc='<script>parent.__xss = 5</script>'></iframe>",
    '<a href="javascript:window.__xss = 6">click me</a>',
    "<!-- --><script>window.__xss = 7</script>",
    "{{ 7*7 }} {% if 1 %}jinja{% endif %}",
    "<style>body { display: none }</style>",
]
CORPUS = " ".join(XSS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        why = "needs playwright (pip) and Debian's chromium at /usr/bin/chromium"
        if os.environ.get("CHAOS_REQUIRE_BROWSER"):
            pytest.fail(f"CHAOS_REQUIRE_BROWSER is set but the browser tests {why}")
        pytest.skip(why)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def results(example_runs: Any) -> dict[str, Any]:
    runs = [example_runs(s, a).to_json()
            for s in ("payment-connection-reset", "retry-after-storm", "winter-coats-in-july")
            for a in ("guarded", "naive")]
    return build_results(runs, seed=0)


@pytest.fixture(scope="module")
def hostile(runner: Runner) -> dict[str, Any]:
    """A real run whose scenario text, tool data and agent answer carry XSS vectors."""
    scenario = scenario_from({
        "name": "hostile", "description": CORPUS,
        "llm": [{"tool_call": {"name": "create_order",
                               "arguments": {"sku": "COAT-01", "warehouse": "BER",
                                             "quantity": 1, "note": CORPUS}}},
                {"text": CORPUS}],
        "expect": [{"no_forbidden_call": {"tool": "create_order"}}, {"terminates": {}}],
    })
    run = runner.run(scenario, "naive=examples.agents.naive:run")
    assert run.outcome.output == CORPUS
    return build_results([run.to_json()], seed=0)


def open_page(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    return page, errors, requests


def test_page_loads_offline_shows_the_scoreboard_and_is_screenshot(
        browser: Any, results: dict[str, Any], tmp_path: Path) -> None:
    path = write_html(tmp_path / "index.html", results, min_score=80)
    page, errors, requests = open_page(browser, path)
    assert errors == []
    assert requests == [path.as_uri()]  # nothing but the file itself
    for agent, score in results["agents"].items():
        cell = page.locator(f"#scores tr.overall td[data-agent='{agent}']")
        assert cell.inner_text() == f"{score['score']:.1f}"
        for category, value in score["categories"].items():
            row = page.locator(f"#scores tr[data-category='{category}'] td[data-agent='{agent}']")
            assert row.inner_text() == f"{value:.1f}"
        lo, hi = score["interval"]
        assert page.locator(f"#scores tr.interval td[data-agent='{agent}']").inner_text() == \
            f"{lo:.1f}\u2013{hi:.1f}"
        weak = score["weakest"]
        assert page.locator(f"#scores tr.weakest td[data-agent='{agent}']").inner_text() == \
            (f"{', '.join(weak['categories'])} {weak['score']:.1f}" if weak["categories"]
             else "none")
        assert page.locator(f"#scores tr.breach-rate td[data-agent='{agent}']").inner_text() == \
            f"{score['breach_rate']:.1f}%"
        assert page.locator(f"#scores tr.goals td[data-agent='{agent}']").inner_text() == \
            f"{score['goals_met']}/{score['runs']}"
        assert page.locator(f"#scores tr.passed td[data-agent='{agent}']").inner_text() == \
            f"{score['passed']}/{score['runs']}"
        assert page.locator(f"#scores tr.critical td[data-agent='{agent}']").inner_text() == \
            str(score["critical_breaches"])
    gate = {a: page.locator(f"#scores tr.gate td[data-agent='{a}']").inner_text()
            for a in results["agents"]}
    assert gate == {"guarded": "pass", "naive": "fail"}
    box = page.locator("#scoreboard").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 800  # no scrolling needed
    shot = Path(os.environ.get("CHAOS_SCREENSHOT_DIR") or tmp_path) / "report-1280x800.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_why_block_names_what_failed_most_and_links_its_evidence(
        browser: Any, results: dict[str, Any], tmp_path: Path) -> None:
    page, errors, _ = open_page(browser, write_html(tmp_path / "index.html", results))
    why = page.locator("#why .why-agent[data-agent='naive']")
    first = why.locator("li.cause").first
    causes = why.locator("li.cause").all()
    assert len(causes) >= 2
    counts = [int(c.locator(".count").inner_text()) for c in causes]
    assert counts == sorted(counts, reverse=True)
    assert "guarded scores 100.0: every goal met, every check held" in \
        page.locator("#why .why-agent[data-agent='guarded']").inner_text()
    link = first.locator(".evidence a").first
    target = link.get_attribute("data-event")
    link.click()
    event = page.locator(f"[id='{target}']")
    assert event.get_attribute("class") == "event hl" and event.locator("pre").is_visible()
    # The why block sits right under the scoreboard.
    board, block = page.locator("#scoreboard").bounding_box(), why.bounding_box()
    assert board is not None and block is not None and block["y"] > board["y"]
    assert errors == []


def test_timeline_has_a_labelled_time_axis_and_evidence_wraps(
        browser: Any, results: dict[str, Any], tmp_path: Path) -> None:
    results = copy.deepcopy(results)
    run = next(r for r in results["runs"] if r["agent"] == "naive" and not r["passed"])
    verdict = next(v for v in run["verdicts"] if not v["passed"])
    verdict["evidence"] = [f"e{i}" for i in range(1, 400)]  # far more than a card is wide
    page, errors, _ = open_page(browser, write_html(tmp_path / "index.html", results))
    page.click(f"tr[data-scenario='{run['scenario']}'] button.bad")
    card = page.locator(f"[id='s-{run['scenario']}'] article.run.failed[data-agent='naive']")
    svg = card.locator("svg.timeline")
    lanes = [t.text_content() for t in svg.locator("text.lane").all()]
    assert lanes == ["llm", "tool", "approval", "fault"]
    ticks = [t.text_content() or "" for t in svg.locator("text.tick").all()]
    assert ticks[0] == "0 s" and len(ticks) >= 3 and all(t.endswith(" s") for t in ticks)
    evidence = card.locator(".failed-checks .evidence").first.bounding_box()
    box = card.bounding_box()
    assert evidence is not None and box is not None
    assert evidence["x"] + evidence["width"] <= box["x"] + box["width"] + 1
    assert errors == []


def test_clicking_a_failed_scenario_shows_its_evidence(browser: Any, results: dict[str, Any],
                                                       tmp_path: Path) -> None:
    page, errors, _ = open_page(browser, write_html(tmp_path / "index.html", results))
    run = page.locator("article.run.failed[data-agent='naive']").filter(
        has=page.locator("text=idempotent_writes"))
    assert not run.locator(".failed-checks").is_visible()
    page.click("tr[data-scenario='payment-connection-reset'] button.bad")
    checks = run.locator(".failed-checks")
    assert checks.is_visible()
    assert "a duplicate side effect: payments.create_payment ran again" in checks.inner_text()
    link = checks.locator(".evidence a").first
    target = link.get_attribute("data-event")
    assert target is not None and not page.locator(f"[id='{target}'] pre").is_visible()
    link.click()
    event = page.locator(f"[id='{target}']")
    assert event.get_attribute("class") == "event hl"
    assert event.locator("pre").is_visible()
    assert '"operation": "create_payment"' in event.locator("pre").inner_text()
    assert errors == []


def test_filter_and_search(browser: Any, results: dict[str, Any], tmp_path: Path) -> None:
    runs = [r for r in results["runs"] if r["scenario"] != "winter-coats-in-july"
            or r["agent"] == "guarded"]  # one scenario where every agent passes
    doc = build_results(runs, seed=0)
    page, errors, _ = open_page(browser, write_html(tmp_path / "index.html", doc))

    def shown() -> list[str]:
        return [r.get_attribute("data-scenario") or "" for r in
                page.locator("#matrix tbody tr:not(.hidden)").all()]

    assert shown() == ["payment-connection-reset", "retry-after-storm", "winter-coats-in-july"]
    page.check("#failures-only")
    assert shown() == ["payment-connection-reset", "retry-after-storm"]
    assert page.locator("#s-winter-coats-in-july").is_hidden()
    page.uncheck("#failures-only")
    page.fill("#search", "retry-after")  # matches a scenario name, and text inside one
    assert "retry-after-storm" in shown() and "winter-coats-in-july" not in shown()
    page.fill("#search", "duplicate side effect")
    assert shown() == ["payment-connection-reset"]
    assert page.locator("#shown").inner_text() == "1 of 3 scenarios shown"
    assert errors == []


def test_hostile_text_is_shown_as_text_and_runs_nothing(browser: Any, hostile: dict[str, Any],
                                                        tmp_path: Path) -> None:
    html = render_html(hostile)
    embedded = html.split('id="chaos-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in embedded  # the data block cannot be ended or bent by its content
    path = tmp_path / "index.html"
    path.write_text(html, encoding="utf-8")
    page, errors, requests = open_page(browser, path)
    for details in page.locator("details").all():  # open everything: answers, audit, events
        details.evaluate("d => { d.open = true; }")
    page.click("tr[data-scenario='hostile'] button")
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelectorAll('iframe, img, style:not(head style), "
                         "a[href^=\"javascript\"]').length") == 0
    assert page.evaluate("getComputedStyle(document.body).display") == "block"
    description = page.locator("#s-hostile .description").inner_text()
    assert description == CORPUS
    answer = page.locator("#s-hostile pre.answer").inner_text()
    assert answer == CORPUS
    audit = page.locator("#s-hostile details.audit").inner_text()
    assert json.dumps(XSS[2])[1:-1] in audit  # the tool request with the vector, as text
    assert errors == [] and requests == [path.as_uri()]


def test_same_seed_same_numbers_in_the_page(runner: Runner) -> None:
    from harness._paths import builtin_scenarios
    from harness.scenario import load_scenario

    def page() -> str:
        runs = [runner.run(load_scenario(builtin_scenarios() / f"{s}.yaml"),
                           f"{a}=examples.agents.{a}:run").to_json()
                for s in ("malformed-order", "retry-after-storm") for a in ("guarded", "naive")]
        html = render_html(build_results(runs, seed=0))
        board = html.split('<section id="scoreboard">', 1)[1].split('<section id="details">')[0]
        # The why block quotes check messages, and some of those measure wall-clock waits
        # ("waited 0.01 s"): the numbers are the same, the seconds need not be.
        return re.sub(r"\d+\.\d+ s\b", "N s", re.sub(r"\s+", " ", board))

    assert page() == page()


def test_a_ramp_shows_its_steps_knee_and_charts(browser: Any, example_runs: Any,
                                                tmp_path: Path) -> None:
    doc = build_results([example_runs("inventory-ramp-knee", a).to_json()
                         for a in ("guarded", "naive")], seed=0)
    page, errors, requests = open_page(browser, write_html(tmp_path / "index.html", doc))
    assert errors == [] and len(requests) == 1
    for agent, knee in (("naive", "Knee: holds to 1 user; breaks at 3 users"),
                        ("guarded", "Held: held to the top step (7 users")):
        page.locator(f"button.open-run[data-run='{run_id(doc, agent)}']").first.click()
        run = page.locator(f"#{run_id(doc, agent)}")
        assert knee in run.locator("p.knee").inner_text()
        steps = run.locator("table.steps tbody tr")
        assert steps.count() == 4 and steps.nth(3).locator("td").nth(1).inner_text() == "7"
        charts = run.locator("svg.chart")
        assert charts.count() == 5  # users, rps, p95, failures, inventory against its limit
        assert run.locator("svg.chart polyline.series").first.bounding_box()["width"] > 100
        assert run.locator("svg.chart line.limit").count() == 1
        assert (run.locator("svg.chart line.knee").count() > 0) == (agent == "naive")
        assert "-m locust -f" in run.locator("div.load").inner_text()


def run_id(doc: dict[str, Any], agent: str) -> str:
    return next(f"r{n}" for n, r in enumerate(doc["runs"]) if r["agent"] == agent)
