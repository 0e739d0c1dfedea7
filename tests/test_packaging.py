"""A wheel, installed without the source checkout (not editable), carries the report templates and works:
the CLI writes a report from it, and `python -m embproj --help` answers."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, blobs

pytestmark = pytest.mark.packaging  # builds and installs a wheel: a few seconds, no UMAP

# Runs inside the installed copy: fails unless embproj comes from EMBPROJ_SITE, then runs the CLI on sys.argv.
RUN_INSTALLED = """
import os, sys
from pathlib import Path
import embproj
site = Path(os.environ["EMBPROJ_SITE"]).resolve()
where = Path(embproj.__file__).resolve()
if site not in where.parents:
    sys.exit(f"embproj was imported from {where}, not from the installed copy in {site}")
from embproj.cli import main
main()
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """embproj built as a wheel from this checkout and installed (no deps) into a folder of its own."""
    work = tmp_path_factory.mktemp("packaging")
    dist, site = work / "dist", work / "site"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)]
    if importlib.util.find_spec("hatchling") is not None:
        build.insert(-1, "--no-build-isolation")  # else pip fetches hatchling for an isolated build
    _run(build, cwd=work, timeout=180)
    wheels = list(dist.glob("embproj-*.whl"))
    assert len(wheels) == 1, f"expected one embproj wheel in {dist}, found {wheels}"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site)]
    _run([*install, str(wheels[0])], cwd=work)
    templates = site / "embproj" / "templates"
    found = sorted(str(p.relative_to(templates)) for p in templates.rglob("*")) if templates.is_dir() else []
    ours = ROOT / "templates"
    expected = {"report.html.j2", "report.css"} | {f"js/{p.name}" for p in (ours / "js").glob("*.js")}
    expected |= {str(p.relative_to(ours)) for folder in ("js/worker", "vendor") for p in (ours / folder).rglob("*")}
    assert expected <= set(found), f"templates in the wheel: {found}"
    return site


def test_installed_wheel_writes_a_report(installed, tmp_path):
    X, labels = blobs(n=40, dims=5, classes=3)
    lines = ["label," + ",".join(f"x{k}" for k in range(X.shape[1]))]
    lines += [f"{lab}," + ",".join(f"{v:.5f}" for v in row) for lab, row in zip(labels, X, strict=True)]
    (tmp_path / "tiny.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    args = ["project", "tiny.csv", "--algo", "pca", "-o", "out.html"]
    result = _python(installed, tmp_path, "-c", RUN_INSTALLED, *args)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    html = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert 'id="ep-tooltip"' in html  # report.html.j2
    assert "window.embproj" in html  # templates/js
    assert ".ep-tooltip {" in html  # report.css
    assert 'id="ep-gear-worker"' in html and "UMAP" in html  # the gear's worker and the vendored umap-js
    assert "Bokeh" in html and "cdn.bokeh.org" not in html  # BokehJS inlined


def test_installed_module_and_script_answer_help(installed, tmp_path):
    result = _python(installed, tmp_path, "-m", "embproj", "--help")
    assert result.returncode == 0, result.stderr
    assert "project" in result.stdout and "inspect" in result.stdout

    script = installed / "bin" / "embproj"
    assert script.is_file(), f"the wheel installs no `embproj` command: {sorted(installed.iterdir())}"
    result = subprocess.run(
        [str(script), "project", "--help"],
        cwd=tmp_path, env=_env(installed), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "--algo" in result.stdout


def _env(site: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PYTHONPATH=str(site), EMBPROJ_SITE=str(site), PYTHONNOUSERSITE="1", PYTHONSAFEPATH="1")
    return env


def _python(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The test's Python (for the dependencies) with only the installed copy of embproj on its path."""
    return subprocess.run([sys.executable, *args], cwd=cwd, env=_env(site), capture_output=True, text=True, timeout=120)


def _run(cmd: list[str], cwd: Path, timeout: int = 120) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
