"""The package as a game depends on it: its version, its license, its changelog.

The wheel itself is built, installed into a fresh virtual environment and
type-checked against by CI (``.ci/run``, with ``.ci/wheel_game.py``).
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

import pygame_async

REPO = Path(__file__).resolve().parents[1]


def test_version_is_the_installed_distributions_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc|\.dev)?\d*", pygame_async.__version__)
    # One source of truth: pyproject.toml reads the version from pygame_async/_version.py.
    assert pygame_async.__version__ == importlib.metadata.version("pygame_async")


def test_metadata_declares_the_mit_license_and_ships_its_file() -> None:
    metadata = importlib.metadata.metadata("pygame_async")
    assert metadata["License-Expression"] == "MIT"  # PEP 639, not the deprecated License:
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "License" not in metadata
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert text.splitlines()[2].endswith(" the pygame_async developers")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_the_changelog_starts_with_an_unreleased_section_of_simple_lists() -> None:
    lines = (REPO / "CHANGELOG.md").read_text().splitlines()
    headings = [line for line in lines if line.startswith("#")]
    assert headings[0] == "# Changelog"
    assert headings[1] == "## Unreleased"
    allowed = {"### Added", "### Changed", "### Fixed"}
    for heading in headings[2:]:
        assert heading in allowed or re.fullmatch(r"## \d+\.\d+\.\d+ - \d{4}-\d\d-\d\d", heading)
    # Every entry is a bullet under one of those headings.
    section = None
    for line in lines:
        if line.startswith("### "):
            section = line
        elif line.startswith("- "):
            assert section is not None, line


def test_the_dask_extra_is_the_range_the_tests_run_with() -> None:
    optional = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (dask,) = [Requirement(text) for text in optional["dask"]]
    assert dask.name == "distributed"
    # [dev] holds the same range: a dev install runs the dask lane's tests too.
    assert [str(Requirement(text)) for text in optional["dev"] if "distributed" in text] == [
        str(dask)
    ]
    assert dask.specifier.contains(importlib.metadata.version("distributed"))
