"""embproj/fast/, the one door to dependencies' private names: each speed path checks the release it was read
against (versions.py), can be turned off (EMBPROJ_NO_FAST), says what it did (`--json`'s "fast"), and gives way to
the public path. Bokeh's ids give way to Bokeh's own: the same page with other ids, never a crash. The UMAP paths'
two sides are compared in test_umap_kernels.py and test_scale.py."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import numpy as np
import pytest
import tomllib

from conftest import ROOT
from embproj.environment import NO_FAST
from embproj.fast import bokeh_ids, versions
from embproj.fast.status import status
from reportdata import points

PCA_RUN = ("--algo", "pca", "-o", "r.html", "--reproducible", "--json", "-q")


def test_the_installed_releases_are_the_checked_ones_and_others_are_refused(monkeypatch):
    import bokeh

    assert {name: versions.unchecked(name) for name in versions.CHECKED} == dict.fromkeys(versions.CHECKED)
    assert versions.refused("bokeh_ids") is None
    monkeypatch.setitem(versions.CHECKED, "bokeh", ((4, 0, 0), (5, 0, 0)))
    said = f"bokeh {bokeh.__version__} is outside the checked range 4.0.0 to <5.0.0"
    assert versions.unchecked("bokeh") == said and versions.refused("bokeh_ids") == said
    assert versions.refused("umap_kernels") is None  # only the paths that read Bokeh's names
    assert [versions.release(text) for text in ("0.5.12", "4.0.0rc1", "3")] == [(0, 5, 12), (4, 0, 0), (3, 0, 0)]


def test_pyproject_pins_the_checked_ranges():
    """A user's install stays within the ranges whose names were read (a range is declared once, in versions.py;
    the pins say the same)."""
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for name in ("umap-learn", "bokeh"):
        low, high = versions.CHECKED[name]
        pin = next(p for p in pins if p.startswith(name + ">="))
        floor, ceiling = pin[len(name) + 2 :].split(",<")
        assert (versions.release(floor), versions.release(ceiling)) == (low, high), pin


def test_the_switch_names_paths_or_turns_every_one_off():
    some = {NO_FAST: "umap_search, bokeh_ids"}
    assert [p for p in versions.PATHS if versions.turned_off(p, some)] == ["umap_search", "bokeh_ids"]
    assert versions.refused("umap_search", some) == f"{NO_FAST} turns it off"
    assert all(versions.turned_off(p, {NO_FAST: "1"}) for p in versions.PATHS)
    assert not any(versions.turned_off(p, {NO_FAST: value}) for p in versions.PATHS for value in ("", "0"))


def test_status_has_a_line_for_every_module_of_fast():
    modules = {p.stem for p in (ROOT / "embproj" / "fast").glob("*.py")} - {"__init__", "versions", "status"}
    assert set(status()) == set(versions.PATHS) == modules
    assert all(isinstance(line, str) and line for line in status().values())


# -- Bokeh's ids --------------------------------------------------------------------------------------------------


def test_a_report_made_twice_is_the_same_bytes_and_json_says_why(cli, vectors_parquet, tmp_path):
    pages, said = _twice(cli, vectors_parquet, tmp_path)
    assert pages[0] == pages[1]
    assert said == bokeh_ids.STABLE


@pytest.fixture
def renamed(monkeypatch):
    """Bokeh as a release that renamed its UUID function: gone from where bokeh_ids looks for it, while Bokeh's
    own code still finds it (a builtin of the same name stands in for the new one)."""
    import bokeh.embed.util as util

    monkeypatch.setattr(builtins, "make_globally_unique_id", util.make_globally_unique_id, raising=False)
    monkeypatch.delattr(util, "make_globally_unique_id")


def test_a_bokeh_without_the_id_function_gives_the_same_page_with_its_own_ids(renamed, cli, vectors_parquet, tmp_path):
    import bokeh

    pages, said = _twice(cli, vectors_parquet, tmp_path)
    assert pages[0] != pages[1]  # Bokeh's random ids: not the same bytes
    first, second = (points(page.decode()) for page in pages)
    assert set(first) == set(second) and {"x_pca", "y_pca"} <= set(first)
    for name in first:  # the same map, the same columns
        np.testing.assert_array_equal(np.asarray(first[name]), np.asarray(second[name]))
    assert said == (
        f"Bokeh's own: bokeh {bokeh.__version__} has no bokeh.embed.util.make_globally_unique_id; a report made "
        "twice differs in its ids, --reproducible too"
    )


@pytest.mark.parametrize("why", ["counter", "release", "switch"])
def test_the_ids_are_left_to_bokeh_when_a_name_or_release_is_not_the_checked_one(monkeypatch, why):
    import bokeh.embed.util as util
    import bokeh.util.serialization as serialization

    if why == "counter":
        monkeypatch.setattr(serialization, "_simple_id", "p999")  # changed: no longer the integer it was
    elif why == "release":
        monkeypatch.setitem(versions.CHECKED, "bokeh", ((3, 0, 0), (3, 1, 0)))
    else:
        monkeypatch.setenv(NO_FAST, "bokeh_ids")
    own = util.make_globally_unique_id
    with bokeh_ids.stable_ids("abc"):
        assert util.make_globally_unique_id is own
    expected = {"counter": "no counter bokeh.util.serialization._simple_id", "release": "outside the checked range",
                "switch": f"{NO_FAST} turns it off"}[why]  # fmt: skip
    assert bokeh_ids.status().startswith("Bokeh's own: ") and expected in bokeh_ids.status()


def test_stable_ids_are_put_back_afterwards():
    import bokeh.embed.elements as elements
    import bokeh.embed.util as util
    import bokeh.util.serialization as serialization

    def held():
        return (
            util.make_globally_unique_id,
            util.make_globally_unique_css_safe_id,
            elements.make_globally_unique_css_safe_id,
        )

    own = held()
    serialization._simple_id += 5000  # models made earlier in the process
    before = serialization._simple_id
    with bokeh_ids.stable_ids("abc"):
        assert [make() for make in held()] == ["ep-abc-1", "ep-abc-2", "ep-abc-3"]
        assert serialization.make_id() == "p1000"
    assert held() == own
    assert serialization._simple_id == before  # later models do not reuse an id the process gave out
    assert bokeh_ids.status() == bokeh_ids.STABLE


def _twice(cli, data: Path, tmp_path: Path) -> tuple[list[bytes], str]:
    """The same PCA report written twice in this process (under one name: the page holds its command), and what
    `--json` said of its ids."""
    pages, said = [], ""
    for _ in range(2):
        result = cli("project", data, *PCA_RUN)
        assert result.exit_code == 0, result.output
        pages.append((tmp_path / "r.html").read_bytes())
        said = json.loads(result.stdout)["fast"]["bokeh_ids"]
    return pages, said
