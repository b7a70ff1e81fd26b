"""Local Sphinx extension for the mathchain book.

Downloads. An HTML build first builds the course kit and the wheel (``tools/build-kit``, into
``_build/kit``), so a plain ``jupyter-book build`` serves fresh ones. Pages link them through MyST
substitutions set here, whose file names carry ``mathchain.__version__``: ``{{ kit_link }}``,
``{{ wheel_link }}`` and ``{{ pdf_link }}`` (the PDF edition, ``_build/pdf/mathchain.pdf``: a
download when ``make pdf`` has built it, otherwise a sentence saying how to build it; in the PDF
itself, a sentence naming it), and ``{{ version }}``.

The PDF (LaTeX builders only). A code cell tagged ``hide-input`` (plotting boilerplate, behind a
toggle in HTML) prints only its output: paper has no toggle. A reference to a numbered exercise
on another page is pointed at the label sphinx-exercise writes (``exercise:<label>``); sphinx-exercise
1.2 does that only for references within a page, and the others printed "Exercise ??".

Scripts. Jupyter Book 1.0.4 registers sphinx-thebe's inline script (``const THEBE_JS_URL …``) and
one other inline script twice per page, once with filename ``None`` and once with ``''``: the
browser then reports a redeclared ``const`` as a console error. Drop the duplicates before the page
is written.
"""

from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform


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


def _kit_tool(root: Path):
    """``tools/build-kit`` as a module (a script without the .py suffix, like the other tools)."""
    loader = SourceFileLoader("mathchain_build_kit", str(root / "tools" / "build-kit"))
    module = module_from_spec(spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def _downloads(app):
    root = Path(app.srcdir)
    kit_tool = _kit_tool(root)
    version, subs = kit_tool.version(root), app.config.myst_substitutions
    subs["version"] = version
    if app.builder.format != "html":  # the PDF: no downloads to link
        subs["kit_link"] = f"course kit {version} (a download of the HTML edition)"
        subs["wheel_link"] = f"`mathchain-{version}-py3-none-any.whl`"
        subs["pdf_link"] = "PDF edition (this document)"
        return
    try:
        wheel, kit = kit_tool.build(root / "_build" / "kit", root)
    except SystemExit as exc:  # the tool's way of failing
        raise ExtensionError(f"tools/build-kit failed: {exc}") from None
    pdf = root / "_build" / "pdf" / "mathchain.pdf"
    subs["kit_link"] = f"{{download}}`course kit {version} <{kit.relative_to(root)}>`"
    subs["wheel_link"] = f"{{download}}`{wheel.name} <{wheel.relative_to(root)}>`"
    subs["pdf_link"] = (f"{{download}}`PDF edition <{pdf.relative_to(root)}>`" if pdf.is_file()
                        else "PDF edition (`make pdf` builds it; not part of this build)")


class _PrintWithoutHiddenInputs(SphinxPostTransform):
    builders = ("latex",)
    default_priority = 900

    def run(self, **kwargs):
        for cell in list(self.document.findall(nodes.container)):
            if "tag_hide-input" in cell.get("classes", []):
                for child in list(cell.children):
                    if child.get("nb_element") == "cell_code_source":
                        cell.remove(child)


class _ExerciseReferencesAcrossPages(SphinxPostTransform):
    builders = ("latex",)
    default_priority = 23  # after sphinx-exercise's own (22), which handles references within a page

    def run(self, **kwargs):
        from sphinx_exercise.nodes import exercise_enumerable_node, exercise_latex_number_reference

        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for ref in list(self.document.findall(addnodes.number_reference)):
            label = ref.get("refuri", "").rpartition("#")[2]
            target = registry.get(label, {}).get("node")
            if ref.get("refid") or not isinstance(target, exercise_enumerable_node):
                continue
            new = exercise_latex_number_reference()
            new["refid"] = label
            new += ref.children
            ref.replace_self(new)


def setup(app):
    app.add_post_transform(_PrintWithoutHiddenInputs)
    app.add_post_transform(_ExerciseReferencesAcrossPages)
    app.connect("builder-inited", _downloads)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
