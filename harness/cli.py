"""The ``agent-chaos`` command: validate scenarios, print the scenario JSON Schema, list what
scenarios can use."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import ScenarioError

if TYPE_CHECKING:
    from .agents import Agent
    from .record.recorder import RecordOptions
    from .runner import Runner
    from .scenario import Scenario
    from .world.catalog import Catalog


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-x", "--extension", "extensions", multiple=True, metavar="MODULE",
              help="import MODULE first: your own checks, goals, behaviours and faults "
                   "(repeatable; installed pytest_agent_chaos entry points are always read)")
def main(extensions: tuple[str, ...]) -> None:
    """pytest-agent-chaos: chaos and fault-injection testing for LLM agents."""
    from .errors import ChaosError
    from .extensions import load_extensions

    try:
        load_extensions(extensions)
    except ChaosError as exc:
        raise click.UsageError(str(exc)) from None


def _scenario_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            files.append(path)
    return files


_MOCKS = click.option("--mocks", "mocks", multiple=True, metavar="DIR",
                      type=click.Path(path_type=Path, file_okay=False),
                      help="a folder of your own tool APIs (DIR/tools/*.yaml) and payloads, "
                           "as --chaos-mocks (repeatable)")


def _catalog(mocks: tuple[Path, ...]) -> Catalog:
    """The catalog with the user's folders; every mistake in them printed, then exit 1."""
    from .world.catalog import get_catalog

    try:
        return get_catalog(mocks)
    except ScenarioError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)


def _scenario_and_agent(file: Path, spec: str, mocks: tuple[Path, ...]
                        ) -> tuple[Scenario, Agent, Catalog]:
    """A command's scenario and agent; a mistake in either is a clear error, exit 1."""
    from .agents import coerce_agent
    from .errors import ChaosError
    from .scenario import load_scenario

    catalog = _catalog(mocks)
    try:
        return load_scenario(file, catalog), coerce_agent(spec), catalog
    except ChaosError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def _runner(seed: int, catalog: Catalog, record: RecordOptions | None = None
            ) -> Iterator[Runner]:
    """A runner on its own servers, closed with them however the command ends."""
    from .runner import Runner
    from .servers import ServerHost

    host = ServerHost()
    runner = Runner(host, seed, catalog, record=record)
    try:
        yield runner
    finally:
        runner.close()
        host.close()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--allow-remote", is_flag=True,
              help="accept upstreams that are not on this machine (as --chaos-allow-remote)")
@_MOCKS
def validate(paths: tuple[Path, ...], allow_remote: bool, mocks: tuple[Path, ...]) -> None:
    """Check scenario files (or folders of them); list every mistake as FILE:LINE:COL."""
    from .scenario import load_scenario

    catalog = _catalog(mocks)
    files = _scenario_files(paths)
    bad = 0
    for file in files:
        try:
            load_scenario(file, catalog, allow_remote=allow_remote)
        except ScenarioError as exc:
            bad += 1
            for problem in exc.problems:
                click.echo(str(problem), err=True)
    ok = len(files) - bad
    summary = f"{ok} valid, {bad} invalid scenario file{'s' if bad != 1 else ''}"
    click.echo(summary, err=bool(bad))
    if bad or not files:
        sys.exit(1)


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="write to this file")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of scenario files (for editors and CI linting)."""
    from .scenario import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@main.command()
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("index.html"),
              show_default=True, help="the HTML file to write")
@click.option("--min-score", type=float, default=None, help="the threshold to show")
def report(results: Path, output: Path, min_score: float | None) -> None:
    """Render RESULTS (a results.json) as the self-contained HTML report."""
    import json

    import jsonschema

    from ._json import safe
    from .report import write_html

    try:
        doc = json.loads(results.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{results}: not JSON ({exc})") from None
    schema = json.loads((Path(__file__).parent / "results.schema.json").read_text())
    problem = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(doc))
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "the top level"
        raise click.ClickException(f"{results}: not a results.json of pytest-agent-chaos: "
                                   f"at {where}: {problem.message[:200]}")
    # A file may hold what a strict writer would not (an escaped lone surrogate): made safe.
    click.echo(write_html(output, safe(doc), min_score))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to bind")
@click.option("--port", default=8474, show_default=True, help="API port")
def toxiproxy(host: str, port: int) -> None:
    """Run the embedded Toxiproxy-compatible server standalone (for agents and tests in other
    languages); any Toxiproxy client can drive it."""
    from .toxiproxy.server import serve_forever

    try:
        serve_forever(host, port)
    except OSError as exc:
        click.echo(f"cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(1)


@main.command(name="mcp-stdio")
@click.option("--url", default=None, help="the streamable-HTTP MCP endpoint (default: "
                                          "$CHAOS_MCP_URL, set for agents under the harness)")
@click.option("--api", default=None, help="bridge one tool API's endpoint ($CHAOS_MCP_URLS)")
def mcp_stdio(url: str | None, api: str | None) -> None:
    """Serve the run's MCP world on stdin/stdout, for agents that launch their MCP servers as
    subprocesses (command: agent-chaos mcp-stdio)."""
    import anyio

    from .mcp_stdio import bridge, endpoint

    try:
        target = endpoint(url, api)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    anyio.run(bridge, target)


@main.command()
@click.argument("scenario_file", metavar="SCENARIO",
                type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--agent", "agent_spec", required=True, metavar="SPEC",
              help="the agent: NAME=module:attr, NAME=exec:COMMAND or module:attr")
@click.option("--max-examples", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="fault schedules to try (each a real run), before shrinking")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="the regression scenario to write (default: SCENARIO-explored.yaml beside it)")
@click.option("--seed", default=0, show_default=True, type=int,
              help="the seed of the search and of the runs (as --chaos-seed)")
@click.option("--database", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="hypothesis's example database (default: .hypothesis/agent-chaos): failures "
                   "found before are tried first")
@_MOCKS
def explore(scenario_file: Path, agent_spec: str, max_examples: int, output: Path | None,
            seed: int, database: Path | None, mocks: tuple[Path, ...]) -> None:
    """Search for the fault schedule that breaks an agent (hypothesis), shrink it to the
    smallest that still does, and write it as a regression scenario. Exit 1 when a failure
    was found, 0 when none was."""
    from ._yaml import load_yaml
    from .errors import ChaosError
    from .explore import describe, regression_doc
    from .explore import explore as search
    from .world.openapi import to_yaml

    scenario, agent, catalog = _scenario_and_agent(scenario_file, agent_spec, mocks)
    raw, _ = load_yaml(scenario_file.read_text(encoding="utf-8"), str(scenario_file))
    with _runner(seed, catalog) as runner:
        try:
            found = search(runner, scenario, raw, agent, max_examples, seed,
                           database or Path(".hypothesis") / "agent-chaos",
                           progress=lambda line: click.echo(line, err=True))
        except ChaosError as exc:
            raise click.ClickException(str(exc)) from None
    if found.faults is None:
        click.echo(f"no failure in {found.examples} examples: {agent.name} held under every "
                   f"schedule tried")
        return
    out = output or scenario_file.with_name(f"{scenario_file.stem}-explored.yaml")
    out.write_text(f"# Made by: agent-chaos explore {scenario_file.name} --agent {agent_spec} "
                   f"--seed {seed}\n" + to_yaml(regression_doc(raw, found, agent)),
                   encoding="utf-8")
    click.echo(f"{found.failures} of {found.examples} examples failed; the smallest schedule: "
               f"{describe(found.faults)}")
    click.echo(f"it breaks: {'; '.join(found.messages)}")
    click.echo(f"wrote {out}")
    click.echo(f"repro: pytest --chaos {out} --chaos-agent {agent.spec} --chaos-seed {seed}")
    sys.exit(1)


@main.command()
@click.argument("scenario_file", metavar="SCENARIO",
                type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--agent", "agent_spec", required=True, metavar="SPEC",
              help="the agent: NAME=module:attr, NAME=exec:COMMAND or module:attr")
@click.option("--url", required=True, help="the real model endpoint's root, e.g. "
                                           "https://api.openai.com")
@click.option("--key-env", default=None, metavar="NAME",
              help="the environment variable that holds its API key (never recorded)")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              default=Path("cassettes"), show_default=True, help="where the recording goes")
@click.option("--seed", default=0, show_default=True, type=int, help="as --chaos-seed")
@_MOCKS
def record(scenario_file: Path, agent_spec: str, url: str, key_env: str | None,
           directory: Path, seed: int, mocks: tuple[Path, ...]) -> None:
    """Run one scenario with the agent's model requests sent to a real endpoint (the tools
    stay mocked), as pytest --chaos --chaos-record does: write the session as a vcrpy
    cassette and a scenario that replays it."""
    from .errors import ChaosError
    from .record.recorder import RecordOptions

    scenario, agent, catalog = _scenario_and_agent(scenario_file, agent_spec, mocks)
    with _runner(seed, catalog, RecordOptions(url, directory.resolve(), key_env)) as runner:
        try:
            result = runner.run(scenario, agent)
        except ChaosError as exc:
            raise click.ClickException(str(exc)) from None
    calls = len(result.trace.of("llm"))
    verdict = "passed" if result.passed else \
        "failed: " + (", ".join(v.check for v in result.failed) or "the goal was missed")
    click.echo(f"{agent.name} {result.outcome.status} after {calls} model calls; {verdict}")
    for path in result.recorded or []:
        click.echo(f"recorded: {path}")


@main.group()
def scenario() -> None:
    """Make scenarios from recorded sessions."""


@scenario.command(name="from-cassette")
@click.argument("cassette", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="the scenario file to write")
@click.option("--name", default=None, help="the scenario's name (default: the file's stem)")
@click.option("--tools", default=None, help="tool APIs, comma-separated (default: those whose "
                                            "operations the model called)")
@_MOCKS
def from_cassette(cassette: Path, output: Path, name: str | None, tools: str | None,
                  mocks: tuple[Path, ...]) -> None:
    """Turn a vcrpy / pytest-recording cassette of model traffic (Chat Completions, Responses,
    Anthropic Messages, Gemini; plain or streamed) into a scenario that replays the model's
    answers. Requests that are not model calls are listed and skipped."""
    from ._yaml import load_yaml
    from .errors import ChaosError
    from .record.cassette import read
    from .record.to_scenario import scenario_doc
    from .scenario import parse_scenario
    from .world.openapi import to_yaml

    catalog = _catalog(mocks)
    try:
        recorded = read(cassette)
    except ChaosError as exc:
        raise click.ClickException(str(exc)) from None
    name = name or output.name.removesuffix(".yaml").removesuffix(".scenario")
    imported = scenario_doc(recorded, name, catalog,
                            tools.split(",") if tools else None, cassette.name)
    text = to_yaml(imported.doc)
    data, positions = load_yaml(text, str(output))
    try:
        parse_scenario(data, str(output), positions, catalog)
    except ScenarioError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(f"# Made by: agent-chaos scenario from-cassette {cassette.name}\n" + text,
                      encoding="utf-8")
    for skipped in recorded.skipped:
        click.echo(f"skipped {skipped}", err=True)
    for note in imported.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {output}: {len(imported.doc['llm'])} turns from "
               f"{len(recorded.exchanges)} model calls; {len(recorded.skipped)} skipped")


@main.group()
def mock() -> None:
    """Make mock tool APIs (mocks/tools/NAME.yaml) from API descriptions."""


@mock.command(name="openapi")
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="the tool API file to write, e.g. mocks/tools/petstore.yaml")
@click.option("--name", default=None, help="the tool API's name (default: the file's stem)")
@click.option("--count", default=10, show_default=True, type=click.IntRange(0, 10_000),
              help="records generated per resource")
def mock_openapi(spec: Path, output: Path, name: str | None, count: int) -> None:
    """Turn an OpenAPI 3 document (YAML or JSON) into a stateful mock tool API. Prints what it
    skipped and why; exits 1 (naming file:line and field) if the document is invalid."""
    from .world.catalog import ToolAPI, api_problems
    from .world.openapi import import_openapi, load_spec, to_yaml

    name = name or output.stem
    try:
        doc, _ = load_spec(spec)
    except ScenarioError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    imported = import_openapi(doc, name, count)
    text = to_yaml(imported.api)
    from ._yaml import load_yaml

    data, positions = load_yaml(text, str(output))
    problems = api_problems(ToolAPI.model_validate(data), str(output), positions)
    for problem in problems:  # a bug of the importer if any: say so rather than write it
        click.echo(f"internal: {problem}", err=True)
    if problems:
        sys.exit(2)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(f"# Made by: agent-chaos mock openapi {spec.name} -o {output}\n" + text,
                      encoding="utf-8")
    for reason in imported.skipped:
        click.echo(f"skipped {reason}", err=True)
    ops = imported.api["operations"]
    click.echo(f"wrote {output}: {len(imported.api['resources'])} resources, {len(ops)} "
               f"operations ({', '.join(ops)}); {len(imported.skipped)} skipped")


_LISTS = ("behaviours", "goals", "faults", "checks", "tools", "payloads", "scenarios")


@main.command(name="list")
@click.argument("what", required=False, type=click.Choice(_LISTS))
@click.argument("name", required=False)
@_MOCKS
def list_(what: str | None, name: str | None, mocks: tuple[Path, ...]) -> None:
    """List the model behaviours, goals, faults, checks, tool APIs, payloads and built-in
    scenarios (or only WHAT). ``list tools [NAME]`` prints each tool API's operations with
    their arguments."""
    from ._paths import builtin_scenarios
    from ._registry import did_you_mean
    from .checks import CHECKS
    from .faults import FAULTS
    from .goals import GOALS
    from .llm import behaviours  # noqa: F401 - registers the behaviours
    from .llm.turns import TURNS

    catalog = _catalog(mocks)
    if name is not None and what != "tools":
        raise click.UsageError("a NAME is only for 'list tools NAME'")
    if what == "tools":
        if name is not None and name not in catalog.tools:
            names = sorted(catalog.tools)
            raise click.UsageError(f"no tool API {name!r}{did_you_mean(name, names)}; tool "
                                   f"APIs: {', '.join(names)}")
        for api_name in [name] if name else sorted(catalog.tools):
            click.echo(describe_api(catalog, api_name))
        return

    def first_line(doc: str | None) -> str:
        return " ".join((doc or "").strip().split())

    sections: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("behaviours", "model behaviours (llm: turns)",
         [(k, first_line(TURNS.get(k).__doc__)) for k in TURNS]),
        ("goals", "goals (goal:)", [(k, first_line(GOALS.get(k).__doc__)) for k in GOALS]),
        ("faults", "faults (faults:)", [(k, first_line(FAULTS.get(k).__doc__)) for k in FAULTS]),
        ("checks", "checks (expect:)", [(k, first_line(CHECKS.get(k).__doc__)) for k in CHECKS]),
        ("tools", "tool APIs (tools:; 'agent-chaos list tools NAME' for operations)",
         [(n, catalog.tools[n].description) for n in sorted(catalog.tools)]),
        ("payloads", "injection payloads (injections: payload)",
         [(p, "") for p in sorted(catalog.injections)]),
        ("scenarios", "built-in scenarios",
         [(p.stem, "") for p in sorted(builtin_scenarios().glob("*.yaml"))]),
    ]
    first = True
    for key, title, rows in sections:
        if what not in (None, key):
            continue
        if not first:
            click.echo("")
        first = False
        click.echo(f"{title}:")
        for row, text in rows:
            click.echo(f"  {row:24} {text}".rstrip())


def describe_api(catalog: Catalog, name: str) -> str:
    """One tool API for ``list tools``: where it is defined, its resources, and each
    operation as a signature (``?`` marks an optional argument) with its hints."""
    api = catalog.tools[name]
    lines = [f"{name}: {api.description}", f"  defined in {catalog.files[name]}"]
    for rname, res in api.resources.items():
        count = len(res.records) + (res.generate.count if res.generate else 0)
        marks = "".join(f"; {kind} {', '.join(fields)}" for kind, fields in
                        (("pii", res.pii), ("canaries", res.canaries)) if fields)
        lines.append(f"  resource {rname} (key {res.key}, {count} records{marks})")
    for oname, op in api.operations.items():
        params = op.parameters.get("properties", {})
        required = set(op.parameters.get("required", []))
        args = ", ".join(f"{arg}{'' if arg in required else '?'}: {_type_of(schema)}"
                         for arg, schema in params.items())
        hints = [h for h, on in (("read-only", op.annotations.readOnlyHint),
                                 ("destructive", op.annotations.destructiveHint),
                                 ("idempotent", op.annotations.idempotentHint),
                                 ("moves money", op.moves_money),
                                 ("hidden", op.hidden)) if on]
        tail = f"  [{', '.join(hints)}]" if hints else ""
        lines.append(f"  {oname}({args}) -> {op.action.value} {op.resource}{tail}")
        if op.description:
            lines.append(f"      {op.description}")
    return "\n".join(lines)


def _type_of(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{_type_of(schema.get('items'))}]"
    return "|".join(kind) if isinstance(kind, list) else str(kind)


if __name__ == "__main__":
    main()
