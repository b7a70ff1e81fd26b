"""The kit's converter (``_ext/mathchain_kit.py``) on small MyST snippets.

A two-chapter book is written into a temporary folder (this repository's ``_config.yml`` and ``_ext``,
a small ``_toc.yml``, a ``references.bib`` of one entry and a one-message zh catalog), the ``kit``
builder is run on it in a subprocess, in English and in 简体中文, and the notebooks it writes are read
back: every construct the chapters use must come out as plain Jupyter Markdown.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
from mathchain_kit import _finish_marks, escape  # noqa: E402

FIRST = [
    new_markdown_cell("# Layouts first\n\n*Running this notebook yourself?* It imports `mathchain`: "
                      "get the kit from [Run it yourself](#run-it-yourself) in the introduction.\n\n"
                      "Text with a citation {cite}`liu2019`.\n\n"
                      "```{math}\n:label: first-eq\nJ = \\tfrac12 z^T z\n```\n\n"
                      "(first-section)=\n## A section\n\nSee {eq}`first-eq`."),
    new_code_cell("x = 1", metadata={"tags": ["remove-cell"]}),
]
SECOND = [
    new_markdown_cell("# Vectors second\n\nBy {eq}`first-eq` of {doc}`00-first`, and chapter "
                      "{doc}`00-first`; back in {ref}`first-section`.\n\n"
                      "```{math}\n:label: second-Eq\na = b\\\\\nc = d\n```\n\n"
                      "**Bold:** and (2 × 3), then {eq}`second-Eq`.\n\n"
                      "```{exercise}\n:label: ex-one\nShow it.\n```\n\n"
                      "```{solution} ex-one\n:class: dropdown\nLike this.\n```"),
    new_code_cell("display(Markdown(table))", metadata={
        "tags": ["remove-input"], "mystnb": {"markdown_format": "myst"}},
        outputs=[new_output("display_data", data={
            "text/markdown": "Took {measured}`3.1 ms`, see {doc}`00-first`.",
            "text/plain": "<IPython.core.display.Markdown object>"})]),
]
BIB = """@misc{liu2019,
  author = {Liu, Jianping}, title = {Chain rules}, year = {2019}, howpublished = {Blog post},
}
"""
TOC = """format: jb-book
root: intro
parts:
  - caption: Chapters
    chapters:
      - file: chapters/00-first
      - file: chapters/01-second
  - caption: Back
    chapters:
      - file: references
"""
ZH_PO = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Text with a citation {cite}`liu2019`."
msgstr "带有引用的文字 {cite}`liu2019`。"

msgid "Layouts first"
msgstr "先讲布局"
'''


def build_kit(tmp: Path, language: str) -> dict[str, nbformat.NotebookNode]:
    shutil.copy(ROOT / "_config.yml", tmp / "_config.yml")
    if not (tmp / "_ext").exists():
        shutil.copytree(ROOT / "_ext", tmp / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
        (tmp / "tools").mkdir()
        shutil.copy(ROOT / "tools" / "build-kit", tmp / "tools")      # the version, for the pages
        (tmp / "mathchain").mkdir()
        shutil.copy(ROOT / "mathchain" / "__init__.py", tmp / "mathchain")
    (tmp / "_toc.yml").write_text(TOC)
    (tmp / "references.bib").write_text(BIB)
    (tmp / "intro.md").write_text("# Intro\n\n(run-it-yourself)=\n## Run it yourself\n\nText.\n")
    (tmp / "references.md").write_text("# References\n\n```{bibliography}\n:all:\n```\n")
    (tmp / "chapters").mkdir(exist_ok=True)
    for name, cells in (("00-first", FIRST), ("01-second", SECOND)):
        nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {
            "name": "python3", "display_name": "Python 3", "language": "python"}}),
            tmp / "chapters" / f"{name}.ipynb")
    po = tmp / "locales" / "zh_CN" / "LC_MESSAGES" / "chapters" / "00-first.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    po.write_text(ZH_PO, encoding="utf-8")
    out = tmp / language / "out"
    overrides = {"nb_execution_mode": "off", "latex_individualpages": False} | (
        {"language": "zh_CN"} if language == "zh" else {})
    script = (
        "import sys; sys.path.insert(0, sys.argv[1] + '/_ext')\n"
        "from jupyter_book.sphinx import build_sphinx\n"
        f"r = build_sphinx(sys.argv[1], sys.argv[2], noconfig=True, path_config=sys.argv[1] + "
        f"'/_config.yml', confoverrides={overrides!r}, builder='kit', force_all=True, quiet=True, "
        "warningiserror=True, doctreedir=sys.argv[2] + '/../doctrees')\n"
        "sys.exit(1 if r else 0)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp), str(out)], capture_output=True,
                          text=True, cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    return {p.stem: nbformat.read(p, as_version=4) for p in out.glob("*.ipynb")}


@pytest.fixture(scope="module")
def kits(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("book")
    return {language: build_kit(tmp, language) for language in ("en", "zh")}


def markdown(nb) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_pages_of_the_kit(kits):
    assert sorted(kits["en"]) == ["00-first", "01-second", "references"]


def test_equations_numbered_anchored_and_linked(kits):
    first, second = markdown(kits["en"]["00-first"]), markdown(kits["en"]["01-second"])
    assert '<a id="first-eq"></a>\n\n$$\nJ = \\tfrac12 z^T z \\tag{0.1}\n$$' in first
    assert "See [(0.1)](#first-eq)." in first
    assert "By [(0.1)](00-first.ipynb#first-eq) of" in second
    # a label with a capital: anchor and link both use the id Sphinx made of it (found in 03's sm-dW)
    assert '<a id="second-eq"></a>' in second and "then [(1.1)](#second-eq)." in second
    # several lines: split, as the HTML book's MathJax gets them
    assert "$$\n\\begin{split}a = b\\\\\nc = d\\end{split} \\tag{1.1}\n$$" in second


def test_documents_sections_and_citations(kits):
    first, second = markdown(kits["en"]["00-first"]), markdown(kits["en"]["01-second"])
    assert "of [chapter 0 (Layouts first)](00-first.ipynb), and chapter [0 (Layouts first)]" in second
    assert "back in [A section](00-first.ipynb#first-section)." in second
    assert '## <a id="a-section"></a><a id="first-section"></a>A section' in first
    assert "citation ([Liu 2019](references.ipynb#liu2019))." in first
    assert '<a id="liu2019"></a>**Liu 2019**. Jianping Liu.' in markdown(kits["en"]["references"])


def test_exercises_solutions_and_the_kit_note(kits):
    first, second = markdown(kits["en"]["00-first"]), markdown(kits["en"]["01-second"])
    assert '<a id="ex-one"></a>**Exercise 1.1**\n\nShow it.' in second
    assert "<details><summary>Solution</summary>\n\nLike this.\n\n</details>" in second
    assert "install it with the commands of this folder's [README](README.md)" in first
    assert "**Bold:** and (2 × 3)" in second


def test_code_cells_kept_with_tags_and_markdown_outputs_converted(kits):
    first, second = kits["en"]["00-first"], kits["en"]["01-second"]
    assert first.cells[1].cell_type == "code" and first.cells[1].metadata["tags"] == ["remove-cell"]
    output = second.cells[1].outputs[0]["data"]["text/markdown"]
    assert output == "Took 3.1 ms, see [chapter 0 (Layouts first)](00-first.ipynb)."
    assert second.cells[1].metadata["tags"] == ["remove-input"]
    # translated: a re-run in the zh kit writes English, so nbval checks this output in English only
    zh = kits["zh"]["01-second"].cells[1]
    assert zh.metadata["tags"] == ["remove-input", "nbval-ignore-output"]
    assert kits["zh"]["00-first"].cells[1].metadata["tags"] == ["remove-cell"]


def test_no_myst_left(kits):
    for language, kit in kits.items():
        for name, nb in kit.items():
            text = markdown(nb) + "".join(
                o.get("data", {}).get("text/markdown", "") for c in nb.cells if c.cell_type == "code"
                for o in c.outputs)
            for raw in ("{doc}", "{eq}", "{ref}", "{cite}", "{measured}", "```{", ":label:"):
                assert raw not in text, (language, name, raw)


def test_chinese_kit_from_the_catalog(kits):
    first = markdown(kits["zh"]["00-first"])
    assert first.startswith('# <a id="layouts-first"></a>先讲布局')
    assert "带有引用的文字 ([Liu 2019](references.ipynb#liu2019))。" in first
    assert "*要自己运行这个笔记本？*" in first
    assert "<a id=\"ex-one\"></a>**练习 1.1**" in markdown(kits["zh"]["01-second"])
    assert "<summary>解答</summary>" in markdown(kits["zh"]["01-second"])


@pytest.mark.parametrize(("marked", "expected"), [
    ("a \x01sbold\x02s b", "a **bold** b"),
    ("\x01sBold:\x02s next", "**Bold:** next"),
    ("目标\x01s学习目标。\x02s之后", "目标<strong>学习目标。</strong>之后"),
    ("（\x01e强调\x02e）", "（*强调*）"),
])
def test_emphasis_where_commonmark_reads_it(marked, expected):
    assert _finish_marks(marked) == expected


def test_text_is_escaped():
    assert escape("a*b_c `d` $5 <x>\nnext") == "a\\*b\\_c \\`d\\` \\$5 &lt;x> next"
    assert escape("a | b", table=True) == "a \\| b"
