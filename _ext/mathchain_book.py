"""Local Sphinx extension for the mathchain book.

Jupyter Book 1.0.4 registers sphinx-thebe's inline script (``const THEBE_JS_URL …``) and one other
inline script twice per page, once with filename ``None`` and once with ``''``: the browser then
reports a redeclared ``const`` as a console error. Drop the duplicates before the page is written.

Chapters are numbered by their file names, so that a bare reference can be found: ``chapters/04-x``
is chapter 4, in the sidebar and its page title, and its equations and exercises are (4.1), (4.2),
Exercise 4.1, … (``numfig_secnum_depth`` is 1). Appendices, ``chapters/appendix-*``, are lettered
A, B, … in reading order (their exercises are A.1, A.2, …). Every other page (the front page, the
references) is unnumbered, and so are the sections inside a page. Sphinx's own ``numbered`` toctree
option cannot do this: it counts from 1 in each part of the table of contents.
"""

import re
import string

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)
NUMBERED = re.compile(r"(\d+)-")   # chapters/04-backprop -> 4
APPENDIX = "appendix-"             # chapters/appendix-errata -> A, B, … in reading order


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
        key = (getattr(script, "filename", script) or "", attributes)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _reading_order(env) -> list[str]:
    order: list[str] = []

    def walk(doc):
        for child in env.toctree_includes.get(doc, []):
            if child not in order:
                order.append(child)
                walk(child)

    walk(env.config.root_doc)
    return order


def chapter_numbers(docnames: list[str]) -> dict[str, int | str]:
    """The number of each document in reading order: its file name's digits, or a letter."""
    letters = iter(string.ascii_uppercase)
    numbers: dict[str, int | str] = {}
    for doc in docnames:
        name = doc.rsplit("/", 1)[-1]
        if match := NUMBERED.match(name):
            numbers[doc] = int(match.group(1))
        elif name.startswith(APPENDIX):
            numbers[doc] = next(letters)
    return numbers


def _number_chapters(app, env):
    """Give each chapter its number, after Sphinx has assigned section and figure numbers."""
    numbers = chapter_numbers(_reading_order(env))
    digits = [n for n in numbers.values() if isinstance(n, int)]
    if digits != sorted(set(digits)):
        logger.warning(f"chapter numbers from file names are repeated or out of reading order: "
                       f"{digits}", type="mathchain", subtype="numbering")
    for doc, number in numbers.items():
        references = list(env.tocs[doc].findall(nodes.reference))
        secnumbers = {ref["anchorname"]: () for ref in references}   # sections: no number
        secnumbers[""] = (number,)                                   # the page title
        env.toc_secnumbers[doc] = secnumbers
        for ref in references:                                       # the sidebar
            if ref["anchorname"] == "":
                ref["secnumber"] = [number]
            else:
                ref.attributes.pop("secnumber", None)
        env.titles[doc]["secnumber"] = [number]                      # previous/next links
        # Sphinx numbered equations and exercises by one counter for the whole book: restart it
        for ids in env.toc_fignumbers.get(doc, {}).values():
            for count, figure_id in enumerate(ids, start=1):
                ids[figure_id] = (number, count)
    return list(numbers)


def setup(app):
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    # after the toctree collector (priority 500) has assigned its numbers
    app.connect("env-get-updated", _number_chapters, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
