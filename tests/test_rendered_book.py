"""The built book as a reader sees it: every page opened in headless Chromium.

For every page of the table of contents (and Sphinx's index and search pages):

* math is typeset by MathJax, with no MathJax error;
* no request leaves the built folder (the book must work with no network);
* every image has loaded;
* every internal link and anchor points at an existing page and element id;
* the JavaScript console shows no error.

Each check is a function that returns a list of problems, so ``test_checks_bite`` can prove on a
deliberately broken page, on every run, that each check reports what it should.

The book is built (``jupyter-book build . -W -n --keep-going``) unless ``_build/html`` is newer than
every source; ``MATHCHAIN_HTML_DIR`` points the tests at another built copy. Chromium is Debian's
``chromium`` package (Playwright's own browser download needs the internet): missing, it is an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["intro.md", "references.md", "references.bib", "_config.yml", "_toc.yml", "chapters",
           "mathchain", "_ext"]
# pydata-sphinx-theme logs this through console.error on file:// pages (it cannot read the saved
# theme mode there). It is the theme's noise, not a fault of the book; nothing broader is ignored.
KNOWN_THEME_NOISE = "Got invalid theme mode: . Resetting to auto."
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 30_000


# --- which pages --------------------------------------------------------------------------------

def toc_pages() -> list[str]:
    """Pages of the book, as paths relative to the HTML root, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    files += [entry["file"] for entry in toc.get("chapters", [])]
    return [f"{Path(f).with_suffix('')}.html" for f in files] + ["genindex.html", "search.html"]


CHAPTER_PAGES = [p for p in toc_pages() if p.startswith("chapters/")]


# --- the built book -------------------------------------------------------------------------------

def _newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        paths = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest] + [p.stat().st_mtime for p in paths if "__pycache__" not in p.parts])
    return newest


@pytest.fixture(scope="session")
def html_dir() -> Path:
    override = os.environ.get("MATHCHAIN_HTML_DIR")
    if override:
        path = Path(override).resolve()
        assert (path / "index.html").is_file(), f"MATHCHAIN_HTML_DIR={override} has no index.html"
        return path
    path = ROOT / "_build" / "html"
    stamp = path / "index.html"
    if not stamp.is_file() or stamp.stat().st_mtime < _newest_source_mtime():
        jb = Path(sys.executable).with_name("jupyter-book")
        done = subprocess.run([str(jb), "build", ".", "-W", "-n", "--keep-going"], cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail("the book build failed:\n" + (done.stdout + done.stderr)[-4000:])
    return path


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: the rendered-book tests need it. "
                    "Install it with: sudo apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Visit:
    """One page opened in the browser, with what it requested and logged."""

    def __init__(self, browser, path: Path):
        self.path = path
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        self.page.goto(path.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        # Typesetting is asynchronous: wait until MathJax says it is done (if the page loads it).
        self.page.evaluate("""async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise;
            }
        }""")

    def close(self):
        self.page.close()


@pytest.fixture
def visit(browser, html_dir, request):
    opened = []

    def open_page(relative: str) -> Visit:
        path = html_dir / relative
        assert path.is_file(), f"{relative}: page missing from the built book ({path})"
        v = Visit(browser, path)
        opened.append(v)
        return v

    yield open_page
    for v in opened:
        v.close()


# --- the checks: each returns a list of problems naming the page ------------------------------------

def check_math(v: Visit, name: str) -> list[str]:
    found = v.page.evaluate(r"""() => ({
        source: document.querySelectorAll('.math').length,
        typeset: document.querySelectorAll('mjx-container').length,
        errors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                     .map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
        raw: Array.from(document.querySelectorAll('.math'))
                  .filter(e => !e.querySelector('mjx-container') && e.tagName !== 'MJX-CONTAINER')
                  .map(e => e.textContent.trim().slice(0, 60)).slice(0, 5),
        mathjax: typeof window.MathJax !== 'undefined' && !!(MathJax.startup && MathJax.startup.promise),
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
    if found["source"] and not found["mathjax"]:
        problems.append(f"{name}: has {found['source']} math elements but MathJax did not load")
    if found["source"] and not found["typeset"]:
        problems.append(f"{name}: has {found['source']} math elements and none was typeset")
    if found["raw"]:
        problems.append(f"{name}: math left as raw source: {found['raw']}")
    if found["errors"]:
        problems.append(f"{name}: MathJax errors: {found['errors']}")
    if found["stray"]:
        problems.append(f"{name}: TeX shown as text: {found['stray']}")
    return problems


def check_requests(v: Visit, name: str) -> list[str]:
    outside = sorted({url for url in v.requests if urlsplit(url).scheme not in LOCAL_SCHEMES})
    return [f"{name}: request leaves the built book: {url}" for url in outside]


def check_console(v: Visit, name: str) -> list[str]:
    return [f"{name}: console error: {text}" for text in v.console_errors
            if text != KNOWN_THEME_NOISE]


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


class _LinksAndIds(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _parse(path: Path, cache: dict) -> _LinksAndIds:
    if path not in cache:
        parser = _LinksAndIds()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = parser
    return cache[path]


def check_links(page_path: Path, name: str, cache: dict | None = None) -> list[str]:
    """Every relative link must reach an existing file, and its #fragment an existing id."""
    cache = {} if cache is None else cache
    problems = []
    for href in _parse(page_path, cache).links:
        parts = urlsplit(href)
        if parts.scheme and parts.scheme != "file" or href.startswith("//"):
            continue  # an external link is not a request; the request check covers loading
        target = page_path if not parts.path else (
            Path(unquote(parts.path)) if parts.scheme == "file"
            else (page_path.parent / unquote(parts.path)).resolve())
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{name}: broken link {href!r}: {target.name} does not exist")
            continue
        fragment = unquote(parts.fragment)
        if fragment and target.suffix == ".html" and fragment not in _parse(target, cache).ids:
            problems.append(f"{name}: broken anchor {href!r}: no element with id {fragment!r}")
    return problems


# --- the tests --------------------------------------------------------------------------------------

_LINK_CACHE: dict = {}


@pytest.mark.parametrize("name", toc_pages())
def test_page_renders_offline(visit, html_dir, name):
    v = visit(name)
    problems = (check_math(v, name) + check_requests(v, name) + check_images(v, name)
                + check_console(v, name) + check_links(html_dir / name, name, _LINK_CACHE))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", [p for p in toc_pages() if p not in ("genindex.html", "search.html")])
def test_pages_with_math_are_typeset(visit, name):
    """Every content page of this course has math; a page that lost it all would pass the above."""
    v = visit(name)
    count = v.page.evaluate("document.querySelectorAll('mjx-container').length")
    assert count > 0, f"{name}: no typeset math at all"


def test_notebook_pages_have_figures_and_downloads(visit, html_dir):
    for name in CHAPTER_PAGES:
        html = (html_dir / name).read_text(encoding="utf-8")
        assert ".ipynb" in html, f"{name}: no download link for the notebook"
    for name in ["chapters/00-layouts.html", "chapters/02-scalar-by-vector.html",
                 "chapters/03-scalar-by-matrix.html"]:
        v = visit(name)
        sizes = v.page.evaluate("Array.from(document.images).filter(i => i.src.includes('_images'))"
                                ".map(i => i.naturalWidth)")
        assert sizes and min(sizes) > 0, f"{name}: no figure output rendered ({sizes})"


@pytest.mark.parametrize("name", CHAPTER_PAGES)
def test_screenshot(visit, html_dir, name):
    out = ROOT / "_build" / "screenshots" / (Path(name).stem + ".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    visit(name).page.screenshot(path=str(out), full_page=True)
    assert out.is_file() and out.stat().st_size > 10_000, f"{name}: screenshot not written ({out})"


def test_checks_bite(browser, html_dir, tmp_path):
    """Each check must report a page broken in its way, naming the page and the problem."""
    shutil.copytree(html_dir / "_static" / "mathjax", tmp_path / "_static" / "mathjax")
    (tmp_path / "exists.html").write_text('<html><body><p id="here">ok</p></body></html>')
    (tmp_path / "broken.html").write_text("""<!DOCTYPE html><html><head>
<script>window.MathJax = {tex: {inlineMath: [['\\\\(', '\\\\)']]}};</script>
<script defer src="_static/mathjax/tex-chtml.js"></script>
<script src="https://cdn.example.org/library.js"></script>
</head><body>
<span class="math">\\(\\frac{\\)</span>
<p>an untypeset $x^2$ in the prose</p>
<a href="missing.html">a missing page</a>
<a href="exists.html#nowhere">a missing anchor</a>
<a href="exists.html#here">a good anchor</a>
<img src="_images/missing.png">
<script>console.error("something broke");</script>
</body></html>""")
    v = Visit(browser, tmp_path / "broken.html")
    try:
        name = "broken.html"
        math, requests = check_math(v, name), check_requests(v, name)
        images, console = check_images(v, name), check_console(v, name)
        links = check_links(tmp_path / "broken.html", name)
    finally:
        v.close()
    assert any("MathJax errors" in p or "raw source" in p for p in math), math
    assert any("TeX shown as text: ['$x^2$']" in p for p in math), math
    assert requests == [f"{name}: request leaves the built book: https://cdn.example.org/library.js"]
    assert images == [f"{name}: image did not load: _images/missing.png"]
    assert any("something broke" in p for p in console), console
    assert sorted(links) == sorted([
        f"{name}: broken link 'missing.html': missing.html does not exist",
        f"{name}: broken anchor 'exists.html#nowhere': no element with id 'nowhere'"])
    assert all(p.startswith(f"{name}: ") for p in math + requests + images + console + links)
