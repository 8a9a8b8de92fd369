"""The reference pages cover what the code has: every ``failtrack`` command and option, every setting.

Both lists are read from the code (the cyclopts app, the settings model), never written
out here, so a new command, option or setting fails these tests until it is documented.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cyclopts import App

from prefect_failtrack.cli import app
from prefect_failtrack.settings import PREFIX, FailtrackSettings

DOCS = Path(__file__).resolve().parents[2] / "docs"
CLI_PAGE = DOCS / "reference" / "cli.md"
OPERATIONS_PAGE = DOCS / "operations.md"


def commands(parent: App, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], App]]:
    """Every command of `parent` that runs something, as its words and its app, sub-groups walked."""
    for name in parent:
        if name.startswith("-"):  # --help, -h, --version
            continue
        sub = parent[name]
        if sub.default_command is not None:
            yield (*path, name), sub
        yield from commands(sub, (*path, name))


COMMANDS = sorted(commands(app), key=lambda item: item[0])


def section(page: str, words: tuple[str, ...]) -> str:
    """The text under ``## `failtrack WORDS``` up to the next heading of that level."""
    heading = f"## `failtrack {' '.join(words)}`"
    assert heading in page, f"{CLI_PAGE.name} has no section {heading!r}"
    rest = page[page.index(heading) + len(heading):]
    following = re.search(r"^## ", rest, re.M)
    return rest[: following.start()] if following else rest


def test_the_app_has_the_commands_we_expect_to_find() -> None:
    names = {" ".join(words) for words, _ in COMMANDS}
    assert {"classify", "db upgrade", "report", "runs", "timeline", "prune", "version"} <= names


@pytest.mark.parametrize("words, command", COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_and_option_is_documented(words: tuple[str, ...], command: App) -> None:
    text = section(CLI_PAGE.read_text(encoding="utf-8"), words)
    example = re.search(rf"^```console\n(?:.*\n)*?\$ failtrack {' '.join(words)}\b", text, re.M)
    assert example, f"no console example running 'failtrack {' '.join(words)}'"
    for argument in command.assemble_argument_collection():
        if argument.children:  # a shared group of options (cli/_common.py): its fields follow
            continue
        option = argument.names[0]
        if option == "*":  # a flattened dataclass (shared options): its fields come next
            continue
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        positional = option.removeprefix("--").replace("-", "_").upper()
        accepted = [f"`{option}`"]
        if argument.field_info.kind in kinds:
            accepted.append(f"`{positional}`")
        assert any(name in text for name in accepted), (
            f"'failtrack {' '.join(words)}': option {' or '.join(accepted)} is not documented"
        )


def test_every_setting_is_in_the_settings_table() -> None:
    text = OPERATIONS_PAGE.read_text(encoding="utf-8")
    for name in FailtrackSettings.model_fields:
        variable = f"`{PREFIX}{name.upper()}`"
        assert variable in text, f"the setting {variable} is not in {OPERATIONS_PAGE.name}"
