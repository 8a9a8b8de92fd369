"""What a fresh machine installs is what was tested: the README's set-up commands and
``.ci/run`` install with ``constraints.txt``, which pins every requirement of
``pyproject.toml`` (with the extras) inside its range."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
LOCKED_EXTRAS = ("postgres", "test", "docs")


def pins() -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not pinned with =="
            found[canonicalize_name(name)] = Version(version)
    return found


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = list(project["dependencies"])
    for extra in LOCKED_EXTRAS:
        listed += project["optional-dependencies"][extra]
    return [Requirement(text) for text in listed]


@pytest.mark.parametrize("requirement", requirements(), ids=str)
def test_every_requirement_is_pinned_within_its_range(requirement: Requirement) -> None:
    if requirement.marker is not None and not requirement.marker.evaluate():
        pytest.skip(f"{requirement}: not for this platform")
    pinned = pins().get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is not in constraints.txt: run .ci/lock"
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"constraints.txt pins {requirement.name}=={pinned}, outside {requirement}: run .ci/lock"
    )


def test_fastapi_is_a_version_prefect_3_8_works_with() -> None:
    # DESIGN §5: 0.151-0.154 make Prefect 3.8.8's server refuse null bodies; 0.155+ break it.
    assert pins()["fastapi"] < Version("0.151")


def commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"python -m venv \.venv && ", line)]


def test_the_readme_commands_install_with_the_constraints_and_ci_runs_them() -> None:
    readme = commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(readme) == 2, readme
    for line in readme:
        assert '-e ".[test]" -c constraints.txt && ' in line, line
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(line for line in readme if line.endswith("-m pytest"))
    assert test_command in commands(ci), ".ci/run must run the README's test command exactly"
    assert re.search(r'pip install -q -e "\.\[docs\]" -c constraints\.txt', ci)
