"""The course kit, as a reader gets it: from the built HTML, away from this repository.

``tools/build-kit`` (run by every HTML build) zips the chapter notebooks, a wheel of mathchain and a
pinned ``requirements.txt``; the intro links it through Sphinx's download role, so it is served from
``_build/html/_downloads/``. These tests take it from there (build the book first: ``make book``):

* it is fresh: its notebooks are the chapters of the repository, its wheel holds today's mathchain
  sources, and every version (kit name, wheel name, wheel metadata, ``mathchain.__version__``) agrees;
* it runs: unpacked in a temporary folder outside the repository, installed with its README's own
  commands into a new virtual environment (its requirements and its wheel, nothing from the source
  tree; ``PYTHONPATH`` cleared), every notebook is executed there by nbval in a kernel of that
  environment, and must reproduce its committed outputs.

``test_kit_problems_bite`` proves on broken kits that the freshness checks report what they should.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"


def _tool(name: str):
    loader = SourceFileLoader(name.replace("-", "_"), str(ROOT / "tools" / name))
    module = module_from_spec(spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


build_kit, kit_note = _tool("build-kit"), _tool("add-kit-note")
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


# --- the notebooks themselves ---------------------------------------------------------------------

@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_notebook_says_how_to_get_mathchain(notebook):
    """The note of tools/add-kit-note, right under the title (rerun that tool for a new chapter)."""
    first = next(c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "markdown")
    assert kit_note.with_note(first.source) == first.source, (
        f"{notebook.name}: no kit note under the title; run: .venv/bin/python tools/add-kit-note")


# Code that would only work inside this repository.
REPO_PATHS = re.compile(r"\.\./|sys\.path|PYTHONPATH|" + re.escape(str(ROOT)) + r"|/work/|chdir")


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_notebook_does_not_reach_into_the_repository(notebook):
    found = [hit.group(0) for cell in nbformat.read(notebook, as_version=4).cells
             if cell.cell_type == "code" for hit in REPO_PATHS.finditer(cell.source)]
    assert not found, f"{notebook.name}: code that depends on the repository's layout: {found}"


def test_requirements_pin_every_import(tmp_path):
    """Every third-party import is pinned from constraints.txt; an unpinned one stops the build."""
    lines = build_kit.requirements(CHAPTERS)
    pinned = set(build_kit.pins().values())
    assert lines and all(line in pinned for line in lines), lines
    names = {line.split("==")[0].lower() for line in lines}
    assert {"numpy", "jupyterlab"} <= names, names
    assert {"jax", "jaxlib"} <= names, names  # chapter 13 runs JAX; jaxlib at the book's version
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import yaml\nimport numpy as np")])
    nbformat.write(nb, tmp_path / "x.ipynb")
    with pytest.raises(SystemExit, match=r"PyYAML \(not pinned"):
        build_kit.requirements([tmp_path / "x.ipynb"], root=_root_pinning(tmp_path, ["numpy==2.4.6"]))


def _root_pinning(tmp_path: Path, lines: list[str]) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "constraints.txt").write_text("\n".join(lines) + "\n")
    return root


# --- the kit served by the built book -------------------------------------------------------------

RAW_MYST = re.compile(r"\{(doc|eq|ref|cite|numref|measured|identity|index|math)\}`|^```\{|:label:", re.M)
CODE_SPAN = re.compile(r"``.+?``", re.S)  # a role shown as code (``{ref}`x` ``) is text, not MyST


def kit_problems(html: Path, root: Path = ROOT) -> list[str]:
    """Why the kits and wheel served from ``html`` are not today's (empty: they are)."""
    version = build_kit.version(root)
    kits = sorted(html.glob("_downloads/*/mathchain-course-*.zip"))
    wheels = sorted(html.glob("_downloads/*/mathchain-*.whl"))
    if len(kits) != 2 or len(wheels) != 1:
        return [f"{html}: expected two course kits (English, 简体中文) and one wheel in _downloads/, "
                f"found {[k.name for k in kits]} and {[w.name for w in wheels]} "
                "(build the book: make book)"]
    wheel, problems = wheels[0], []
    for language in build_kit.LANGUAGES:
        top = build_kit.kit_name(version, language)
        found = [k for k in kits if k.name == f"{top}.zip"]
        if not found:
            problems.append(f"no kit {top}.zip: mathchain.__version__ is {version}")
            continue
        problems += _kit_notebook_problems(found[0], top, wheel, root)
    wheel_name = f"mathchain-{version}-py3-none-any.whl"
    if wheel.name != wheel_name:
        problems.append(f"wheel {wheel.name}: mathchain.__version__ is {version}")
    problems += wheel_problems(wheel, version, root)
    return problems


def _kit_notebook_problems(kit: Path, top: str, wheel: Path, root: Path) -> list[str]:
    """One kit: its folder, README, requirements and wheel; a plain notebook for every chapter whose
    code cells are the chapter's (in order, with their tags) and whose Markdown holds no MyST."""
    problems = []
    with zipfile.ZipFile(kit) as zf:
        files = {name.split("/", 1)[1]: zf.read(name) for name in zf.namelist()
                 if not name.endswith("/")}
        folders = {name.split("/", 1)[0] for name in zf.namelist()}
    if folders != {top}:
        problems.append(f"kit {kit.name}: top folder(s) {sorted(folders)}, expected {top}")
    for name in ("README.md", "requirements.txt", "references.ipynb"):
        if name not in files:
            problems.append(f"kit {kit.name}: no {name}")
    for name in build_kit.KIT_MODULES:
        if files.get(name) != (root / "chapters" / name).read_bytes():
            problems.append(f"kit {kit.name}: its {name} is not chapters/{name} (stale kit: make book)")
    chapters = {p.name: p for p in sorted((root / "chapters").glob("*.ipynb"))}
    packed = {name: data for name, data in files.items() if name.endswith(".ipynb")}
    for name in sorted(chapters.keys() - packed.keys()):
        problems.append(f"kit {kit.name}: chapter {name} missing (stale kit: make book)")
    for name in sorted(packed.keys() - chapters.keys() - {"references.ipynb"}):
        problems.append(f"kit {kit.name}: {name} is not a chapter (stale kit: make book)")
    for name in sorted(chapters.keys() & packed.keys()):
        source = nbformat.read(chapters[name], as_version=4)
        kit_nb = nbformat.reads(packed[name].decode("utf-8"), as_version=4)
        code = [(c.source, _kit_tags(c, top)) for c in source.cells if c.cell_type == "code"]
        if code != [(c.source, c.metadata.get("tags", [])) for c in kit_nb.cells
                    if c.cell_type == "code"]:
            problems.append(f"kit {kit.name}: the code of {name} differs from chapters/{name} "
                            "(stale kit: make book)")
        for cell in kit_nb.cells:
            texts = [cell.source] if cell.cell_type == "markdown" else [
                o.get("data", {}).get("text/markdown", "") for o in cell.get("outputs", [])]
            hits = [hit.group(0) for text in texts
                    for hit in RAW_MYST.finditer(CODE_SPAN.sub("", text))]
            if hits:
                problems.append(f"kit {kit.name}: {name} has MyST left: {hits[:3]}")
                break
    if files.get(wheel.name) != wheel.read_bytes():
        problems.append(f"kit {kit.name}: holds no {wheel.name} equal to the wheel the book serves")
    return problems


def _kit_tags(cell, top: str) -> list[str]:
    """The tags a chapter's code cell has in the kit ``top``: its own, and in the zh kit
    ``nbval-ignore-output`` when it displays Markdown (the book translated it; a re-run writes
    English)."""
    tags = list(cell.metadata.get("tags", []))
    markdown = any("text/markdown" in o.get("data", {}) for o in cell.get("outputs", []))
    if top.endswith("-zh") and markdown and "nbval-ignore-output" not in tags:
        tags.append("nbval-ignore-output")
    return tags


def wheel_problems(wheel: Path, version: str, root: Path = ROOT) -> list[str]:
    """The wheel's metadata version and its mathchain files against the sources."""
    problems = []
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        packaged = {n: zf.read(n) for n in names if n.startswith("mathchain/")}
        metadata = next((zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA")), "")
    found = re.search(r"^Version: (\S+)$", metadata, re.M)
    if not found or found.group(1) != version:
        problems.append(f"wheel {wheel.name}: metadata version {found and found.group(1)}, "
                        f"mathchain.__version__ is {version}")
    sources = {f"mathchain/{p.relative_to(root / 'mathchain').as_posix()}": p.read_bytes()
               for p in (root / "mathchain").rglob("*.py")}
    for name in sorted(sources.keys() | packaged.keys()):
        if sources.get(name) != packaged.get(name):
            what = ("missing from the wheel" if name not in packaged else
                    "not in the sources" if name not in sources else "differs from the source")
            problems.append(f"wheel {wheel.name}: {name} {what} (stale wheel: make book)")
    return problems


def test_served_kit_is_fresh():
    problems = kit_problems(HTML)
    assert not problems, "\n".join(problems)


def test_kit_problems_bite(tmp_path):
    """Broken kits: a stale wheel, a stale notebook, a missing chapter, versions that disagree."""
    version = build_kit.version()
    good = tmp_path / "good"
    wheel, kit, kit_zh = build_kit.build(good)
    html = tmp_path / "html" / "_downloads"
    (html / "a").mkdir(parents=True)
    (html / "b").mkdir()
    (html / "c").mkdir()
    shutil.copy2(kit_zh, html / "c" / kit_zh.name)
    with zipfile.ZipFile(kit) as src, zipfile.ZipFile(html / "a" / kit.name, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("00-layouts.ipynb"):
                data = data.replace(b"import numpy as np", b"import numpy", 1)
            if item.filename.endswith("02-scalar-by-vector.ipynb"):
                data = data.replace(b"[(2.1)](", b"{eq}`sv-one-step` [(2.1)](", 1)
            if item.filename.endswith("/_book.py"):
                data += b"# an edit made after the kit was built\n"
            if not item.filename.endswith("01-vector-by-vector.ipynb"):
                dst.writestr(item, data)
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(html / "b" / wheel.name, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "mathchain/vector.py":
                data += b"# an edit made after the wheel was built\n"
            dst.writestr(item, data)
    problems = kit_problems(tmp_path / "html")
    assert problems == [
        f"kit {kit.name}: its _book.py is not chapters/_book.py (stale kit: make book)",
        f"kit {kit.name}: chapter 01-vector-by-vector.ipynb missing (stale kit: make book)",
        f"kit {kit.name}: the code of 00-layouts.ipynb differs from chapters/00-layouts.ipynb "
        "(stale kit: make book)",
        f"kit {kit.name}: 02-scalar-by-vector.ipynb has MyST left: ['{{eq}}`']",
        f"kit {kit.name}: holds no {wheel.name} equal to the wheel the book serves",
        f"kit {kit_zh.name}: holds no {wheel.name} equal to the wheel the book serves",
        f"wheel {wheel.name}: mathchain/vector.py differs from the source (stale wheel: make book)",
    ], problems
    (html / "b" / wheel.name).rename(html / "b" / "mathchain-9.9-py3-none-any.whl")
    assert f"wheel mathchain-9.9-py3-none-any.whl: mathchain.__version__ is {version}" in kit_problems(
        tmp_path / "html")
    assert wheel_problems(wheel, "9.9") == [
        f"wheel {wheel.name}: metadata version {version}, mathchain.__version__ is 9.9"]
    (html / "a" / kit.name).unlink()
    assert "expected two course kits (English, 简体中文) and one wheel" in kit_problems(
        tmp_path / "html")[0]


# --- the kit runs away from the repository --------------------------------------------------------

def _clean_env(**extra) -> dict:
    """This process's environment without what would let the repository's mathchain leak in."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "JUPYTER_PATH", "PYTHONSTARTUP",
                         "MATHCHAIN_BOOK"}}  # a reader's Jupyter: plain Markdown (chapters/_book.py)
    env["PYTHONNOUSERSITE"] = "1"
    return env | extra


def _run(command, cwd: Path, env: dict, what: str, shell: bool = False) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, shell=shell)
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-5000:]}")
    return done.stdout


def readme_commands(readme: str) -> list[str]:
    """The indented shell commands of the kit's README, in order (venv, install, JupyterLab)."""
    return [line.strip() for line in readme.splitlines()
            if line.startswith("    ") and line.strip().split()[0] in {"python3", ".venv/bin/pip",
                                                                          ".venv/bin/jupyter"}]


# Installed kits, outside the repository, one folder per kit (named by its SHA-256), so that the
# JupyterLab test (tests/test_kit_lab.py) and a second run reuse the environment built from the
# very same zip instead of installing it again. One cache per checkout; older kits' folders go.
KIT_CACHE = Path(tempfile.gettempdir()) / (
    "mathchain-kits-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:12])


def installed_kit(kit: Path) -> Path:
    """The kit's folder, unpacked and set up by its README's commands (once per kit); the folder
    above it (outside the repository) is free for the tests' own files."""
    digest = hashlib.sha256(kit.read_bytes()).hexdigest()[:16]
    KIT_CACHE.mkdir(exist_ok=True)
    with open(KIT_CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test processes never install the same kit at once
        where, done = KIT_CACHE / digest, KIT_CACHE / f"{digest}.installed"
        if not done.is_file():
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir()
            install_kit(kit, where)
            done.write_text(kit.name)
        for old in KIT_CACHE.glob("*.installed"):  # a kit of the same name built before this one
            if old != done and old.read_text() == kit.name:
                old.unlink()
                shutil.rmtree(KIT_CACHE / old.stem, ignore_errors=True)
    (folder,) = [p for p in where.iterdir() if p.name.startswith("mathchain-course-")]
    return folder


def install_kit(kit: Path, where: Path) -> Path:
    """Unpack ``kit`` in ``where`` and run its README's set-up commands; returns the kit folder."""
    with zipfile.ZipFile(kit) as zf:
        zf.extractall(where)
    (folder,) = where.iterdir()
    commands = readme_commands((folder / "README.md").read_text())
    programs = [c.split()[0] for c in commands]
    assert programs == ["python3", ".venv/bin/pip", ".venv/bin/jupyter"], commands
    venv, install, _lab = commands
    env = _clean_env()
    _run([sys.executable, *shlex.split(venv)[1:]], folder, env, f"README: {venv}")
    _run(install, folder, env, f"README: {install}", shell=True)
    return folder


@pytest.mark.parametrize("language", ["en", "zh"])
def test_kit_runs_outside_the_repository(language):
    name = f"{build_kit.kit_name(build_kit.version(), language)}.zip"
    (kit,) = sorted(HTML.glob(f"_downloads/*/{name}")) or [None]
    assert kit is not None, f"no {name} in _build/html/_downloads (build the book: make book)"
    folder = installed_kit(kit)
    where = folder.parent
    assert not where.resolve().is_relative_to(ROOT), f"{where} is inside the repository"
    python, env = folder / ".venv" / "bin" / "python", _clean_env()

    # The kit's own mathchain, the version it names, and nothing else that the notebooks need.
    report = json.loads(_run([str(python), "-c", (
        "import json, importlib.metadata as m, mathchain; print(json.dumps("
        "[mathchain.__file__, mathchain.__version__, m.version('mathchain')]))")],
        folder, env, "import mathchain in the kit's environment"))
    where_from, version, dist_version = report
    assert Path(where_from).resolve().is_relative_to(folder / ".venv"), where_from
    assert version == dist_version == build_kit.version(), report
    assert kit.name == f"{build_kit.kit_name(version, language)}.zip"

    # A kernel of that environment; nbval (this environment's) drives it.
    jupyter = where / "jupyter"
    _run([str(python), "-m", "ipykernel", "install", "--prefix", str(jupyter),
          "--name", "mathchain-kit"], folder, env, "registering the kit's kernel")
    (where / "pytest.ini").write_text("[pytest]\n")
    notebooks = sorted(p.name for p in folder.glob("*.ipynb"))
    assert notebooks == sorted([p.name for p in CHAPTERS] + ["references.ipynb"])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(where / "pytest.ini"), "-p", "no:cacheprovider",
         "-q", "--nbval", "--nbval-kernel-name", "mathchain-kit",
         "--nbval-sanitize-with", str(ROOT / "tests" / "sanitize.cfg"), *notebooks],
        cwd=folder, env=_clean_env(JUPYTER_PATH=str(jupyter / "share" / "jupyter")),
        capture_output=True, text=True)
    assert done.returncode == 0, (
        f"the kit's notebooks fail in a fresh environment (exit {done.returncode}):\n"
        + (done.stdout + done.stderr)[-6000:])


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_intro_links_the_downloads(edition):
    """The intro (and its "Run it yourself" section) of each edition links the served kit and
    wheel; once ``make pdf`` has built the PDFs before the book, it links its own edition's PDF
    (``mathchain.pdf``, the 简体中文 ``mathchain-zh.pdf``), served as it was built, and not the
    other's."""
    html = HTML / "zh" if edition == "zh" else HTML
    own, other = ("mathchain-zh.pdf", "mathchain.pdf") if edition == "zh" else (
        "mathchain.pdf", "mathchain-zh.pdf")
    intro = (html / "intro.html").read_text(encoding="utf-8")
    section = intro[intro.index('id="run-it-yourself"'):]
    section = section[:section.find("<section", 1)]
    links = re.findall(r'href="(_downloads/[^"]+)"', intro)
    for pattern in (r"mathchain-course-[^/]+\.zip", r"mathchain-[^/]+\.whl"):
        served = [link for link in links if re.search(pattern + "$", link)]
        assert served and all((html / link).is_file() for link in served), (pattern, links)
        assert any(link in section for link in served), f"'Run it yourself' does not link {pattern}"
    pdf = ROOT / "_build" / "pdf" / own
    pdf_links = [link for link in links if link.endswith("/" + own)]
    assert not [link for link in links if link.endswith("/" + other)], f"the intro links {other}"
    if pdf.is_file() and pdf.stat().st_mtime < (html / "intro.html").stat().st_mtime:
        assert pdf_links, "the PDF was built before the book, but the intro does not link it"
        assert (html / pdf_links[0]).read_bytes() == pdf.read_bytes()
    else:
        prose = " ".join(re.sub(r"<[^>]+>", "", intro).split())
        assert not pdf_links and "make pdf" in prose, "the intro must say how to build the PDF"
