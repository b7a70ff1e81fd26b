"""The course kits in JupyterLab, as a reader opens them (build the book first: make book).

One JupyterLab, started from the kit's own environment (its README's commands: the kit's
requirements and wheel, nothing from this repository; ``tests/test_kit.py`` installs it once per kit
and both tests reuse it), with no extension, on 127.0.0.1, a free port and an empty token, serves
copies of both kits (``en/``, ``zh/``); one headless Chromium opens every notebook of both, one
after the other, in that one JupyterLab page. For each notebook:

* every displayed equation (``$$ … $$`` in its Markdown cells and Markdown outputs) is typeset by
  MathJax, and MathJax shows no error;
* no MyST is left in the rendered Markdown: no role (``{doc}`…` ``, ``{eq}``, ``{measured}``, …),
  no directive fence (```` ```{math} ````, shown as a code block), no ``:label:``;
* every link to a notebook reaches an existing notebook of the same kit, and its ``#fragment`` an
  element of that notebook (JupyterLab's sanitizer turns ``<a id>`` into ``data-jupyter-id``: both
  count); a link to another file of the kit reaches an existing file;
* a notebook of the 简体中文 kit shows no paragraph, heading, list item or table cell in English
  outside code (the rule of the rendered-book test, ``english_left``; the references are a
  bibliography, as in the book, and are left out);
* the browser console shows no error while the notebook opens.

JupyterLab runs with ``windowingMode: none`` (every cell attached at once: the check sees them all)
and without kernels (``notebook_starts_kernel``: the notebooks are read, not run; tests/test_kit.py
runs them). ``test_lab_checks_bite`` opens planted notebooks in the same JupyterLab and shows that
each check reports what it should.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import sync_playwright
from test_kit import HTML, _clean_env, build_kit, installed_kit
from test_rendered_book import CHROMIUM_ARGS, english_left

LANGUAGES = build_kit.LANGUAGES
TIMEOUT_S = 60
SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}
# In the zh kit the English of a bibliography stays: the book's check skips it too.
NOT_TRANSLATED = {"references.ipynb"}
# Code (editors, prompts), what a cell prints as text, code spans and math: not prose to translate.
LAB_SKIP = (".jp-InputArea-editor, .cm-editor, .jp-InputPrompt, .jp-OutputPrompt, .jp-RenderedText, "
            "pre, code, mjx-container")


def _kit(language: str) -> Path:
    name = f"{build_kit.kit_name(build_kit.version(), language)}.zip"
    found = sorted(HTML.glob(f"_downloads/*/{name}"))
    assert found, f"no {name} in _build/html/_downloads (build the book: make book)"
    return found[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- planted notebooks, for the bite test ----------------------------------------------------------

def _notebook(*markdown: str, output: str | None = None) -> dict:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text} for text in markdown]
    if output is not None:
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "show()",
                      "outputs": [{"output_type": "display_data", "metadata": {},
                                   "data": {"text/markdown": output, "text/plain": "<Markdown>"}}]})
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


PLANTED = {
    "broken.ipynb": _notebook(
        "# Broken\n\n<a id='top'></a>See {doc}`00-layouts`, measured {measured}`3 ms`.",
        "```{math}\n:label: planted\na = b\n```",
        "$$\n\\frac{1}\n$$\n\nA stray \\\\tag{9.9} in the prose.",
        "[gone](missing.ipynb), [no anchor](good.ipynb#nowhere), [fine](good.ipynb#here), "
        "[in the page](#top), [out of the kit](../en/00-layouts.ipynb).",
        '<img src="missing.png">',
        output="Then {eq}`planted`."),
    "good.ipynb": _notebook('# Good\n\n<a id="here"></a>Here, $$a = b$$, and a '
                            '[link](broken.ipynb#top).'),
    "zh.ipynb": _notebook("# 中文\n\n这是中文段落。", "This paragraph was left in English.",
                          output="| 表 |\n|---|\n| checked: error 5e-11 at 3 sizes |"),
}


# --- JupyterLab and the browser --------------------------------------------------------------------

@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """(base URL, served folder): one JupyterLab from the English kit's environment."""
    folders = {language: installed_kit(_kit(language)) for language in LANGUAGES}
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    for language, folder in folders.items():
        shutil.copytree(folder, root / language, ignore=shutil.ignore_patterns(".venv"))
    (root / "planted").mkdir()
    for name, nb in PLANTED.items():
        (root / "planted" / name).write_text(json.dumps(nb), encoding="utf-8")
    dirs = {name: base / name for name in ("config", "data", "settings", "workspaces", "runtime")}
    for name, content in SETTINGS.items():
        (dirs["settings"] / name).parent.mkdir(parents=True)
        (dirs["settings"] / name).write_text(json.dumps(content))
    for path in dirs.values():
        path.mkdir(exist_ok=True)
    port = _free_port()
    command = [str(folders["en"] / ".venv" / "bin" / "jupyter"), "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.notebook_starts_kernel=False",
               "--LabApp.extension_manager=readonly", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = _clean_env(JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
                     JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
                     JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
                     JUPYTER_RUNTIME_DIR=str(dirs["runtime"]))
    log = (base / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(base / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield url, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


class Lab:
    """One JupyterLab page in Chromium; opens notebooks one after the other and reads them."""

    def __init__(self, page, url: str, root: Path):
        self.page, self.url, self.root = page, url, root
        self.console: list[str] = []
        self.facts: dict[str, dict] = {}
        page.on("console", lambda msg: msg.type == "error" and self.console.append(msg.text))
        page.on("pageerror", lambda exc: self.console.append(f"uncaught: {exc}"))
        page.goto(f"{url}/lab", wait_until="load", timeout=TIMEOUT_S * 1000)
        page.wait_for_function("() => window.jupyterapp", timeout=TIMEOUT_S * 1000)
        page.evaluate("async () => { await window.jupyterapp.started; "
                      "await window.jupyterapp.restored; }")
        self.startup_errors = list(self.console)

    def read(self, path: str) -> dict:
        """What notebook ``path`` (relative to the served folder) shows, once it has rendered."""
        if path not in self.facts:
            self.facts[path] = self.show(path)
        return self.facts[path]

    def show(self, path: str) -> dict:
        """Open notebook ``path`` (closing the one before) and read it once it has rendered."""
        nb = json.loads((self.root / path).read_text(encoding="utf-8"))
        markdown = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                    for c in nb["cells"] if c["cell_type"] == "markdown"]
        markdown += ["".join(o.get("data", {}).get("text/markdown", "")) for c in nb["cells"]
                     if c["cell_type"] == "code" for o in c.get("outputs", [])]
        displayed = sum(text.count("$$") for text in markdown) // 2
        before = len(self.console)
        self.page.evaluate("async (p) => { await window.jupyterapp.commands.execute("
                           "'application:close-all'); await window.jupyterapp.commands.execute("
                           "'docmanager:open', {path: p}); }", path)
        deadline, last, stable = time.monotonic() + TIMEOUT_S, None, 0
        while stable < 3 and time.monotonic() < deadline:
            now = self.page.evaluate(READ_JS)
            ready = now["cells"] == len(nb["cells"]) and now["displayed"] >= displayed
            stable = stable + 1 if ready and now == last else 0
            last = now
            time.sleep(0.2)
        last["expected_displayed"] = displayed
        last["expected_cells"] = len(nb["cells"])
        last["console"] = self.console[before:]
        if path.split("/")[0] == "zh" or path.endswith("/zh.ipynb"):
            last["english"] = english_left(self.page, root=ACTIVE, skip=LAB_SKIP,
                                           outputs=".jp-OutputArea")
        return last

    def problems(self, path: str) -> list[str]:
        """Why notebook ``path`` does not read as the book does (empty: it does)."""
        f, problems = self.read(path), []
        if f["cells"] != f["expected_cells"]:
            problems.append(f"{path}: {f['cells']} of {f['expected_cells']} cells shown")
        if f["displayed"] < f["expected_displayed"]:
            problems.append(f"{path}: {f['displayed']} of {f['expected_displayed']} displayed "
                            "equations typeset by MathJax")
        problems += [f"{path}: MathJax error: {e!r}" for e in f["merror"]]
        problems += [f"{path}: TeX left as text: {t!r}" for t in f["tex"]]
        problems += [f"{path}: MyST left: {t!r}" for t in f["myst"]]
        problems += [f"{path}: console error: {t[:200]}" for t in f["console"]]
        if Path(path).name not in NOT_TRANSLATED:
            problems += [f"{path}: left in English: {t!r}" for t in f.get("english", [])]
        problems += self.link_problems(path, f["links"])
        return problems

    def link_problems(self, path: str, links: list[str]) -> list[str]:
        kit, problems = path.split("/")[0], []
        for href in links:
            parts = urlsplit(href)
            if href.startswith("#"):
                target = path
            elif f"{parts.scheme}://{parts.netloc}" != self.url:
                continue  # outside JupyterLab: the web
            else:
                route = parts.path
                for prefix in ("/files/", "/lab/tree/", "/tree/"):
                    if route.startswith(prefix):
                        target = unquote(route[len(prefix):])
                        break
                else:
                    problems.append(f"{path}: link {href!r} is not to a file")
                    continue
            shown = target.split("?")[0]
            if shown.split("/")[0] != kit or not (self.root / shown).is_file():
                problems.append(f"{path}: broken link to {shown} (not a file of the kit {kit}/)")
                continue
            fragment = unquote(parts.fragment)
            if fragment and shown.endswith(".ipynb") and fragment not in self.read(shown)["ids"]:
                problems.append(f"{path}: broken anchor {shown}#{fragment}")
        return problems


ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
READ_JS = r"""() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return {cells: 0, displayed: 0, merror: [], tex: [], myst: [], ids: [], links: []};
    const rendered = Array.from(panel.querySelectorAll('.jp-RenderedMarkdown'));
    const inRendered = sel => rendered.flatMap(r => Array.from(r.querySelectorAll(sel)));
    const texts = [];
    for (const r of rendered) {
        const walker = document.createTreeWalker(r, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode())
            if (!n.parentElement.closest('pre, code, mjx-container, mjx-assistive-mml'))
                texts.push(n.textContent);
    }
    const role = /\{(doc|eq|ref|cite|numref|measured|identity|index|math|download|term)\}/;
    return {
        cells: panel.querySelectorAll('.jp-Cell').length,
        displayed: inRendered('mjx-container[display="true"]').length,
        merror: inRendered('mjx-merror, [data-mjx-error]')
            .filter(e => !e.closest('mjx-assistive-mml'))
            .map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
        tex: texts.filter(t => /\$\$|\\(begin|tag|frac)\b/.test(t)).map(t => t.trim().slice(0, 60)),
        myst: texts.filter(t => role.test(t) || t.includes(':label:')).map(t => t.trim().slice(0, 60))
            .concat(inRendered('code[class*="language-{"]').map(c => '```' + c.className)),
        ids: Array.from(panel.querySelectorAll('[id], [data-jupyter-id]'))
            .map(e => e.getAttribute('data-jupyter-id') || e.id),
        links: inRendered('a[href]').map(a => a.getAttribute('href')),
    };
}"""


@pytest.fixture(scope="session")
def jupyterlab(lab):
    url, root = lab
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: sudo apt-get install -y chromium  (or: make browser)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_S * 1000)
        try:
            yield Lab(page, url, root)
        finally:
            browser.close()


def _kit_notebooks(language: str) -> list[str]:
    try:
        kit = _kit(language)
    except AssertionError:
        return [f"{language}/(no kit: make book)"]
    with zipfile.ZipFile(kit) as zf:
        return sorted(f"{language}/{Path(n).name}" for n in zf.namelist() if n.endswith(".ipynb"))


@pytest.mark.parametrize("path", [p for language in LANGUAGES for p in _kit_notebooks(language)])
def test_notebook_reads_in_jupyterlab(jupyterlab, path):
    assert (jupyterlab.root / path).is_file(), f"{path}: not in the kit"
    problems = jupyterlab.problems(path)
    assert not problems, "\n".join(problems)


def test_jupyterlab_starts_clean(jupyterlab):
    """No console error while JupyterLab itself starts (so one later is the notebook's)."""
    assert not jupyterlab.startup_errors, jupyterlab.startup_errors


def test_lab_checks_bite(jupyterlab):
    """Planted notebooks: each problem is reported, naming the notebook."""
    broken = jupyterlab.problems("planted/broken.ipynb")
    name = "planted/broken.ipynb"
    assert any(p.startswith(f"{name}: MathJax error: ") for p in broken), broken
    assert any(p.startswith(f"{name}: TeX left as text: 'A stray ") for p in broken), broken
    myst = [p for p in broken if p.startswith(f"{name}: MyST left: ")]
    assert any("{doc}" in p for p in myst) and any("{measured}" in p for p in myst), myst
    assert any("```language-{math}" in p for p in myst), myst
    assert any("{eq}" in p for p in myst), myst  # in the Markdown output
    assert f"{name}: broken link to planted/missing.ipynb (not a file of the kit planted/)" in broken
    assert f"{name}: broken anchor planted/good.ipynb#nowhere" in broken
    assert f"{name}: broken link to en/00-layouts.ipynb (not a file of the kit planted/)" in broken
    assert not any("good.ipynb#here" in p or "#top" in p for p in broken), broken
    assert any(p.startswith(f"{name}: console error: ") for p in broken), broken
    assert jupyterlab.problems("planted/good.ipynb") == []
    zh = jupyterlab.problems("planted/zh.ipynb")
    assert zh == ["planted/zh.ipynb: left in English: 'This paragraph was left in English.'",
                  "planted/zh.ipynb: left in English: 'checked: error 5e-11 at 3 sizes'"], zh


SCREENSHOTS = Path(os.environ.get("MATHCHAIN_SCREENSHOT_DIR") or HTML.parent / "screenshots") / "kit"
MAX_HEIGHT = 30_000  # pixels: a taller notebook is cut there


@pytest.mark.parametrize("path", [p for language in LANGUAGES for p in _kit_notebooks(language)])
def test_screenshot(jupyterlab, path):
    """``make screenshots``: the notebook as JupyterLab shows it, whole (a picture, not a check)."""
    jupyterlab.show(path)
    page = jupyterlab.page
    height = page.evaluate(f"""() => {{
        const inner = document.querySelector('{ACTIVE} .jp-WindowedPanel-outer')
                      || document.querySelector('{ACTIVE} .jp-Notebook');
        return inner.scrollHeight + (window.innerHeight - inner.clientHeight);
    }}""")
    out = SCREENSHOTS / path.replace(".ipynb", ".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    try:
        page.set_viewport_size({"width": 1280, "height": min(max(height, 900), MAX_HEIGHT)})
        page.wait_for_timeout(500)  # JupyterLab lays the panels out again
        page.screenshot(path=str(out))
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    assert out.is_file() and out.stat().st_size > 10_000, f"{path}: screenshot not written ({out})"
