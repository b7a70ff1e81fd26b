"""The PDF edition (``make pdf``: ``_build/pdf/mathchain.pdf``), read back with poppler-utils.

The PDF is rebuilt (``tools/build-pdf``) when it is missing or older than a source of the book.
Its text layer must hold every chapter title of ``_toc.yml`` and every Chinese phrase of the book's
prose (the seed's quotes, the glossary) as text; no "??" of an unresolved reference; no TeX macro
left raw (``\\frac``, ``\\partial``, …) except where the book prints code that contains one; page
numbers on the pages and a table of contents; one image per figure a notebook outputs. XeLaTeX and
poppler-utils come from ``tools/ensure-tex`` (``make test-pdf`` runs it): missing, it is an error,
never a skip. ``test_pdf_checks_bite`` proves on a broken text layer that the checks report it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PDF = ROOT / "_build" / "pdf" / "mathchain.pdf"
SOURCES = ["_config.yml", "_toc.yml", "references.bib", "_ext", "_latex", "mathchain", "chapters",
           "intro.md", "references.md"]
RAW_TEX = re.compile(r"\\(frac|partial|mathbb|mathbf|operatorname|left|right|begin|sum|top|quad)\b")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
PAGES_PER_DOCUMENT = (2, 30)  # the PDF's page count must lie between these times the toc's size


def toc_docs(root: Path = ROOT) -> list[Path]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [e["file"] for part in toc.get("parts", [])
                             for e in part.get("chapters", [])]
    files += [e["file"] for e in toc.get("chapters", [])]
    found = []
    for f in files:
        stem = root / Path(f).with_suffix("")
        found += [p for p in (stem.with_suffix(".md"), stem.with_suffix(".ipynb")) if p.is_file()]
    return found


def _cells(path: Path) -> list[dict]:
    """A document as cells: a notebook's own, a Markdown file as one markdown cell."""
    if path.suffix == ".ipynb":
        return json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [{"cell_type": "markdown", "source": path.read_text(encoding="utf-8")}]


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def title(path: Path) -> str:
    for cell in _cells(path):
        if cell["cell_type"] == "markdown":
            for line in _text(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise AssertionError(f"{path.name}: no '# ' title")


def title_pieces(text: str) -> list[str]:
    """The words of a title as they print: math and Markdown markup dropped, split at them."""
    pieces = re.split(r"\$[^$]*\$|[`*_]", text)
    return [" ".join(p.split()) for p in pieces if len(p.strip()) >= 4]


def printed_code(paths: list[Path]) -> str:
    """Everything the book prints as code (cells shown, their text outputs, inline and fenced
    code of the prose), without whitespace: raw TeX found there is meant."""
    chunks = []
    for path in paths:
        for cell in _cells(path):
            source = _text(cell["source"])
            tags = set(cell.get("metadata", {}).get("tags", []))
            if cell["cell_type"] == "code":
                if not tags & {"hide-input", "remove-input", "remove-cell"}:
                    chunks.append(source)
                if not tags & {"remove-output", "remove-cell"}:
                    for out in cell.get("outputs", []):
                        chunks.append(_text(out.get("text", "")))
                        chunks.append(_text(out.get("data", {}).get("text/plain", "")))
                        chunks.append(_text(out.get("data", {}).get("text/markdown", "")))
                        chunks += [_text(t) for t in out.get("traceback", [])]
            else:
                chunks += re.findall(r"```.*?```|`[^`\n]+`", source, flags=re.S)
    return re.sub(r"\s+", "", "".join(chunks))


def text_problems(text: str, titles: list[str], chinese: list[str], code: str) -> list[str]:
    """What is wrong with a PDF's text layer (pages separated by form feeds)."""
    problems = []
    flat = " ".join(text.split())
    for t in titles:
        missing = [p for p in title_pieces(t) if p not in flat]
        if missing:
            problems.append(f"chapter title {t!r} not in the text (missing {missing})")
    for line in text.splitlines():
        if "??" in line:
            problems.append(f"unresolved reference: {line.strip()[:80]!r}")
    # ↪ starts the continuation of a code line that LaTeX wrapped
    for token in {tok.replace("↪", "") for tok in text.split() if RAW_TEX.search(tok)}:
        if re.sub(r"\s+", "", token) not in code:
            problems.append(f"raw TeX in the text: {token[:60]!r}")
    dense = re.sub(r"\s+", "", text)
    problems += [f"Chinese text missing: {c!r}" for c in chinese if c not in dense]
    # The page number is in the head or foot line: first or last line, at either end.
    pages = [page.strip().splitlines() for page in text.split("\f") if page.strip()]
    number = re.compile(r"^(\d+|[ivxlc]+)(\s|$)|\s(\d+|[ivxlc]+)$")
    numbered = sum(1 for lines in pages
                   if number.search(lines[0].strip()) or number.search(lines[-1].strip()))
    if numbered < 0.8 * len(pages):
        problems.append(f"page numbers on only {numbered} of {len(pages)} pages")
    if not re.search(r"^\s*contents\s*$", text, re.M | re.I):
        problems.append("no table of contents")
    return problems


def _run(*command: str) -> str:
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is missing: install poppler-utils (bash tools/ensure-tex)")
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _stale(pdf: Path) -> bool:
    if not pdf.is_file():
        return True
    newest = max(p.stat().st_mtime for name in SOURCES for p in
                 ([ROOT / name] if (ROOT / name).is_file() else (ROOT / name).rglob("*"))
                 if p.is_file() and "__pycache__" not in p.parts)
    return pdf.stat().st_mtime < newest


@pytest.fixture(scope="module")
def pdf() -> Path:
    if _stale(PDF):
        done = subprocess.run(["bash", str(ROOT / "tools" / "build-pdf")], cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"tools/build-pdf failed (exit {done.returncode}):\n"
                        + (done.stdout + done.stderr)[-4000:])
    assert not _stale(PDF), f"{PDF} was not refreshed"
    return PDF


def test_pdf_text(pdf):
    docs = toc_docs()
    text = _run("pdftotext", "-layout", str(pdf), "-")
    chinese = sorted({c for p in docs for cell in _cells(p) if cell["cell_type"] == "markdown"
                      for c in CJK.findall(_text(cell["source"]))})
    assert len(chinese) >= 3, chinese  # the seed's quotes and the glossary
    problems = text_problems(text, [title(p) for p in docs if p.stem != "intro"], chinese,
                             printed_code(docs))
    assert not problems, "\n".join(problems)


def test_pdf_pages_and_figures(pdf):
    info = _run("pdfinfo", str(pdf))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    docs = toc_docs()
    low, high = (n * len(docs) for n in PAGES_PER_DOCUMENT)
    assert low <= pages <= high, f"{pages} pages for {len(docs)} documents: expected {low}..{high}"
    figures = sum(1 for p in docs if p.suffix == ".ipynb" for cell in _cells(p)
                  if cell["cell_type"] == "code" for out in cell.get("outputs", [])
                  if any(k.startswith("image/") for k in out.get("data", {})))
    images = len(_run("pdfimages", "-list", str(pdf)).splitlines()[2:])
    assert images >= figures, f"{images} images in the PDF, {figures} figure outputs in the notebooks"


def test_pdf_checks_bite():
    text = ("CONTENTS\n\n1 Layouts\nii\f"
            "# Chapter 1\nLayouts: numerator and denominator\nsee Exercise ??.\n"
            "where $\\frac{\\partial z}{\\partial x}$ stays raw, but code says \\frac{a}{b}\n3\f"
            "中文 words\n4")
    titles = ["Layouts: numerator and denominator", "Scalar by `matrix`: the $Y$ layer"]
    problems = text_problems(text, titles, ["中文", "分子布局"], code="x=r'\\frac{a}{b}'")
    assert sorted(problems) == [
        "Chinese text missing: '分子布局'",
        "chapter title 'Scalar by `matrix`: the $Y$ layer' not in the text "
        "(missing ['Scalar by', 'matrix', ': the', 'layer'])",
        "raw TeX in the text: '$\\\\frac{\\\\partial'",
        "raw TeX in the text: 'z}{\\\\partial'",
        "unresolved reference: 'see Exercise ??.'",
    ], problems
    assert text_problems("no numbers\fnone here\f", [], [], "") == [
        "page numbers on only 0 of 2 pages", "no table of contents"]
