"""The course kit's notebooks: plain Jupyter notebooks written from the book's own doctrees.

The chapters are MyST notebooks: ``{math}`` blocks with labels, ``{eq}``/``{doc}``/``{ref}``/``{cite}``
roles, exercise and solution directives. Plain JupyterLab shows all of that as raw source. The kit
(``tools/build-kit``) therefore ships notebooks written by this Sphinx builder, ``kit``, one build per
language (``language = zh_CN`` for the 简体中文 kit). The builder sees each page as the HTML build
does, after Sphinx has parsed it, substituted its translation (the same messages, the same Locale
transform and the same ``mathchain_i18n`` transforms as the zh edition) and resolved every reference,
and writes it back as Markdown that any Jupyter renders:

* a displayed equation becomes ``$$ … \\tag{2.3} $$`` with the book's number (``_ext/mathchain_book.py``
  numbers them per chapter) and an ``<a id="label"></a>`` anchor; an ``{eq}`` reference is the link
  ``[(2.3)](02-scalar-by-vector.ipynb#label)``;
* a link to a chapter shows its number and title ("chapter 2 (Scalar by vector: …)"); a link to a
  section goes to an anchor written for every id of the section (Sphinx's, so labels work);
* a citation is author–year, linked to its entry in ``references.ipynb`` (written from the
  references page, with an anchor per BibTeX key);
* an exercise is a titled block "**Exercise 2.1**", its solution folded in
  ``<details><summary>Solution</summary>…</details>``; a theorem "**Theorem 6.1** (…)";
* the course's own roles ({measured}, {identity}, {index}) are resolved to their text and anchors.

Cells: code cells are copied from the source notebook, with their tags and outputs (the cells the book
removes too: later cells need them); a ``text/markdown`` output is replaced by its converted
doctree. Run again in the kit, such a cell writes plain Markdown (``chapters/_book.py``, shipped beside
the notebooks): the same text in English, but English in the 简体中文 kit too, whose outputs the book
translated. There the cell is tagged ``nbval-ignore-output`` (and the kit's README says why); nbval
checks its output in the English kit. Each markdown cell is rebuilt from the doctree nodes whose
source line falls in it (MyST-NB numbers lines ``10000 × (cell index + 1) + line``). A node this
writer does not know stops the build, so no MyST construct can slip through unconverted.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import nbformat
from docutils import nodes
from mathchain_book import _reading_order, chapter_numbers, is_zh
from sphinx import addnodes
from sphinx.builders import Builder
from sphinx.util import logging

logger = logging.getLogger(__name__)

WORDS = {
    "en": {"exercise": "Exercise", "solution": "Solution", "theorem": "Theorem", "proof": "Proof",
           "chapter": "chapter {n} ({title})", "appendix": "appendix {n} ({title})",
           "note": ("*Running this notebook yourself?* It imports `mathchain`: install it with the "
                    "commands of this folder's [README](README.md).")},
    "zh": {"exercise": "练习", "solution": "解答", "theorem": "定理", "proof": "证明",
           "chapter": "第 {n} 章（{title}）", "appendix": "附录 {n}（{title}）",
           "note": ("*要自己运行这个笔记本？* 它导入 `mathchain`：用本文件夹 [README](README.md) "
                    "中的命令安装。")},
}
KIT_DOCS = ("references",)          # pages besides the chapters that the kit holds
NOTE_TARGET = "#run-it-yourself"    # the book's kit note links there (tools/add-kit-note)
SKIP_IDS = re.compile(r"/|^(id\d+|index-\d+(-\d+)?|proof|(exercise|solution|proof)-content)$")
TRANSLATED_OUTPUT = "nbval-ignore-output"  # the tag of a cell whose Markdown output is translated
CELL_LINES = 10000                  # MyST-NB: line = 10000 * (cell index + 1) + line in the cell


CHAPTER_AFTER_WORD = re.compile(r"\b([Cc]hapters?|[Aa]ppendix|[Aa]ppendices) \[(?:chapter|appendix) "
                                r"([0-9A-Z]+) \(")


class KitError(Exception):
    pass


def kit_docs(env) -> list[str]:
    """The pages the kit holds: every chapter notebook and the references."""
    return [d for d in _reading_order(env) if d.startswith("chapters/") or d in KIT_DOCS]


def notebook_name(docname: str) -> str:
    return docname.rsplit("/", 1)[-1] + ".ipynb"


# --- author–year citations ----------------------------------------------------------------------

def author_year(citations) -> dict[str, tuple[str, str]]:
    """{citation id: (BibTeX key, 'Liu 2019d')} for sphinxcontrib-bibtex's citations; the letters
    keep apart works of the same authors and year (in the order of the bibliography's labels)."""
    base = {}
    for c in citations:
        people = c.entry.persons.get("author") or c.entry.persons.get("editor") or []
        names = [" ".join(p.last_names).strip("{}") for p in people]
        who = (names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2
               else f"{names[0]} et al." if names else c.entry.fields.get("title", c.key))
        base[c.citation_id] = (c.key, f"{who} {c.entry.fields.get('year', 'n.d.')}",
                               c.formatted_entry.label)
    count = Counter(text for _, text, _ in base.values())
    seen: dict[str, int] = defaultdict(int)
    result = {}
    for cid, (key, text, _label) in sorted(base.items(), key=lambda kv: kv[1][2]):
        if count[text] > 1:
            seen[text] += 1
            result[cid] = (key, text + "abcdefghijklmnopqrstuvwxyz"[seen[text] - 1])
        else:
            result[cid] = (key, text)
    return result


# --- the Markdown writer --------------------------------------------------------------------------

def escape(text: str, table: bool = False) -> str:
    text = text.replace("\\", "\\\\")
    for char in "*_`$":
        text = text.replace(char, "\\" + char)
    text = text.replace("<", "&lt;").replace("\n", " ")
    if table:
        text = text.replace("|", "\\|")
    return text


def _punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _finish_marks(text: str) -> str:
    """Turn the emphasis markers into ``**…**``/``*…*`` where CommonMark's flanking rules let them
    work, and into ``<strong>``/``<em>`` where they would not (next to Chinese punctuation)."""
    def opens(before: str, first: str) -> bool:
        return bool(first) and not first.isspace() and (
            not _punct(first) or not before or before.isspace() or _punct(before))

    def closes(last: str, after: str) -> bool:
        return bool(last) and not last.isspace() and (
            not _punct(last) or not after or after.isspace() or _punct(after))

    pattern = re.compile(r"\x01([se])((?:(?!\x01\1).)*?)\x02\1", re.S)
    while (m := pattern.search(text)):
        kind, inner = m.group(1), m.group(2)
        before, after = text[m.start() - 1:m.start()], text[m.end():m.end() + 1]
        if opens(before, inner[:1]) and closes(inner[-1:], after) and "\x01" not in inner[:1]:
            mark = "**" if kind == "s" else "*"
            new = mark + inner + mark
        else:
            tag = "strong" if kind == "s" else "em"
            new = f"<{tag}>{inner}</{tag}>"
        text = text[:m.start()] + new + text[m.end():]
    return text


class MarkdownWriter:
    """One page's doctree as notebook cells (see the module docstring)."""

    def __init__(self, builder: KitBuilder, docname: str):
        self.builder, self.env, self.docname = builder, builder.env, docname
        self.words = WORDS["zh" if is_zh(builder.config) else "en"]
        self.numbers = builder.chapter_numbers
        self.table = False
        self.pending: list[str] = []   # anchors waiting for the next block

    # numbers
    def number(self, node_id: str) -> str:
        for kind in self.env.toc_fignumbers.get(self.docname, {}).values():
            if node_id in kind:
                return ".".join(map(str, kind[node_id]))
        raise KitError(f"{self.docname}: no number for {node_id!r}")

    def fail(self, node, what="node") -> KitError:
        return KitError(f"{self.docname}:{node.line}: the kit cannot write this {what}: "
                        f"{node.tagname} {node.attributes.get('classes', '')}")

    # anchors
    def anchors(self, node) -> str:
        ids = [i for i in node.get("ids", []) if not SKIP_IDS.search(i)]
        if isinstance(node, nodes.math_block) and node.get("label"):
            # the id Sphinx made of the label (equation-sm-dw for sm-dW): the one links point at
            ids = [_fragment(i) for i in node["ids"] if i.startswith("equation-")] or [node["label"]]
        return "".join(f'<a id="{i}"></a>' for i in ids)

    def take_pending(self) -> str:
        out, self.pending = "".join(self.pending), []
        return out

    # blocks: yields ("md", line, text) and ("code", cell index, node)
    def items(self, node, depth: int = 1):
        if isinstance(node, nodes.document):
            for child in node.children:
                yield from self.items(child, depth)
        elif isinstance(node, nodes.section) and node.children and isinstance(node[0], nodes.title):
            title = node[0]
            head = "#" * min(depth, 6) + " " + self.take_pending() + self.anchors(node)
            yield "md", self.line(title), head + self.inline(title)
            for child in node.children:
                if child is not title:
                    yield from self.items(child, depth + 1)
        elif isinstance(node, nodes.container) and node.get("nb_element") == "cell_code":
            yield "code", int(node["cell_index"]), node
        elif isinstance(node, nodes.target):
            if not node.get("refid") and (anchor := self.anchors(node)):
                self.pending.append(anchor)
        elif isinstance(node, (addnodes.index, nodes.comment, nodes.substitution_definition,
                               nodes.system_message)):
            return
        elif isinstance(node, nodes.compound) and "toctree-wrapper" in node.get("classes", []):
            return
        elif isinstance(node, nodes.raw):
            if node.get("format") == "html" and "<script" not in node.astext():
                yield "md", self.line(node), node.astext()
        elif _is(node, "exercise_enumerable_node", "exercise_unenumerable_node") and any(
                c.get("nb_element") == "cell_code" for c in node.findall(nodes.container)):
            # a gated exercise (exercise-start … exercise-end) holds code cells: its head, then them
            yield "md", self.line(node), self.take_pending() + self.exercise_head(node)
            for child in node.children:
                if not isinstance(child, nodes.title):
                    yield from self.items(child, depth)
        elif _is(node, "solution_node") and any(
                c.get("nb_element") == "cell_code" for c in node.findall(nodes.container)):
            # a gated solution (solution-start … solution-end) holds code cells: no fold around them
            title = node.next_node(nodes.title)
            ref = title.next_node(nodes.reference) if title is not None else None
            yield "md", self.line(node), (self.anchors(node) + f"**{self.words['solution']}**"
                                          + (f" ({_finish_marks(self.inl(ref))})" if ref else ""))
            for child in node.children:
                if not isinstance(child, nodes.title):
                    yield from self.items(child, depth)
        elif isinstance(node, (nodes.container, nodes.section)) or _is(node, "proof_node"):
            for child in node.children:
                yield from self.items(child, depth)
        else:
            text = self.block(node)
            yield "md", self.line(node), self.take_pending() + text

    def exercise_head(self, node) -> str:
        """An exercise's anchors and title line: "**Exercise 2.1**", with its own title if it has one."""
        number = self.number(node["ids"][0]) if _is(node, "exercise_enumerable_node") else ""
        title = node.next_node(nodes.title)
        extra = self.inline(title) if title is not None and title.children else ""
        head = f"**{self.words['exercise']} {number}**".replace(" **", "**")
        return self.anchors(node) + head + (f" ({extra})" if extra else "")

    def line(self, node) -> int | None:
        if node is None:
            return None
        for n in node.findall(nodes.Element):
            if n.line:
                return n.line
        return None

    def blocks(self, children) -> str:
        """Child blocks of a compound block (list item, exercise, table cell): no code inside."""
        parts = []
        for child in children:
            for kind, _line, item in self.items(child):
                if kind == "code":
                    raise self.fail(child, "code cell inside a block")
                parts.append(item)
        if self.pending:
            parts.append(self.take_pending())
        return "\n\n".join(p for p in parts if p.strip())

    def block(self, node) -> str:
        if isinstance(node, nodes.paragraph):
            if any(r.get("refuri", "").endswith(NOTE_TARGET) for r in node.findall(nodes.reference)):
                return self.words["note"]  # the book's kit note; the kit has its own
            return self.anchors(node) + self.inline(node)
        if isinstance(node, nodes.math_block):
            return self.display_math(node)
        if isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
            return self.list_block(node)
        if isinstance(node, nodes.table):
            return self.anchors(node) + self.table_block(node)
        if isinstance(node, nodes.literal_block):
            fence = "````" if "```" in node.astext() else "```"
            return f"{fence}{node.get('language', '')}\n{node.astext()}\n{fence}"
        if isinstance(node, nodes.transition):
            return "---"
        if isinstance(node, nodes.rubric):
            return f"**{self.inline(node)}**"
        if isinstance(node, nodes.block_quote):
            body = self.blocks(node.children)
            return "\n".join("> " + line if line else ">" for line in body.split("\n"))
        if isinstance(node, nodes.definition_list):
            items = []
            for item in node.children:
                term = item.next_node(nodes.term)
                items.append(f"**{self.inline(term)}**\n\n"
                             + self.blocks(item.next_node(nodes.definition).children))
            return "\n\n".join(items)
        if _is(node, "exercise_enumerable_node", "exercise_unenumerable_node"):
            body = self.blocks(c for c in node.children if not isinstance(c, nodes.title))
            return f"{self.exercise_head(node)}\n\n{body}"
        if _is(node, "solution_node"):
            body = self.blocks(c for c in node.children if not isinstance(c, nodes.title))
            return (f"{self.anchors(node)}<details><summary>{self.words['solution']}</summary>\n\n"
                    f"{body}\n\n</details>")
        if _is(node, "theorem_node") or (node.tagname.endswith("_node")
                                         and "proof" in node.get("classes", [])):
            kind = node.get("realtype", "theorem")
            word = self.words.get(kind, kind.capitalize())
            title = node.next_node(nodes.title)
            extra = self.inline(title).strip().strip("()（）") if title is not None else ""
            head = f"{self.anchors(node)}**{word} {self.number(node['ids'][0])}**"
            head += f" ({extra})" if extra else ""
            body = self.blocks(c for c in node.children if not isinstance(c, nodes.title))
            return f"{head}\n\n{body}"
        if isinstance(node, nodes.admonition) or isinstance(node, nodes.Admonition):
            title = node.next_node(nodes.title)
            head = f"**{self.inline(title)}**\n\n" if title is not None and title.parent is node else ""
            body = self.blocks(c for c in node.children if not isinstance(c, nodes.title))
            return self.anchors(node) + head + body
        if isinstance(node, nodes.citation):
            return self.citation(node)
        raise self.fail(node)

    def display_math(self, node) -> str:
        text = node.astext()
        if node.get("nowrap"):
            body = text.strip()
        else:
            parts = [p.strip() for p in text.split("\n\n") if p.strip()]
            parts = [rf"\begin{{split}}{p}\end{{split}}" if r"\\" in p else p for p in parts]
            body = (r"\begin{aligned}" + r"\\".join(parts) + r"\end{aligned}"
                    if len(parts) > 1 else parts[0])
        body = re.sub(r"\n\s*\n", "\n", body)
        tag = ""
        if node.get("label"):
            tag = rf" \tag{{{self.number(node['ids'][0])}}}"
        anchor = self.anchors(node)
        return (anchor + "\n\n" if anchor else "") + f"$$\n{body}{tag}\n$$"

    def list_block(self, node) -> str:
        out = []
        start = node.get("start", 1)
        for i, item in enumerate(node.children):
            marker = "- " if isinstance(node, nodes.bullet_list) else f"{start + i}. "
            body = self.blocks(item.children)
            lines = body.split("\n")
            out.append(marker + lines[0] + "".join(
                "\n" + (" " * len(marker) + line if line.strip() else "") for line in lines[1:]))
        loose = any(len(item.children) > 1 for item in node.children)
        return ("\n\n" if loose else "\n").join(out)

    def table_block(self, node) -> str:
        rows_head, rows_body = [], []
        for group in node.findall(nodes.tgroup):
            for part, rows in ((nodes.thead, rows_head), (nodes.tbody, rows_body)):
                for section in group.children:
                    if isinstance(section, part):
                        rows += [[self.cell(e) for e in row.children] for row in section.children]
        if not rows_head:
            rows_head, rows_body = rows_body[:1], rows_body[1:]
        width = max(len(r) for r in rows_head + rows_body)
        lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows_head]
        lines.append("|" + "---|" * width)
        lines += ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows_body]
        title = node.next_node(nodes.title)
        caption = f"**{self.inline(title)}**\n\n" if title is not None and title.parent is node else ""
        return caption + "\n".join(lines)

    def cell(self, entry) -> str:
        self.table = True
        try:
            parts = []
            for child in entry.children:
                if isinstance(child, nodes.paragraph):
                    parts.append(self.anchors(child) + self.inline(child))
                elif isinstance(child, nodes.target):
                    parts.append(self.anchors(child))
                else:
                    raise self.fail(child, "block in a table cell")
            return "<br>".join(p for p in parts if p)
        finally:
            self.table = False

    def citation(self, node) -> str:
        key, text = self.builder.citations.get(node["ids"][0], (None, None))
        if key is None:
            raise self.fail(node, "citation")
        entry = " ".join(self.inline(p) for p in node.children if isinstance(p, nodes.paragraph))
        return f'<a id="{key}"></a>**{text}**. {entry}'

    # inline
    def inline(self, node) -> str:
        if node is None:
            return ""
        text = _finish_marks("".join(self.inl(child) for child in node.children)).strip()
        # "Chapter {doc}`x`": the prose already says "chapter"; the link then gives number and title
        return CHAPTER_AFTER_WORD.sub(r"\1 [\2 (", text)

    def inl(self, node) -> str:
        if isinstance(node, nodes.Text):
            return escape(str(node), self.table)
        if isinstance(node, nodes.strong):
            return "\x01s" + self.children(node) + "\x02s"
        if isinstance(node, (nodes.emphasis, nodes.title_reference)):
            return "\x01e" + self.children(node) + "\x02e"
        if isinstance(node, nodes.literal):
            text = node.astext().replace("\n", " ")
            fence = "``" if "`" in text else "`"
            pad = " " if fence == "``" else ""
            return f"{fence}{pad}{text}{pad}{fence}"
        if isinstance(node, nodes.math):
            return "$" + node.astext().replace("\n", " ").strip() + "$"
        if isinstance(node, nodes.inline) and "bibtex-citation" in node.get("classes", []):
            return self.cite(node)
        if isinstance(node, (nodes.reference, addnodes.number_reference)):
            return self.link(node)
        if isinstance(node, nodes.target):
            return self.anchors(node)
        if isinstance(node, (addnodes.index, nodes.comment)):
            return ""
        if isinstance(node, nodes.raw):
            return node.astext() if node.get("format") == "html" else ""
        if isinstance(node, nodes.image):
            raise self.fail(node, "image outside an output")
        if isinstance(node, (nodes.problematic, addnodes.pending_xref, nodes.footnote_reference)):
            raise self.fail(node, "unresolved reference")
        if isinstance(node, (nodes.inline, nodes.abbreviation, nodes.title, nodes.label,
                             nodes.generated, nodes.subscript, nodes.superscript)):
            text = self.children(node)
            if isinstance(node, nodes.subscript):
                return f"<sub>{text}</sub>"
            if isinstance(node, nodes.superscript):
                return f"<sup>{text}</sup>"
            return text
        raise self.fail(node, "inline node")

    def children(self, node) -> str:
        return "".join(self.inl(child) for child in node.children)

    def cite(self, node) -> str:
        works = []
        for ref in node.findall(nodes.reference):
            target = (ref.get("refuri") or "").rpartition("#")[2] or ref.get("refid", "")
            key, text = self.builder.citations.get(target, (None, None))
            if key is None:
                raise self.fail(node, f"citation {target}")
            page = "" if self.docname == "references" else "references.ipynb"
            works.append(f"[{text}]({page}#{key})")
        return "(" + "; ".join(works) + ")"

    def link(self, node) -> str:
        text = self.children(node).strip()
        if not text:
            raise self.fail(node, "link without text")
        if node.get("refid"):
            return f"[{text}](#{_fragment(node['refid'])})"
        uri = node.get("refuri", "")
        if re.match(r"^[a-z]+:", uri):  # outside the kit
            return f"[{text}]({uri})"
        page, _, fragment = uri.partition("#")
        if not page:
            return f"[{text}](#{_fragment(fragment)})"
        if page == "README.md":  # the introduction: the kit's README stands for it
            return f"[{text}](README.md)"
        doc = self.builder.doc_of.get(page)
        if doc is None:
            raise self.fail(node, f"link to {uri!r}, a page the kit does not hold")
        title = self.env.titles[doc].astext()
        if not fragment and node.astext().strip() == title and doc in self.numbers:
            number = self.numbers[doc]
            word = "appendix" if isinstance(number, str) else "chapter"
            text = self.words[word].format(n=number, title=text)
        target = page if doc != self.docname else ""
        return f"[{text}]({target}{'#' + _fragment(fragment) if fragment else ''})"


def _fragment(fragment: str) -> str:
    return fragment[len("equation-"):] if fragment.startswith("equation-") else fragment


def _is(node, *names: str) -> bool:
    return type(node).__name__ in names


# --- notebooks ------------------------------------------------------------------------------------

def cell_of(line: int | None) -> int | None:
    return None if line is None else line // CELL_LINES - 1


def markdown_output(writer: MarkdownWriter, container) -> str | None:
    """The converted text/markdown output of a code cell (its rendered nodes in the doctree)."""
    output = next((c for c in container.children if c.get("nb_element") == "cell_code_output"), None)
    if output is None:
        return None
    rendered = [c for c in output.children
                if not (isinstance(c, (nodes.literal_block, nodes.image))
                        or (isinstance(c, nodes.container) and c.get("mime_type")))]
    return writer.blocks(rendered) if rendered else None


def write_notebook(writer: MarkdownWriter, doctree, source: Path | None) -> nbformat.NotebookNode:
    items = list(writer.items(doctree))
    if source is None:  # a Markdown page: one markdown cell
        text = "\n\n".join(t for kind, _, t in items if kind == "md" and t.strip())
        cell = nbformat.v4.new_markdown_cell(text, id=re.sub(r"\W", "-", writer.docname))
        return nbformat.v4.new_notebook(cells=[cell],
                                        metadata=_metadata())
    nb = nbformat.read(source, as_version=4)
    markdown: dict[int, list[str]] = defaultdict(list)
    code: dict[int, object] = {}
    current = 0
    for kind, where, item in items:
        if kind == "code":
            code[where] = item
            current = where + 1
            continue
        cell = cell_of(where)
        if cell is None or not (0 <= cell < len(nb.cells)):
            cell = current
        current = max(current, cell)
        markdown[cell].append(item)
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            text = "\n\n".join(p for p in markdown.pop(index, []) if p.strip())
            new = nbformat.v4.new_markdown_cell(text, id=cell.get("id"))
            if cell.metadata.get("tags"):
                new.metadata["tags"] = list(cell.metadata["tags"])
            cells.append(new)
        elif cell.cell_type == "code":
            new = copy.deepcopy(cell)
            new.metadata.pop("mystnb", None)
            for output in new.get("outputs", []):
                if "text/markdown" in output.get("data", {}):
                    converted = markdown_output(writer, code[index]) if index in code else None
                    if converted is None:
                        raise KitError(f"{writer.docname}: cell {index}: markdown output not found")
                    output["data"]["text/markdown"] = converted
                    if is_zh(writer.builder.config):  # translated: a re-run writes English
                        tags = new.metadata.setdefault("tags", [])
                        if TRANSLATED_OUTPUT not in tags:
                            tags.append(TRANSLATED_OUTPUT)
            cells.append(new)
        else:
            cells.append(copy.deepcopy(cell))
    if markdown:
        raise KitError(f"{writer.docname}: text placed in no markdown cell: cells {sorted(markdown)}")
    return nbformat.v4.new_notebook(cells=cells, metadata=_metadata(nb.metadata))


def _metadata(source=None) -> dict:
    meta = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}}
    if source and source.get("language_info"):
        meta["language_info"] = dict(source["language_info"])
    return meta


class KitBuilder(Builder):
    """``kit``: every chapter (and the references) as a plain notebook in the output folder."""

    name = "kit"
    format = "ipynb"
    epilog = "The kit's notebooks are in %(outdir)s."

    def init(self):
        self.chapter_numbers: dict = {}
        self.doc_of: dict[str, str] = {}
        self.citations: dict = {}

    def get_outdated_docs(self):
        return self.env.found_docs

    def get_target_uri(self, docname: str, typ=None) -> str:
        return notebook_name(docname) if docname != self.config.root_doc else "README.md"

    def prepare_writing(self, docnames):
        self.chapter_numbers = chapter_numbers(_reading_order(self.env))
        self.doc_of = {notebook_name(d): d for d in kit_docs(self.env)}
        self.citations = author_year(self.env.get_domain("cite").citations)

    def write_doc(self, docname: str, doctree):
        if docname not in self.doc_of.values():
            return
        source = Path(self.env.doc2path(docname))
        writer = MarkdownWriter(self, docname)
        try:
            nb = write_notebook(writer, doctree, source if source.suffix == ".ipynb" else None)
        except KitError as exc:
            logger.warning(str(exc), type="mathchain", subtype="kit")
            return
        nbformat.validate(nb)
        nbformat.write(nb, Path(self.outdir) / notebook_name(docname))


def _kit_mime_priority(app, config):
    """MyST-NB renders outputs for the kit as for HTML (so a text/markdown output becomes nodes)."""
    from myst_nb.core.render import base_render_priority

    config.nb_mime_priority_overrides = list(config.nb_mime_priority_overrides) + [
        ("kit", mime, rank) for mime, rank in base_render_priority()["html"].items()]


def setup(app):
    app.add_builder(KitBuilder)
    app.connect("config-inited", _kit_mime_priority)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
