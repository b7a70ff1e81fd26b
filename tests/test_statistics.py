"""The execution-statistics page of the built book: every notebook, its run time, its status.

The table is MyST-NB's ``nb-exec-table``, filled by the build that executed the notebooks. The page
must be in the table of contents (so the rendered-book tests open it too) and list every notebook
of the toc, once, with a run time in seconds and a success mark. ``test_statistics_problems_bite``
proves on broken tables that the check reports each way of being wrong.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGE = "execution-statistics"
HEADER = ["Document", "Modified", "Method", "Run Time (s)", "Status"]


def toc_files(root: Path = ROOT) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [entry["file"] for part in toc.get("parts", [])
                             for entry in part.get("chapters", [])]
    return [str(Path(f).with_suffix("")) for f in files + [e["file"] for e in toc.get("chapters", [])]]


def notebook_docs(root: Path = ROOT) -> list[str]:
    return [doc for doc in toc_files(root) if (root / f"{doc}.ipynb").is_file()]


class _Tables(HTMLParser):
    """The rows of every table of a page, as lists of cell texts."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None


def statistics_problems(html: str, notebooks: list[str]) -> list[str]:
    """What is wrong with the statistics table in ``html``, for the toc's ``notebooks``."""
    parser = _Tables()
    parser.feed(html)
    rows = parser.rows
    if not rows or rows[0] != HEADER:
        return [f"no execution-statistics table (header {rows[0] if rows else None}, expected {HEADER})"]
    problems, seen = [], {}
    for row in rows[1:]:
        if len(row) != len(HEADER):
            problems.append(f"row {row}: {len(row)} cells")
            continue
        doc, _modified, _method, runtime, status = row
        seen[doc] = seen.get(doc, 0) + 1
        try:
            if float(runtime) <= 0:
                problems.append(f"{doc}: run time {runtime} s")
        except ValueError:
            problems.append(f"{doc}: no run time ({runtime!r})")
        if status != "✅":
            problems.append(f"{doc}: status {status!r}, not succeeded")
    problems += [f"{doc}: not in the table" for doc in notebooks if doc not in seen]
    problems += [f"{doc}: in the table but not a notebook of the toc" for doc in seen
                 if doc not in notebooks]
    problems += [f"{doc}: {n} rows" for doc, n in seen.items() if n > 1]
    return problems


def test_page_is_in_the_toc():
    assert PAGE in toc_files(), f"{PAGE} is not in _toc.yml"
    assert "```{nb-exec-table}" in (ROOT / f"{PAGE}.md").read_text()


def test_every_notebook_has_a_time_and_succeeded():
    page = ROOT / "_build" / "html" / f"{PAGE}.html"
    assert page.is_file(), f"{page} missing: build the book (make book)"
    notebooks = notebook_docs()
    newest = max((ROOT / f"{doc}.ipynb").stat().st_mtime for doc in notebooks)
    assert page.stat().st_mtime >= newest, f"{page} is older than a notebook: build the book (make book)"
    assert len(notebooks) >= 2, notebooks
    problems = statistics_problems(page.read_text(encoding="utf-8"), notebooks)
    assert not problems, "\n".join(problems)


def test_statistics_problems_bite():
    head = "<table><tr>" + "".join(f"<th>{h}</th>" for h in HEADER) + "</tr>"

    def row(doc, runtime="1.5", status="✅"):
        return (f"<tr><td><a href='x'><span>{doc}</span></a></td><td>2026-12-01 10:00</td>"
                f"<td>force</td><td>{runtime}</td><td>{status}</td></tr>")

    good = head + row("chapters/a") + row("chapters/b") + "</table>"
    assert statistics_problems(good, ["chapters/a", "chapters/b"]) == []
    broken = (head + row("chapters/a", runtime="-") + row("chapters/a", status="<abbr>❌</abbr>")
              + row("chapters/old") + "</table>")
    assert statistics_problems(broken, ["chapters/a", "chapters/b"]) == [
        "chapters/a: no run time ('-')",
        "chapters/a: status '❌', not succeeded",
        "chapters/b: not in the table",
        "chapters/old: in the table but not a notebook of the toc",
        "chapters/a: 2 rows",
    ]
    assert statistics_problems("<p>no table</p>", ["chapters/a"])[0].startswith(
        "no execution-statistics table")
