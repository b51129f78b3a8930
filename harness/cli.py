"""The ``agent-chaos`` command: validate scenarios, print the scenario JSON Schema, list what
scenarios can use."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import ScenarioError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """pytest-agent-chaos: chaos and fault-injection testing for LLM agents."""


def _scenario_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            files.append(path)
    return files


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--allow-remote", is_flag=True,
              help="accept upstreams that are not on this machine (as --chaos-allow-remote)")
def validate(paths: tuple[Path, ...], allow_remote: bool) -> None:
    """Check scenario files (or folders of them); list every mistake as FILE:LINE:COL."""
    from .scenario import load_scenario

    files = _scenario_files(paths)
    bad = 0
    for file in files:
        try:
            load_scenario(file, allow_remote=allow_remote)
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


@main.command(name="list")
def list_() -> None:
    """List the model behaviours, goals, faults, checks, tool APIs and built-in scenarios."""
    from ._paths import builtin_scenarios
    from .checks import CHECKS
    from .llm import behaviours  # noqa: F401 - registers the behaviours
    from .llm.turns import TURNS
    from .world.catalog import get_catalog

    def first_line(doc: str | None) -> str:
        return " ".join((doc or "").strip().split())

    click.echo("model behaviours (llm: turns):")
    for key in TURNS:
        click.echo(f"  {key:24} {first_line(TURNS.get(key).__doc__)}")
    from .faults import FAULTS
    from .goals import GOALS

    click.echo("\ngoals (goal:):")
    for key in GOALS:
        click.echo(f"  {key:24} {first_line(GOALS.get(key).__doc__)}")
    click.echo("\nfaults (faults:):")
    for key in FAULTS:
        click.echo(f"  {key:24} {first_line(FAULTS.get(key).__doc__)}")
    click.echo("\nchecks (expect:):")
    for key in CHECKS:
        click.echo(f"  {key:24} {first_line(CHECKS.get(key).__doc__)}")
    catalog = get_catalog()
    click.echo("\ntool APIs (tools:):")
    for name, api in sorted(catalog.tools.items()):
        click.echo(f"  {name:24} {api.description}")
    click.echo("\ninjection payloads (injections: payload):")
    for pid in sorted(catalog.injections):
        click.echo(f"  {pid}")
    click.echo("\nbuilt-in scenarios:")
    for path in sorted(builtin_scenarios().glob("*.yaml")):
        click.echo(f"  {path.stem}")


if __name__ == "__main__":
    main()
