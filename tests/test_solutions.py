"""Published exercise solutions run in a fresh kernel from the page's visible cells.

A reader opens a chapter, runs its visible code cells in order, then copies a solution's code. For each
chapter listed in ``CHAPTERS``, this test does the same in a fresh namespace: the code cells not tagged
``remove-cell`` run in order (a cell tagged ``raises-exception`` must raise, and the page goes on, as
in Jupyter), then the fenced ``python`` blocks of every ``{solution}`` directive run in that namespace,
in order. A solution that uses a name the page never defines, or one the page has redefined by then
(for example a ``w`` of another shape), fails here. Solutions written with ``solution-start`` /
``solution-end`` hold executed code cells: they run with the page (and nbval and the book check them).
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ["02-scalar-by-vector", "03-scalar-by-matrix"]
# a {solution} directive fenced by 3 or more backticks; its python blocks use fewer
SOLUTION = re.compile(r"^(`{3,})\{solution\}[^\n]*\n(.*?)^\1\s*$", re.S | re.M)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```\s*$", re.S | re.M)


def solution_blocks(markdown: str) -> list[str]:
    """The python code of every {solution} directive in one markdown cell, in order."""
    return [code for _, body in SOLUTION.findall(markdown) for code in PYTHON_BLOCK.findall(body)]


def run_page(path: Path) -> tuple[dict, list[tuple[str, str]]]:
    """Run the visible code cells of a notebook; return the namespace and the solutions' code."""
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__main__"}
    solutions = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            solutions += [(f"{path.name}, solution {len(solutions) + 1}", code)
                          for code in solution_blocks(cell.source)]
            continue
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or "remove-cell" in tags:
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))   # IPython magics
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(compile(source, f"{path.name} cell {cell.get('id')}", "exec"), namespace)
            except Exception:
                if "raises-exception" not in tags:
                    raise
            else:
                assert "raises-exception" not in tags, f"cell {cell.get('id')} did not raise"
        plt.close("all")
    return namespace, solutions


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solutions_run_from_the_visible_cells(chapter, monkeypatch):
    # a reader's kernel starts in the notebook's folder, where chapters/_book.py is importable
    monkeypatch.syspath_prepend(str(ROOT / "chapters"))
    namespace, solutions = run_page(ROOT / "chapters" / f"{chapter}.ipynb")
    assert solutions, f"{chapter}: no solution code found"
    for name, code in solutions:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, name, "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"{name} fails after the page's visible cells: "
                        f"{type(exc).__name__}: {exc}\n{code}")


def test_solution_blocks_are_found():
    """The parser finds each solution's code, and nothing outside a solution."""
    markdown = """```{exercise}
:label: ex

```python
not_a_solution = 1
```
```

````{solution} ex
:class: dropdown

Text.

```python
first = 1
```

```python
second = first + 1
```
````

```{solution} other
No code here.
```"""
    assert solution_blocks(markdown) == ["first = 1\n", "second = first + 1\n"]


def test_a_solution_needing_a_missing_name_fails(tmp_path):
    """A solution that uses a name no visible cell defines makes the test fail."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%xmode Minimal", metadata={"tags": ["remove-cell"]}),
                nbformat.v4.new_code_cell("a = 2"),
                nbformat.v4.new_code_cell("hidden = 3", metadata={"tags": ["remove-cell"]}),
                nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
                nbformat.v4.new_markdown_cell("````{solution} ex\n```python\nb = a * hidden\n```\n````")]
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    namespace, solutions = run_page(path)
    assert namespace["a"] == 2 and "hidden" not in namespace
    with pytest.raises(NameError, match="hidden"):
        exec(solutions[0][1], namespace)
