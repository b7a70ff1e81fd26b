"""The two editions of the book: English at ``_build/html/``, 简体中文 at ``_build/html/zh/``.

Both are built from the same sources; the Chinese one substitutes the translations of
``locales/zh_CN`` (Sphinx internationalisation, see ``tools/i18n``). This extension adds what Sphinx
does not do by itself:

* **The language switch.** Every page links to the same page of the other edition: a
  ``<link rel="alternate" hreflang=…>`` in the head, and ``_static/language-switch.js`` turns it into a
  button in the page's header. The link is computed from the page name (``chapters/02-x`` ↔
  ``zh/chapters/02-x``), so no list of pages is kept by hand.
* **Measured numbers in generated text.** A notebook that reports a build-time measurement writes
  the number as ``{measured}`3.1 ms` ``. The message that goes to the translators holds a numbered
  placeholder instead (``{measured}`#1` ``), so it does not change from one build to the next; after
  the translation is substituted, the placeholders get this build's numbers back.
* **Translated formula blocks.** Sphinx 7.4 hands the translation of a ``{math}`` block (whose
  ``\\text{…}`` words a translator may translate) to the page's parser wrapped in reStructuredText's
  ``::`` literal syntax, which MyST does not read (the block rendered as ``::``; MyST-Parser issues
  #444, #980). Here the block's text is replaced by its translation before Sphinx's Locale transform
  runs, so Locale finds nothing left to do.
* **The sidebar's part captions.** sphinx-external-toc inserts the toctrees (with the captions of
  ``_toc.yml``) after the Locale transform; their translations are looked up in the root page's
  catalog here.
* **The PDF** (``tools/i18n latex``, run by ``make pdf``): the Chinese title; chapters headed
  第 0 章 and 附录 A, with the same running heads, parts 第一部分 and contents 目录
  (``_latex/mathchain-zh.sty``, loaded here in place of fncychap's English heading);
  sphinx-proof's index, which names itself "Proof Index" in every language, is 证明索引.
* **The execution-statistics table** (MyST-NB's ``nb-exec-table``) gets Chinese column headers in
  the zh edition; MyST-NB writes them in English.
"""

from __future__ import annotations

import re
from os import path

from docutils import nodes
from mathchain_book import is_zh
from sphinx import addnodes
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.i18n import docname_to_domain

MEASURED = re.compile(r"\{measured\}`([^`]*)`")
EDITIONS = {"en": ("English", "en"), "zh": ("中文", "zh-CN")}
EXEC_TABLE_HEADERS = {
    "Document": "文档",
    "Modified": "修改时间",
    "Method": "执行方式",
    "Run Time (s)": "运行时间（秒）",
    "Status": "状态",
}


def _measured_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """{measured}`value`: a number measured when the notebook ran (see the module docstring)."""
    return [nodes.inline(rawtext, text, classes=["measured"])], []


class MaskMeasured(SphinxTransform):
    """Replace measured values by placeholders in the message source (before Locale, 20)."""

    default_priority = 15

    def apply(self, **kwargs):
        for node in self.document.findall(nodes.TextElement):
            source = node.rawsource if isinstance(node.rawsource, str) else ""
            values = MEASURED.findall(source)
            if not values:
                continue
            parts = MEASURED.split(source)  # text, value, text, value, …, text
            parts[1::2] = [f"{{measured}}`#{k}`" for k in range(1, len(values) + 1)]
            node.rawsource = "".join(parts)
            node["measured"] = values


class FillMeasured(SphinxTransform):
    """Put this build's values back into the placeholders of a translated message (after Locale)."""

    default_priority = 25

    def apply(self, **kwargs):
        for node in self.document.findall(nodes.TextElement):
            values = node.get("measured")
            if not values:
                continue
            for inline in node.findall(nodes.inline):
                text = inline.astext()
                if "measured" in inline["classes"] and re.fullmatch(r"#\d+", text):
                    k = int(text[1:])
                    if not 1 <= k <= len(values):
                        raise ValueError(
                            f"{self.env.docname}: placeholder {text}, but {len(values)} values")
                    inline.clear()
                    inline += nodes.Text(values[k - 1])


def _catalog(transform: SphinxTransform, docname: str):
    """The translations of page ``docname`` (a gettext catalog), as Sphinx's Locale reads them."""
    domain = docname_to_domain(docname, transform.config.gettext_compact)
    dirs = [path.join(transform.env.srcdir, d) for d in transform.config.locale_dirs]
    catalog, has_catalog = init_locale(dirs, transform.config.language, domain)
    return catalog if has_catalog else None


class TranslateMathBlocks(SphinxTransform):
    default_priority = 19  # just before Locale (20)

    def apply(self, **kwargs):
        if not is_zh(self.config):
            return
        catalog = _catalog(self, self.env.docname)
        if catalog is None:
            return
        for block in list(self.document.findall(nodes.math_block)):
            source = block.rawsource
            translated = catalog.gettext(source) if source else ""
            if translated and translated != source:
                block.rawsource = translated
                block.children = []
                block += nodes.Text(translated)


class TranslateTocCaptions(SphinxTransform):
    default_priority = 101  # after sphinx-external-toc's InsertToctrees (100)

    def apply(self, **kwargs):
        if not is_zh(self.config) or self.env.docname != self.config.root_doc:
            return
        catalog = _catalog(self, self.env.docname)
        if catalog is None:
            return
        for toctree in self.document.findall(addnodes.toctree):
            caption = toctree.get("caption")
            if caption:
                toctree["caption"] = catalog.gettext(caption)


class ChineseExecTableHeaders(SphinxPostTransform):
    default_priority = 9  # after MyST-NB writes the table (8)

    def run(self, **kwargs):
        if not is_zh(self.config):
            return
        for table in self.document.findall(nodes.table):
            for entry in (e for thead in table.findall(nodes.thead) for e in thead.findall(nodes.entry)):
                for text in list(entry.findall(nodes.Text)):
                    if str(text) in EXEC_TABLE_HEADERS:
                        text.parent.replace(text, nodes.Text(EXEC_TABLE_HEADERS[str(text)]))


def _chinese_print(app, config):
    """The zh edition's LaTeX: Chinese headings instead of fncychap's (see the module docstring)."""
    if not is_zh(config):
        return
    elements = dict(config.latex_elements)
    elements["fncychap"] = ""
    elements["preamble"] = elements.get("preamble", "") + "\n\\usepackage{mathchain-zh}\n"
    config.latex_elements = elements
    from sphinx_proof.domain import ProofIndex

    ProofIndex.localname = "证明索引"  # a class attribute: sphinx-proof 0.4 never translates it


def _chinese_title(app, env):
    """The zh PDF's title page and page heads: the edition's title (``html_title``, tools/i18n).
    Set once the pages are read: jupyter-book writes its English title into ``latex_documents``
    after Sphinx has started."""
    if is_zh(app.config) and app.builder.name == "latex":
        app.config.latex_documents = [(start, target, app.config.html_title, *rest)
                                      for start, target, _, *rest in app.config.latex_documents]


def other_edition(pagename: str, zh: bool) -> str:
    """The relative URL, from page ``pagename`` of one edition, of the same page in the other."""
    up = "../" * pagename.count("/")
    return f"{up}../{pagename}.html" if zh else f"{up}zh/{pagename}.html"


def _language_link(app, pagename, templatename, context, doctree):
    zh = is_zh(app.config)
    label, hreflang = EDITIONS["en" if zh else "zh"]
    href = other_edition(pagename, zh)
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{hreflang}" href="{href}" title="{label}" '
        f'data-mathchain-edition="{label}">'
    )


def setup(app):
    app.add_role("measured", _measured_role)
    app.add_transform(MaskMeasured)
    app.add_transform(FillMeasured)
    app.add_transform(TranslateMathBlocks)
    app.add_transform(TranslateTocCaptions)
    app.add_post_transform(ChineseExecTableHeaders)
    app.add_js_file("language-switch.js")
    app.connect("html-page-context", _language_link)
    app.connect("config-inited", _chinese_print)
    app.connect("env-updated", _chinese_title)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
