"""How the chapters show a number they measure, or a table they compute, as Markdown.

You need not read this file to follow the course. In any Jupyter, the functions below write plain
Markdown: ``measured(2.7, ".1f", " ms")`` is ``2.7 ms``, ``chapter("00-layouts")`` a link to that
notebook. When the book's build runs the notebooks (it sets ``MATHCHAIN_BOOK=1``, and so do
``make notebooks`` and the repository's nbval run, so the committed outputs are the book's), they
write the book's MyST roles instead: ``{measured}`2.7 ms` `` keeps a measured number out of the
message the 简体中文 edition translates, ``{doc}``, ``{identity}`` and ``{index}`` link, anchor and
index as the rest of the book does.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

BOOK = os.environ.get("MATHCHAIN_BOOK") == "1"


def measured(value, spec: str = "", unit: str = "") -> str:
    """A number measured by this run (a time, an error, a ratio), formatted with ``spec``."""
    text = f"{value:{spec}}{unit}"
    return f"{{measured}}`{text}`" if BOOK else text


def chapter(name: str) -> str:
    """A link to the notebook ``name`` (``"00-layouts"``), shown as its number and title."""
    if BOOK:
        return f"{{doc}}`{name}`"
    title = _title(Path(f"{name}.ipynb"))
    number = re.match(r"\d+", name)
    text = f"chapter {int(number.group())} ({title})" if number else title
    return f"[{text}]({name}.ipynb)"


def identity_anchor(key: str) -> str:
    """An invisible anchor ``identity-<key>`` (links from the chapters to one identity go there)."""
    return f"{{identity}}`{key}`" if BOOK else f'<a id="identity-{key.strip().lower()}"></a>'


def index_term(text: str, entry: str) -> str:
    """``text``, and in the book an entry of its index (``"identities; linear"``)."""
    return f"{{index}}`{text} <single: {entry}>`" if BOOK else text


def identity_refs(text: str) -> str:
    """``text`` whose references to an identity, ``{ref}`identity-<key>` ``, are links in any Jupyter."""
    if BOOK:
        return text
    return re.sub(r"\{ref\}`identity-([\w-]+)`", r"[identity \1](#identity-\1)", text)


def table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    """A Markdown table; ``align`` has one letter per column, ``l`` (the default) or ``r``."""
    align = align.ljust(len(header), "l")
    rule = " | ".join("---:" if a == "r" else "---" for a in align)
    if not BOOK:
        rule = rule.replace(" ", "")
    lines = ["| " + " | ".join(header) + " |", f"| {rule} |" if BOOK else f"|{rule}|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def show(*blocks: str) -> None:
    """Display these Markdown blocks (paragraphs, tables) as one output."""
    from IPython.display import Markdown, display

    display(Markdown("\n\n".join(blocks)))


def _title(path: Path) -> str:
    """The title of a notebook: its first heading, without the anchors the kit puts in it."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            if (found := re.search(r"^# (.+)$", source, re.M)):
                return re.sub(r"<a id=\"[^\"]*\"></a>", "", found.group(1)).strip()
    return path.stem
