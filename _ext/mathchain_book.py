"""Local Sphinx extension for the mathchain book.

Jupyter Book 1.0.4 registers sphinx-thebe's inline script (``const THEBE_JS_URL …``) and one other
inline script twice per page, once with filename ``None`` and once with ``''``: the browser then
reports a redeclared ``const`` as a console error. Drop the duplicates before the page is written.
"""


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


def setup(app):
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
