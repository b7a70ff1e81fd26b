"""The built book as a reader sees it: every page opened in headless Chromium.

For every page of the table of contents (and Sphinx's index and search pages):

* math is typeset by MathJax, with no MathJax error and no TeX left as text;
* no request leaves the built folder (the book must work with no network, and must not reach into
  the sources next to it), and none fails;
* no displayed equation and no table is wider than the text column;
* every image has loaded, and every figure a chapter notebook outputs is on its page;
* every internal link and anchor points at an existing page (inside the book) and element id;
* the JavaScript console shows no error, and no script is included twice;
* axe-core (pinned in tools/ensure-axe) finds no violation of the WCAG 2.0/2.1 A and AA rules
  (colour contrast, ARIA roles, names, …), and no colour contrast too low in the dark theme;
* ``make screenshots`` writes a full-page screenshot of each page to ``_build/screenshots/`` (``zh/``
  for the Chinese edition); ``make test`` leaves them out (they check nothing, and take ~100 s).

All of this for both editions: English (``_build/html/``) and 简体中文 (``_build/html/zh/``, see
tools/i18n). Each page also links to the same page of the other edition (``check_language``), and
a page of the Chinese edition shows no paragraph left in English (``check_translated``).

The pages come from ``_toc.yml``, not from a listing of the built folder, so a page that failed to
build is reported missing instead of silently not tested, and a page left over from a renamed chapter
is not tested (no link reaches it; the link check catches one that does). ``index.html`` only
redirects to the first page: ``test_front_page_redirects_to_intro`` follows it.

Each check is a function that returns a list of problems naming the page, so ``test_checks_bite``
can prove on a deliberately broken page, on every run, that each check reports what it should.

The book is rebuilt (``jupyter-book build . --all -W -n --keep-going``) when a page of
``_build/html`` is older than its source or than any source every page depends on (``_config.yml``,
``_toc.yml``, ``references.bib``, ``_ext/``, ``mathchain/``): Sphinx's incremental build does not
notice a change to ``mathchain``, hence ``--all``. ``MATHCHAIN_HTML_DIR`` points the tests at another
built copy, used as it is; screenshots then go next to it (``<dir>/../screenshots``) unless
``MATHCHAIN_SCREENSHOT_DIR`` says where. Chromium is Debian's ``chromium`` package (Playwright's
own browser download needs the internet): missing, it is an error, never a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
# Sources every page depends on; a page also depends on its own source (intro.md, chapters/*.ipynb).
GLOBAL_SOURCES = ["_config.yml", "_toc.yml", "references.bib", "_ext", "_static", "mathchain", "locales"]
# pydata-sphinx-theme logs this through console.error on file:// pages (it cannot read the saved
# theme mode there). It is the theme's noise, not a fault of the book; nothing broader is ignored.
KNOWN_THEME_NOISE = "Got invalid theme mode: . Resetting to auto."
# Requests that stay on the machine: files (inside the built book, checked below) and content the page
# made itself (data: URIs, blobs, about:blank frames).
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 30_000
# axe-core's rules for WCAG 2.0 and 2.1, levels A and AA (the "best-practice" rules are not a standard)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MATHJAX_TIMEOUT_MS = 20_000


# --- which pages --------------------------------------------------------------------------------

def toc_docs(root: Path = ROOT) -> list[str]:
    """Documents of the book, without suffix, in reading order (``intro``, ``chapters/00-…``)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    files += [entry["file"] for entry in toc.get("chapters", [])]
    return [str(Path(f).with_suffix("")) for f in files]


CONTENT_PAGES = [f"{doc}.html" for doc in toc_docs()]
SPHINX_PAGES = ["genindex.html", "search.html"]
CHAPTER_PAGES = [p for p in CONTENT_PAGES if p.startswith("chapters/")]
ZH = "zh/"  # the 简体中文 edition, built under the English one
EDITIONS = ["", ZH]
CJK = "\u3400-\u9fff"


def edition_of(name: str) -> tuple[str, str]:
    """``zh/chapters/x.html`` -> (``zh/``, ``chapters/x.html``)."""
    return (ZH, name[len(ZH):]) if name.startswith(ZH) else ("", name)


# --- the built book -------------------------------------------------------------------------------

def _files(name: str, root: Path = ROOT) -> list[Path]:
    path = root / name
    if path.is_file():
        return [path]
    return [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and ".ipynb_checkpoints" not in p.parts and p.suffix != ".mo" and "work" not in p.parts]


def _source_of(doc: str, root: Path = ROOT) -> Path | None:
    for suffix in (".md", ".ipynb", ".rst"):
        if (root / f"{doc}{suffix}").is_file():
            return root / f"{doc}{suffix}"
    return None


def stale_pages(html: Path, root: Path = ROOT) -> list[str]:
    """Pages missing from ``html`` or older than a source of project ``root`` they are built from."""
    stale = []
    editions = EDITIONS if (root / "locales").is_dir() else [""]
    for edition in editions:
        # the translations are a source of the zh pages only
        names = [n for n in GLOBAL_SOURCES if edition or n != "locales"]
        global_files = [p for name in names for p in _files(name, root)]
        newest_global = max((p.stat().st_mtime for p in global_files), default=0.0)
        for doc in toc_docs(root):
            page, source = html / f"{edition}{doc}.html", _source_of(doc, root)
            newest = max(newest_global, source.stat().st_mtime if source else 0.0)
            if not page.is_file():
                stale.append(f"{edition}{doc}.html (missing)")
            elif page.stat().st_mtime < newest:
                stale.append(f"{edition}{doc}.html (older than its sources)")
    return stale


@pytest.fixture(scope="session")
def html_dir() -> Path:
    override = os.environ.get("MATHCHAIN_HTML_DIR")
    if override:
        path = Path(override).resolve()
        assert (path / "index.html").is_file(), f"MATHCHAIN_HTML_DIR={override} has no index.html"
        return path
    path = ROOT / "_build" / "html"
    stale = stale_pages(path)
    if stale:
        jb = Path(sys.executable).with_name("jupyter-book")
        shutil.rmtree(ROOT / "_build" / ".jupyter_cache", ignore_errors=True)  # as make book does
        print(f"rebuilding the book, stale: {', '.join(stale)}", file=sys.stderr)
        for command in ([str(jb) if jb.exists() else "jupyter-book", "build", ".", "--all",
                         "-W", "-n", "--keep-going"], [sys.executable, "tools/i18n", "html"]):
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # no terminal colours
                pytest.fail(f"the book build failed ({' '.join(command)}, exit {done.returncode}):\n"
                            + log[-4000:])
        still = stale_pages(path)
        assert not still, f"the build did not refresh: {', '.join(still)}"
    return path


@pytest.fixture(scope="session")
def screenshot_dir(html_dir) -> Path:
    override = os.environ.get("MATHCHAIN_SCREENSHOT_DIR")
    return Path(override).resolve() if override else html_dir.parent / "screenshots"


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: the rendered-book tests need it. "
                    "Install it with: sudo apt-get install -y chromium  (or: make browser)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's script, installed from npm at the version tools/ensure-axe pins (``make browser``)."""
    done = subprocess.run(["bash", "tools/ensure-axe"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"tools/ensure-axe failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return ROOT / done.stdout.strip().splitlines()[-1]


class Visit:
    """One page opened in the browser, with what it requested and logged."""

    def __init__(self, browser, path: Path, lands_on: Path | None = None):
        self.path = path
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", lambda request: self.failed.append(
            f"{request.url} ({request.failure})"))
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        self.page.goto(path.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        if lands_on is not None:  # a redirecting page: wait for the page it leads to
            try:
                self.page.wait_for_url(lands_on.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
            except PlaywrightError as exc:
                raise AssertionError(f"{path.name}: does not lead to {lands_on.name} "
                                     f"(at {self.page.url}): {exc.message.splitlines()[0]}") from None
        # Typesetting is asynchronous: wait until MathJax says it is done (if the page loads it).
        self.mathjax_finished = self.page.evaluate("""async (ms) => {
            if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return true;
            const late = new Promise(done => setTimeout(() => done(false), ms));
            return await Promise.race([MathJax.startup.promise.then(() => true), late]);
        }""", MATHJAX_TIMEOUT_MS)

    def close(self):
        self.page.close()


@pytest.fixture
def visit(browser, html_dir):
    opened = []

    def open_page(relative: str, lands_on: str | None = None) -> Visit:
        path = html_dir / relative
        assert path.is_file(), f"{relative}: page missing from the built book ({path})"
        v = Visit(browser, path, lands_on=html_dir / lands_on if lands_on else None)
        opened.append(v)
        return v

    yield open_page
    for v in opened:
        v.close()


# --- the checks: each returns a list of problems naming the page ------------------------------------

def check_math(v: Visit, name: str, expect_math: bool = False) -> list[str]:
    """Math typeset, without errors; ``expect_math``: the page must have some typeset math."""
    found = v.page.evaluate(r"""() => ({
        source: document.querySelectorAll('.math').length,
        typeset: document.querySelectorAll('mjx-container').length,
        errors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                     .filter(e => !e.closest('mjx-assistive-mml'))  // the same error, for screen readers
                     .map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
        inputError: document.body.innerText.includes('Math input error'),
        // MathJax's noundefined extension shows an unknown macro (\R without its definition) in red
        undefined: Array.from(document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]'))
                        .map(e => e.textContent).filter(t => t.startsWith('\\')).slice(0, 5),
        raw: Array.from(document.querySelectorAll('.math'))
                  .filter(e => !e.querySelector('mjx-container') && e.tagName !== 'MJX-CONTAINER')
                  .map(e => e.textContent.trim().slice(0, 60)).slice(0, 5),
        mathjax: typeof window.MathJax !== 'undefined' && !!(MathJax.startup && MathJax.startup.promise),
        // a displayed equation wider than the text column is cut off or needs a sideways scroll
        wide: Array.from(document.querySelectorAll('mjx-container[display="true"]'))
                   .filter(e => e.scrollWidth > e.clientWidth + 1)
                   .map(e => (e.closest('[id]') || {id: '?'}).id).slice(0, 5),
        // TeX left in the prose (outside code, where a dollar sign is just a character)
        stray: (() => {
            const skip = 'PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER, .math';
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const found = [];
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                if (node.parentElement.closest(skip)) continue;
                const hit = node.textContent.match(/\$[^$\s][^$]*\$|\\\(|\\\[|\\frac/);
                if (hit) found.push(hit[0].slice(0, 60));
            }
            return found.slice(0, 5);
        })(),
    })""")
    problems = []
    if not v.mathjax_finished:
        problems.append(f"{name}: MathJax did not finish typesetting within {MATHJAX_TIMEOUT_MS} ms")
    if found["source"] and not found["mathjax"]:
        problems.append(f"{name}: has {found['source']} math elements but MathJax did not load")
    if (found["source"] or expect_math) and not found["typeset"]:
        problems.append(f"{name}: has {found['source']} math elements and none was typeset")
    if found["raw"]:
        problems.append(f"{name}: math left as raw source: {found['raw']}")
    if found["errors"]:
        problems.append(f"{name}: MathJax errors: {found['errors']}")
    if found["undefined"]:
        problems.append(f"{name}: undefined TeX macros: {found['undefined']}")
    if found["inputError"]:
        problems.append(f"{name}: MathJax shows 'Math input error'")
    if found["stray"]:
        problems.append(f"{name}: TeX shown as text: {found['stray']}")
    if found["wide"]:
        problems.append(f"{name}: equations wider than the text column: {found['wide']}")
    return problems


def check_tables(v: Visit, name: str) -> list[str]:
    """No table wider than the column it sits in (it would be cut off or need a sideways scroll)."""
    wide = v.page.evaluate("""() => Array.from(document.querySelectorAll('table'))
        .filter(t => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1)
        .map(t => (t.closest('[id]') || {id: '?'}).id).slice(0, 5)""")
    return [f"{name}: tables wider than the page: {wide}"] if wide else []


def check_images(v: Visit, name: str) -> list[str]:
    broken = v.page.evaluate("""async () => {
        const images = Array.from(document.images);
        images.forEach(img => { img.loading = 'eager'; });
        await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
            img.addEventListener('load', done); img.addEventListener('error', done);
            setTimeout(done, 5000);
        })));
        return images.filter(img => !(img.complete && img.naturalWidth > 0))
                     .map(img => img.getAttribute('src'));
    }""")
    return [f"{name}: image did not load: {src}" for src in broken]


def _leaves(url: str, root: Path) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "file":
        return parts.scheme not in LOCAL_SCHEMES
    return not Path(os.path.normpath(unquote(parts.path))).is_relative_to(root)


def check_requests(v: Visit, name: str, root: Path) -> list[str]:
    """No request for anything but files inside ``root``, the built book; none failed.

    Run after the checks that make the page load more (images), so their requests count too.
    """
    outside = sorted({url for url in v.requests if _leaves(url, root)})
    return ([f"{name}: request leaves the built book: {url}" for url in outside]
            + [f"{name}: request failed: {failure}" for failure in sorted(set(v.failed))])


def check_console(v: Visit, name: str) -> list[str]:
    return [f"{name}: console error: {text}" for text in v.console_errors
            if text != KNOWN_THEME_NOISE]


def check_axe(v: Visit, name: str, axe_script: Path, dark: bool = True) -> list[str]:
    """No axe-core violation of the rules tagged ``AXE_TAGS`` in the light theme, and (``dark``) no
    colour contrast too low in the dark one (the only rule the theme changes).

    One problem per rule and theme: its id, what it asks, how many elements fail and the first one."""
    v.page.add_script_tag(path=str(axe_script))
    problems = []
    for theme in ("light", "dark") if dark else ("light",):  # the theme's switch: <html data-theme>
        run_only = ({"type": "tag", "values": AXE_TAGS} if theme == "light"
                    else {"type": "rule", "values": ["color-contrast"]})
        found = v.page.evaluate("""async ([runOnly, theme]) => {
            document.documentElement.dataset.theme = theme;
            // the theme fades colours over 0.15 s: measure the colours it ends with
            await Promise.all(document.getAnimations().filter(a => a instanceof CSSTransition)
                                  .map(a => a.finished.catch(() => null)));
            // MathJax's typeset formulas (thousands of glyph nodes on a chapter) are text in the page's
            // colour: left out, they take a fifth of the time
            const result = await axe.run({exclude: [['mjx-container']]},
                                         {runOnly, resultTypes: ['violations']});
            return result.violations.map(rule => ({
                id: rule.id, help: rule.help, count: rule.nodes.length,
                target: rule.nodes[0].target.join(' '),
                summary: (rule.nodes[0].failureSummary || '').split('\\n').slice(1, 2).join(' ').trim(),
            }));
        }""", [run_only, theme])
        problems += [f"{name}: axe {rule['id']} ({theme} theme): {rule['help']}; {rule['count']} "
                     f"element(s), first {rule['target']!r}: {rule['summary'][:200]}" for rule in found]
    return problems


class _PageParser(HTMLParser):
    """Links, element ids and scripts of one HTML file."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "script":
            self._script = {"src": attrs.get("src"), "body": ""}

    def handle_data(self, data):
        if self._script is not None:
            self._script["body"] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            src, body = self._script["src"], self._script["body"].strip()
            self.scripts.append(f"src={src}" if src else body)
            self._script = None


def _parse(path: Path, cache: dict) -> _PageParser:
    if path not in cache:
        parser = _PageParser()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = parser
    return cache[path]


def check_links(page_path: Path, root: Path, name: str, cache: dict | None = None) -> list[str]:
    """Every relative link must reach an existing file inside ``root``, its #fragment an existing id."""
    cache = {} if cache is None else cache
    root = root.resolve()
    problems = []
    for href in _parse(page_path, cache).links:
        parts = urlsplit(href)
        if parts.scheme and parts.scheme != "file" or href.startswith("//"):
            continue  # an external link is not a request; the request check covers loading
        target = page_path if not parts.path else (
            Path(unquote(parts.path)).resolve() if parts.scheme == "file"
            else (page_path.parent / unquote(parts.path)).resolve())
        if not target.is_relative_to(root):
            problems.append(f"{name}: link {href!r} leads out of the built book, to {target}")
            continue
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{name}: broken link {href!r}: {target.relative_to(root)} does not exist")
            continue
        fragment = unquote(parts.fragment)
        if fragment and target.suffix == ".html" and fragment not in _parse(target, cache).ids:
            problems.append(f"{name}: broken anchor {href!r}: no element with id {fragment!r}")
    return problems


def check_scripts_once(page_path: Path, name: str, cache: dict | None = None) -> list[str]:
    """No script twice on a page (Jupyter Book 1.0.4 repeats sphinx-thebe's; see _ext/)."""
    counts = Counter(_parse(page_path, {} if cache is None else cache).scripts)
    return [f"{name}: script included {n} times: {script[:80]!r}"
            for script, n in counts.items() if n > 1]


def _figure_outputs(notebook: Path) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(1 for cell in cells if cell["cell_type"] == "code" for out in cell.get("outputs", [])
               if any(kind.startswith("image/") for kind in out.get("data", {})))


def check_notebook(v: Visit, root: Path, name: str, cache: dict | None = None) -> list[str]:
    """A notebook page shows one loaded image per figure output and links to the notebook."""
    relative = Path(name).with_suffix(".ipynb")
    notebook = root / "_sources" / relative
    if not notebook.is_file():
        return [f"{name}: the notebook is not in the built book (_sources/{relative})"]
    problems = []
    expected = _figure_outputs(notebook)
    # myst-nb puts each cell's outputs in div.cell_output (a figure in the prose is not counted)
    widths = v.page.evaluate("Array.from(document.querySelectorAll('.cell_output img'))"
                             ".map(i => i.naturalWidth)")
    if len(widths) != expected:
        problems.append(f"{name}: figures on the page: {len(widths)}, "
                        f"figure outputs in the notebook: {expected}")
    if not all(width > 0 for width in widths):
        problems.append(f"{name}: a figure did not load (widths {widths})")
    # Cells tagged raises-exception show the error alone (%xmode Minimal), wrapped to the column.
    errors = v.page.evaluate("Array.from(document.querySelectorAll('.cell_output .traceback pre'))"
                             ".map(p => [p.innerText, p.scrollWidth > p.clientWidth])")
    for text, too_wide in errors:
        last = text.strip().splitlines()[-1] if text.strip() else ""
        if "Traceback (most recent call last)" in text:
            problems.append(f"{name}: an error output shows the whole traceback: {last[:60]!r}")
        if too_wide:
            problems.append(f"{name}: an error output is wider than the page: {last[:60]!r}")
    links = _parse(root / name, {} if cache is None else cache).links
    if not any(urlsplit(href).path.endswith(f"_sources/{relative}") for href in links):
        problems.append(f"{name}: no download link for _sources/{relative}")
    return problems


def check_language(v: Visit, root: Path, name: str) -> list[str]:
    """The page links to the same page of the other edition, in its head and with a visible switch."""
    edition, page = edition_of(name)
    expected = f"{'' if edition else ZH}{page}"
    found = v.page.evaluate("""() => ({
        lang: document.documentElement.lang,
        alternate: (document.querySelector('link[rel=alternate][hreflang]') || {}).href || null,
        button: (document.querySelector('.article-header-buttons a.mathchain-language-switch')
                 || {}).href || null,
    })""")
    want_lang = "zh-CN" if edition else "en"
    problems = [] if found["lang"] == want_lang else [
        f"{name}: <html lang={found['lang']!r}>, expected {want_lang!r}"]
    target = (root / expected).resolve()
    for what in ("alternate", "button"):
        href = found[what]
        if href is None:
            problems.append(f"{name}: no language switch ({what})")
        elif Path(unquote(urlsplit(href).path)).resolve() != target:
            problems.append(f"{name}: language switch ({what}) leads to {href}, not to {expected}")
    if not target.is_file():
        problems.append(f"{name}: the other edition has no page {expected}")
    return problems


def check_translated(v: Visit, name: str) -> list[str]:
    """No paragraph, heading, list item or table cell of a zh page in English only.

    Covered too: what a code cell outputs as Markdown (MyST-NB renders it as the page's own
    paragraphs and tables inside ``.cell_output``: the identity tables, the timing tables), since its
    text is translated like the prose. Skipped: code, what a cell prints as plain text (``.output``:
    streams, text/plain, tracebacks, one source for both editions), math, the bibliography; and, in
    the prose only, a table cell whose row has Chinese in it (the glossary's English column). Numbers
    and punctuation do not break a run of English words ("checked: error 5e-11 at 3 sizes")."""
    return [f"{name}: left in English: {text!r}" for text in english_left(v.page)]


# The rule of check_translated, for any page: the JupyterLab test (tests/test_kit_lab.py) applies it
# to a notebook of the zh kit with JupyterLab's selectors.
BOOK_SKIP = ("pre, code, .math, mjx-container, .output, .highlight, div.citation, dl.citation, "
             ".bibliography, nav, .toctree-wrapper, script, style")
ENGLISH_LEFT_JS = r"""([cjk, rootSelector, skip, outputSelector]) => {
    const hasCjk = new RegExp('[' + cjk + ']');
    const article = document.querySelector(rootSelector) || document.body;
    const found = [];
    for (const el of article.querySelectorAll('p, li, h1, h2, h3, h4, td, th, dt, dd, caption')) {
        if (el.closest(skip) || el.querySelector('p, li')) continue;
        const row = el.closest('tr');
        if (row && !row.closest(outputSelector) && hasCjk.test(row.innerText)) continue;
        const copy = el.cloneNode(true);
        copy.querySelectorAll(skip).forEach(n => n.remove());
        copy.querySelectorAll('br').forEach(n => n.replaceWith(' '));  // a table cell's lines
        const text = copy.textContent.replace(/\s+/g, ' ').trim();
        const words = text.replace(/\S*\d\S*/g, ' ').replace(/[:;,.()]/g, ' ');
        if (!hasCjk.test(text) && /[A-Za-z]{2,}(\s+[A-Za-z]{2,}){3,}/.test(words))
            found.push(text.slice(0, 70));
    }
    return found.slice(0, 5);
}"""


def english_left(page, root: str = "article", skip: str = BOOK_SKIP,
                 outputs: str = ".cell_output") -> list[str]:
    """Texts of ``page`` (under ``root``, outside ``skip``) in English only (see check_translated);
    ``outputs``: where a cell's Markdown output sits (a table row there is checked cell by cell)."""
    return page.evaluate(ENGLISH_LEFT_JS, [CJK, root, skip, outputs])


def check_markdown_left(v: Visit, name: str) -> list[str]:
    """Markdown that did not render (``**bold**`` next to full-width punctuation, a role's backticks)."""
    left = v.page.evaluate(r"""() => {
        const skip = 'PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER, .math, .cell_output';
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const found = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest(skip)) continue;
            const hit = node.textContent.match(/\*\*\S|\S\*\*|\{(ref|doc|eq|numref|cite|math)\}`/);
            if (hit) found.push(node.textContent.trim().slice(0, 60));
        }
        return found.slice(0, 5);
    }""")
    return [f"{name}: markdown shown as text: {text!r}" for text in left]


# --- the tests --------------------------------------------------------------------------------------

_PARSED: dict = {}
NOTEBOOK_PAGES = [f"{doc}.html" for doc in toc_docs()
                  if (source := _source_of(doc)) is not None and source.suffix == ".ipynb"]


DARK_THEME_PAGES = {"intro.html", "chapters/02-scalar-by-vector.html", "chapters/06-differentials.html",
                    "chapters/appendix-identities.html", "references.html"}
assert DARK_THEME_PAGES <= set(CONTENT_PAGES), DARK_THEME_PAGES - set(CONTENT_PAGES)


@pytest.mark.parametrize("name", [e + p for e in EDITIONS for p in CONTENT_PAGES + SPHINX_PAGES])
def test_page_renders_offline(visit, html_dir, axe_script, name):
    v = visit(name)
    page_path = html_dir / name
    edition, page = edition_of(name)
    # Every content page of this course has math: a page that lost it all must not pass.
    problems = (check_math(v, name, expect_math=page in CONTENT_PAGES) + check_tables(v, name)
                + check_images(v, name)
                + check_requests(v, name, html_dir) + check_console(v, name)
                + check_links(page_path, html_dir, name, _PARSED)
                + check_scripts_once(page_path, name, _PARSED)
                + check_language(v, html_dir, name) + check_markdown_left(v, name)
                # the dark theme's colours are the same CSS on every page: its contrast is checked
                # on the English pages that hold each kind of block (notes, exercises, solutions,
                # proofs, generated tables, the bibliography), not on all 36
                + check_axe(v, name, axe_script, dark=not edition and page in DARK_THEME_PAGES))
    if edition:
        problems += check_translated(v, name)
    if page in NOTEBOOK_PAGES:
        problems += [p.replace(f"{page}: ", f"{name}: ", 1)
                     for p in check_notebook(v, html_dir / edition, page, _PARSED)]
    assert not problems, "\n".join(problems)


def test_a_cjk_font_is_installed():
    """Chromium draws Chinese with a font fontconfig knows (tools/ensure-chromium installs one):
    without it the zh edition, and its screenshots, show boxes."""
    fc_list = shutil.which("fc-list")
    assert fc_list, "fontconfig's fc-list is missing (tools/ensure-chromium installs it)"
    fonts = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no CJK font: sudo apt-get install -y fonts-wqy-zenhei (or make browser)"


@pytest.mark.parametrize(("edition", "query", "expected"), [
    ("", "gradient", "chapters/02-scalar-by-vector.html"),
    (ZH, "梯度", "chapters/02-scalar-by-vector.html"),
    (ZH, "雅可比矩阵", "chapters/00-layouts.html"),
])
def test_search_finds_words(browser, html_dir, edition, query, expected):
    """Each edition has its own search index; the zh one segments Chinese (jieba), so words match."""
    v = Visit(browser, html_dir / edition / "search.html")
    try:
        v.page.goto((html_dir / edition / "search.html").as_uri() + f"?q={query}", wait_until="load")
        v.page.wait_for_selector("#search-results ul.search li", timeout=TIMEOUT_MS)
        hits = v.page.evaluate("""() => Array.from(document.querySelectorAll(
            '#search-results ul.search li a')).map(a => a.getAttribute('href'))""")
    finally:
        v.close()
    assert any(h.split("?")[0].split("#")[0].endswith(expected) for h in hits), (query, hits)


def test_front_page_redirects_to_intro(visit, html_dir):
    """``make book`` tells the reader to open index.html: it must land on the first page."""
    first = f"{toc_docs()[0]}.html"
    v = visit("index.html", lands_on=first)  # times out naming the expected page if it does not
    name = f"index.html -> {first}"
    problems = (check_math(v, name, expect_math=True) + check_requests(v, name, html_dir)
                + check_console(v, name))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", [e + p for e in EDITIONS for p in CONTENT_PAGES])
def test_screenshot(visit, screenshot_dir, name):
    edition, page = edition_of(name)
    out = screenshot_dir / edition / (Path(page).stem + ".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    visit(name).page.screenshot(path=str(out), full_page=True)
    assert out.is_file() and out.stat().st_size > 10_000, f"{name}: screenshot not written ({out})"


def test_stale_pages_are_noticed(tmp_path):
    """The freshness rule behind the build fixture, on a small project whose times are set by hand."""
    project, html = tmp_path / "project", tmp_path / "html"
    (project / "_toc.yml").parent.mkdir()
    (project / "_toc.yml").write_text("root: intro\nparts:\n  - chapters:\n      - file: chapters/a\n"
                                      "      - file: chapters/b\n      - file: references\n")
    sources = ["intro.md", "chapters/a.ipynb", "chapters/b.ipynb", "references.md", "references.bib",
               "_config.yml", "_ext/ext.py", "mathchain/m.py", "mathchain/__pycache__/m.cpython.pyc"]
    pages = ["intro.html", "chapters/a.html", "chapters/b.html", "references.html"]
    built, later = 1_000_000, 1_000_100  # seconds since 1970: every source is built, then one changes

    def set_times(paths, when):
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            os.utime(path, (when, when))

    def stale_after_touching(source):
        set_times([project / s for s in sources] + [project / "_toc.yml"], built - 1)
        set_times([html / p for p in pages], built)
        if source:
            os.utime(project / source, (later, later))
        return stale_pages(html, project)

    assert toc_docs(project) == ["intro", "chapters/a", "chapters/b", "references"]
    assert stale_after_touching(None) == []
    assert stale_after_touching("chapters/a.ipynb") == ["chapters/a.html (older than its sources)"]
    assert stale_after_touching("intro.md") == ["intro.html (older than its sources)"]
    assert stale_after_touching("mathchain/__pycache__/m.cpython.pyc") == []  # not a source
    every_page = [f"{p} (older than its sources)" for p in pages]
    for source in ["_toc.yml", "_config.yml", "references.bib", "_ext/ext.py", "mathchain/m.py"]:
        assert stale_after_touching(source) == every_page, source
    stale_after_touching(None)
    (html / "chapters/b.html").unlink()
    assert stale_pages(html, project) == ["chapters/b.html (missing)"]
    # The rule holds for this book only if every page's source is found where the toc says.
    assert [doc for doc in toc_docs() if _source_of(doc) is None] == []


def test_checks_bite(browser, html_dir, tmp_path):
    """Each check must report a page broken in its way, naming the page and the problem."""
    site = tmp_path / "site"  # the "built book"; tmp_path/outside.css is a file outside it
    site.mkdir()
    (tmp_path / "outside.css").write_text("body { margin: 0; }")
    (site / "_static").symlink_to(html_dir / "_static", target_is_directory=True)
    (site / "exists.html").write_text('<html><body><p id="here">ok</p></body></html>')
    (site / "broken.html").write_text("""<!DOCTYPE html><html><head>
<script>window.MathJax = {tex: {inlineMath: [['\\\\(', '\\\\)']]}};</script>
<script defer src="_static/mathjax/tex-chtml.js"></script>
<script src="https://cdn.example.org/library.js"></script>
<script src="_static/missing.js"></script>
<link rel="stylesheet" href="../outside.css">
<script>var twice = 1;</script>
<script>var twice = 1;</script>
</head><body>
<span class="math">\\(\\frac{\\)</span>
<span class="math">\\(\\frac{1}\\)</span>
<span class="math">\\(x^2 + \\R + \\color{red}{y}\\)</span>
<p>an untypeset $x^2$ in the prose</p>
<div style="width: 10em"><div class="math" id="equation-too-wide">
\\[x_1 + x_2 + x_3 + x_4 + x_5 + x_6 + x_7 + x_8 + x_9\\]</div></div>
<div style="width: 10em" id="narrow"><table><tr><td>a_table_cell_far_wider_than_its_column</td>
</tr></table></div>
<a href="missing.html">a missing page</a>
<a href="exists.html#nowhere">a missing anchor</a>
<a href="exists.html#here">a good anchor</a>
<a href="#here-too">an anchor on this page</a><span id="here-too"></span>
<a href="../outside.html">out of the book</a>
<a href="https://example.org/">an external link is fine</a>
<div class="cell_output"><img src="_images/missing.png"></div>
<div class="cell_output"><div class="output traceback"><pre>Traceback (most recent call last)
  File "mathchain/_checks.py", line 1, in chain_pairs
ValueError: the shapes do not fit</pre></div></div>
<div class="cell_output"><div class="output traceback">
<pre style="width: 12em">ValueError: a_long_message_with_no_space</pre></div></div>
<img src="_static/mathjax/missing-prose-figure.png">
<script>console.error("something broke");</script>
</body></html>""")
    (site / "no-math.html").write_text("<html><body><p>prose only</p></body></html>")
    (site / "_sources").mkdir()
    (site / "_sources" / "broken.ipynb").write_text(json.dumps({"cells": [{
        "cell_type": "code", "source": "plt.show()",
        "outputs": [{"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo="}}] * 2}]}))
    name = "broken.html"
    v = Visit(browser, site / name)
    try:
        math, images, tables = check_math(v, name), check_images(v, name), check_tables(v, name)
        requests, console = check_requests(v, name, site), check_console(v, name)
        notebook = check_notebook(v, site, name)
    finally:
        v.close()
    links = check_links(site / name, site, name)
    scripts = check_scripts_once(site / name, name)
    outside = tmp_path / "outside.html"
    # An unbalanced brace hides the closing delimiter, so MathJax leaves the TeX as it is; a missing
    # argument is typeset as an error. (An undefined macro is not an error: MathJax shows it in red.)
    assert f"{name}: math left as raw source: ['\\\\(\\\\frac{{\\\\)']" in math, math
    assert any(p.startswith(f"{name}: MathJax errors: ") and "Missing argument" in p for p in math), math
    assert f"{name}: undefined TeX macros: ['\\\\R']" in math, math
    assert any("TeX shown as text: ['$x^2$']" in p for p in math), math
    assert f"{name}: equations wider than the text column: ['equation-too-wide']" in math, math
    assert tables == [f"{name}: tables wider than the page: ['narrow']"], tables
    assert not any("none was typeset" in p or "did not load" in p for p in math), math
    leaves = f"{name}: request leaves the built book: "
    assert requests[:2] == [leaves + (tmp_path / "outside.css").as_uri(),
                            leaves + "https://cdn.example.org/library.js"], requests
    assert any(p.startswith(f"{name}: request failed: ") and "_static/missing.js" in p
               for p in requests), requests
    assert images == [f"{name}: image did not load: _images/missing.png",
                      f"{name}: image did not load: _static/mathjax/missing-prose-figure.png"]
    assert any("something broke" in p for p in console), console
    assert sorted(links) == sorted([
        f"{name}: broken link 'missing.html': missing.html does not exist",
        f"{name}: broken anchor 'exists.html#nowhere': no element with id 'nowhere'",
        f"{name}: link '../outside.html' leads out of the built book, to {outside}"])
    assert scripts == [f"{name}: script included 2 times: 'var twice = 1;'"]
    assert notebook == [f"{name}: figures on the page: 1, figure outputs in the notebook: 2",
                        f"{name}: a figure did not load (widths [0])",
                        f"{name}: an error output shows the whole traceback: "
                        "'ValueError: the shapes do not fit'",
                        f"{name}: an error output is wider than the page: "
                        "'ValueError: a_long_message_with_no_space'",
                        f"{name}: no download link for _sources/broken.ipynb"], notebook
    everything = math + tables + requests + images + console + links + scripts + notebook
    assert all(p.startswith(f"{name}: ") for p in everything), everything

    # A page whose math vanished, and the theme's one tolerated message but nothing near it.
    v = Visit(browser, site / "no-math.html")
    try:
        assert check_math(v, "no-math.html", expect_math=True) == [
            "no-math.html: has 0 math elements and none was typeset"]
        assert check_math(v, "no-math.html") == []
        v.console_errors += [KNOWN_THEME_NOISE, "Got invalid theme mode: dark. Resetting to auto."]
        assert check_console(v, "no-math.html") == [
            "no-math.html: console error: Got invalid theme mode: dark. Resetting to auto."]
    finally:
        v.close()

    # A zh page: English prose, and an English row of a table a code cell generated (as the identity
    # table showed where a message carried a measured number), are reported; what a cell prints, code,
    # math and the glossary's English column are not.
    (site / "zh.html").write_text("""<html lang="zh-CN"><body><article>
<h1>恒等式</h1><p>这是中文段落，含 <code>check_gradient with the default step size</code>。</p>
<p>This paragraph was left in English.</p>
<table><tr><td>numerator layout as the seed writes it</td><td>分子布局</td></tr></table>
<div class="cell_output">
<div class="output stream"><pre>67 identities and 49 wrong forms checked</pre></div>
<div class="output text_plain"><p>all checks together took 0.05 s in this build</p></div>
<table><tr><td><span class="math">\\(x^T A^{-1} x\\)</span> 可逆</td>
<td><span class="math">\\(2 A^{-1} x\\)</span><br><small>checked: error
<span class="measured">5e-11</span> at 3 sizes<br>wrong: <span class="math">\\(A x\\)</span>,
refused (error <span class="measured">1.45</span>)</small></td></tr>
<tr><td>inverse-quadratic</td><td>检验：3 种大小下误差 <span class="measured">5e-11</span></td>
</tr></table>
<p>Measured at build time: forward took <span class="measured">468 ms</span>.</p></div>
</article></body></html>""", encoding="utf-8")
    v = Visit(browser, site / "zh.html")
    try:
        assert check_translated(v, "zh.html") == [
            "zh.html: left in English: 'This paragraph was left in English.'",
            "zh.html: left in English: 'checked: error 5e-11 at 3 sizes wrong: , refused (error 1.45)'",
            "zh.html: left in English: 'Measured at build time: forward took 468 ms.'"]
    finally:
        v.close()


def test_axe_check_bites(browser, axe_script, tmp_path):
    """check_axe reports each rule a page breaks, in the theme it breaks it in, naming the element."""
    page = tmp_path / "inaccessible.html"
    page.write_text("""<!DOCTYPE html><html lang="en"><head><title>t</title><style>
html[data-theme=dark] body { background: #121212; color: #eee; }
html[data-theme=dark] .dim { color: #333; }
</style></head><body><main>
<div style="background: #ecf3ff"><p><a id="pale" href="#" style="color: #176de8">(4.2)</a></p></div>
<div role="list"><div id="entry" role="doc-biblioentry">[BKH16] Layer normalization.</div></div>
<p class="dim">readable only in the light theme</p>
</main></body></html>""")
    v = Visit(browser, page)
    try:
        problems = check_axe(v, "inaccessible.html", axe_script)
    finally:
        v.close()
    found = {p.split(": axe ")[1].split(":")[0] for p in problems}
    assert found == {"color-contrast (light theme)", "aria-deprecated-role (light theme)",
                     "aria-required-children (light theme)", "color-contrast (dark theme)"}, problems
    contrast = next(p for p in problems if "color-contrast (light theme)" in p)
    assert "'#pale'" in contrast and "4.29" in contrast, contrast
    assert all(p.startswith("inaccessible.html: axe ") for p in problems), problems
