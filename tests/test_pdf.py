"""The PDF edition (``make pdf``: ``_build/pdf/mathchain.pdf``), read back with poppler-utils.

The PDF is rebuilt (``tools/build-pdf``) when it is missing or older than a source of the book.
Its text layer must hold every chapter title of ``_toc.yml`` and every Chinese phrase of the book's
prose (the seed's quotes, the glossary) as text; no "??" of an unresolved reference; no TeX macro
left raw (``\\frac``, ``\\partial``, …) except where the book prints code that contains one; page
numbers on the pages and a table of contents; one image per figure a notebook outputs. It numbers as
the HTML does (``test_pdf_numbers_as_html``): chapter N is the file ``chapters/NN-…`` (heading and
running head), appendices are lettered, each chapter's labelled equations are (N.1), (N.2), … and
every ``{eq}`` reference prints that number, its exercises are Exercise N.1, …; English apostrophes
and quotes are not set as full-width Chinese marks, and the Chinese quoted in English prose keeps
its quotes tight. XeLaTeX and
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
NUMBER_WORDS = ("ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN ELEVEN TWELVE THIRTEEN "
                "FOURTEEN FIFTEEN SIXTEEN SEVENTEEN EIGHTEEN NINETEEN").split()  # fncychap's Bjarne
EQUATION_NUMBER = re.compile(r"\s{2,}\(([0-9A-Z]+\.\d+)\)\s*$")  # ends its line, at the right margin
CURLY_QUOTES = "‘’“”"  # English punctuation in this book, never a full-width Chinese mark
CHINESE_QUOTE = re.compile(r'"([\u3400-\u9fff][^"\n]*[\u3400-\u9fff])"')  # printed “…”


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


def chapters(docs: list[Path]) -> list[dict]:
    """What the HTML numbers, read from the sources: for each chapter (``chapters/NN-…``: N) and
    appendix (``chapters/appendix-*``: A, B, … in toc order) its number, title, labelled
    equations in order, ``{eq}`` references and number of exercises."""
    found, letters = [], iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for path in docs:
        if match := re.match(r"(\d+)-", path.name):
            number = str(int(match.group(1)))
        elif path.name.startswith("appendix-"):
            number = next(letters)
        else:
            continue
        prose = "\n".join(_text(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
        found.append({
            "number": number, "title": title(path),
            "equations": re.findall(r"^`{3,}\{math\}[^\n]*\n(?::(?!label:)[^\n]*\n)*:label:\s*(\S+)",
                                    prose, re.M),
            "references": re.findall(r"\{eq\}`([^`<>]+)`", prose),
            "exercises": len(re.findall(r"^`{3,}\{exercise\}", prose, re.M)),
        })
    return found


def _heading(title: str) -> re.Pattern:
    """A chapter's heading as it prints: CHAPTER ZERO (or 0), or APPENDIX A, then the title."""
    words = r"\s+".join(re.escape(w) for w in title.upper().split())
    return re.compile(rf"(CHAPTER|APPENDIX)\s+(\S+)\s+{words}")


def numbering_problems(text: str, chapters: list[dict]) -> list[str]:
    """Where a PDF's text layer numbers chapters, equations or exercises unlike the HTML."""
    problems, starts = [], []
    for chapter in chapters:
        number, name = chapter["number"], chapter["title"]
        kind = "CHAPTER" if number.isdigit() else "APPENDIX"
        word = NUMBER_WORDS[int(number)] if number.isdigit() and int(number) < 20 else number
        heading = _heading(name).search(text)
        if heading is None:
            problems.append(f"no heading for {name!r}")
            continue
        if (heading.group(1), heading.group(2)) not in {(kind, word), (kind, number)}:
            problems.append(f"{name!r} is headed {heading.group(1)} {heading.group(2)}, "
                            f"not {kind} {word}")
        starts.append((heading.start(), chapter))
        # the running head of its even pages: "Chapter 0. Layouts: …", "Appendix A. Identities"
        head = re.compile(r"(Chapter|Appendix) ([0-9A-Z]+)\. " + r"\s+".join(
            re.escape(w) for w in name.split()) + r"[ \t]*($|\f)", re.M)
        printed = {m.group(1) + " " + m.group(2) for m in head.finditer(text)}
        if printed != {kind.capitalize() + " " + number}:
            problems.append(f"running head of {name!r}: {sorted(printed)}, "
                            f"not {kind.capitalize()} {number}")
    starts.sort(key=lambda start: start[0])
    label_number = {label: f"{c['number']}.{k}" for c in chapters
                    for k, label in enumerate(c["equations"], start=1)}
    # an equation's number ends a line near the right margin (a table cell's reference does not)
    lengths = sorted(len(line.rstrip()) for line in text.splitlines())
    margin = 0.75 * lengths[int(0.95 * (len(lengths) - 1))] if lengths else 0
    ends = [start for start, _ in starts[1:]] + [len(text)] if starts else []
    for (start, chapter), end in zip(starts, ends, strict=True):
        body, number = text[start:end], chapter["number"]
        expected = [f"{number}.{k}" for k in range(1, len(chapter["equations"]) + 1)]
        printed = [m.group(1) for line in body.splitlines() if len(line.rstrip()) >= margin
                   if (m := EQUATION_NUMBER.search(line))]
        if printed != expected:
            problems.append(f"equations of {chapter['title']!r} numbered {printed}, not {expected}")
        for label in sorted(set(chapter["references"])):
            if label in label_number and f"({label_number[label]})" not in body:
                problems.append(f"{chapter['title']!r}: the reference to {label} does not print "
                                f"({label_number[label]})")
        flat = " ".join(body.split())
        for k in range(1, chapter["exercises"] + 1):
            if f"Exercise {number}.{k}" not in flat:
                problems.append(f"{chapter['title']!r}: no Exercise {number}.{k}")
    return problems


def prose_of(docs: list[Path]) -> str:
    """The Markdown prose of the book, without its code and math."""
    prose = "\n".join(_text(c["source"]) for p in docs for c in _cells(p)
                      if c["cell_type"] == "markdown")
    return re.sub(r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$", " ", prose, flags=re.S)


def quote_problems(text: str, xml: str, prose: str) -> list[str]:
    """Curly quotes and apostrophes set in a Chinese font (full width: "04’ s", a gap that
    pdftotext does not show, so read from ``pdftohtml -xml``, which names each piece's font), and
    Chinese quoted in English prose whose quotes stand apart from it ("“ 出现")."""
    fonts = dict(re.findall(r'<fontspec id="(\d+)"[^>]*family="([^"]*)"', xml))
    problems = []
    for page, body in re.findall(r'<page number="(\d+)"(.*?)</page>', xml, flags=re.S):
        wide = [re.sub(r"<[^>]+>", "", piece) for font, piece
                in re.findall(r'<text [^>]*font="(\d+)"[^>]*>(.*?)</text>', body)
                if "Fandol" in fonts.get(font, "") and any(q in piece for q in CURLY_QUOTES)]
        if wide:
            problems.append(f"page {page}: {len(wide)} curly quotes set in a Chinese font "
                            f"(full width), e.g. {wide[0]!r}")
    flat = " ".join(text.split())
    for quoted in sorted(set(CHINESE_QUOTE.findall(prose))):
        for end in (f"“{quoted[0]}", f"{quoted[-1]}”"):
            if end not in flat:
                problems.append(f"Chinese quote {quoted[:12]!r}: {end!r} not in the text")
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


def test_pdf_numbers_as_html(pdf):
    docs = toc_docs()
    text = _run("pdftotext", "-layout", str(pdf), "-")
    found = chapters(docs)
    assert [c["number"] for c in found][:3] == ["0", "1", "2"] and "A" in [c["number"] for c in found]
    assert sum(len(c["equations"]) for c in found) >= 50 and "04’s" in " ".join(text.split())
    prose = prose_of(docs)
    assert len(CHINESE_QUOTE.findall(prose)) >= 3  # the seed's rules, quoted in the chapters
    xml = _run("pdftohtml", "-xml", "-i", "-stdout", str(pdf))
    problems = numbering_problems(text, found) + quote_problems(text, xml, prose)
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


def test_numbering_checks_bite():
    found = [{"number": "0", "title": "Layouts", "equations": ["lay-a", "lay-b"],
              "references": ["lay-b", "id-a"], "exercises": 1},
             {"number": "A", "title": "Identities", "equations": ["id-a"], "references": [],
              "exercises": 0}]
    wide = " " * 60
    right = "\n".join(["x" * 80] * 20)  # the text's right margin
    good = (f"{right}\fCHAPTER\n\n  ZERO\n\nLAYOUTS\n{wide}y = f(x){wide}(0.1)\n"
            f"{wide}z = g(y){wide}(0.2)\nby (0.2) and (A.1); see Exercise 0.1.\n"
            f"table   (0.1)\n8     Chapter 0. Layouts\f"
            f"APPENDIX\n A\n IDENTITIES\n{wide}a = b{wide}(A.1)\n10   Appendix A. Identities\n")
    assert numbering_problems(good, found) == []
    bad = (good.replace("ZERO", "ONE").replace("(0.", "(1.").replace("Chapter 0.", "Chapter 1.")
           .replace("Exercise 0.1", "Exercise 1.1").replace("(A.1)", "(1.1)"))
    assert numbering_problems(bad, found) == [
        "'Layouts' is headed CHAPTER ONE, not CHAPTER ZERO",
        "running head of 'Layouts': ['Chapter 1'], not Chapter 0",
        "equations of 'Layouts' numbered ['1.1', '1.2'], not ['0.1', '0.2']",
        "'Layouts': the reference to id-a does not print (A.1)",
        "'Layouts': the reference to lay-b does not print (0.2)",
        "'Layouts': no Exercise 0.1",
        "equations of 'Identities' numbered ['1.1'], not ['A.1']",
    ]
    assert numbering_problems("CHAPTER ZERO LAYERS", found) == [
        "no heading for 'Layouts'", "no heading for 'Identities'"]


def test_quote_checks_bite():
    fonts = ('<fontspec id="3" size="15" family="GXYTKN+FreeSerif-Identity-H"/>'
             '<fontspec id="9" size="15" family="CBKANV+FandolSong"/>')
    prose = 'the seed\'s rule "出现标量的地方就出现转置" (where'
    good = (f'{fonts}<page number="7"><text top="1" left="1" font="3">the seed’s rule “</text>'
            '<text top="1" left="9" font="9">出现标量的地方就出现转置</text>'
            '<text top="1" left="99" font="3">” (where</text></page>')
    text = "the seed’s rule “出现标量的地方就出现转置” (where"
    assert quote_problems(text, good, prose) == []
    wide = good.replace('font="3">the seed’s', 'font="3">the seed</text><text font="9">’</text>'
                        '<text font="3">s')
    assert quote_problems("the seed’ s rule “ 出现标量的地方就出现转置 ” (where", wide, prose) == [
        "page 7: 1 curly quotes set in a Chinese font (full width), e.g. '’'",
        "Chinese quote '出现标量的地方就出现转置': '“出' not in the text",
        "Chinese quote '出现标量的地方就出现转置': '置”' not in the text",
    ]
