"""Every figure a chapter shows keeps its labels: nothing is cut at the edge of the image. And a
figure speaks mathematics: no English word in its text (the tests at the end of this file).

The figures checked are the PNG outputs committed in ``chapters/*.ipynb`` (``tools/run-notebooks``
refreshes them; the book build runs the same code with the same backend and shows the same images).
The check is on the pixels a reader sees. Matplotlib's inline backend saves with
``bbox_inches="tight"``: the canvas grows to hold every artist, plus a white margin of
``savefig.pad_inches`` (0.1 in, several pixels). So in a good figure every edge of the image is a band
of white. Ink in the outermost pixels means a label, tick label or title runs off the image: saved
without the tight box, an artist left out of the layout, text clipped at an axes, or a figure made too
small for its labels. (Comparing each text's window extent with ``fig.bbox`` does not work on these
figures: with the tight box a y-label may lie left of ``fig.bbox`` and still be drawn in full, since
the saved canvas grows to hold it.)

``test_cut_labels_are_caught`` proves on figures cut on purpose that the check reports each cut edge,
and passes the same figures saved with the tight box.
"""

from __future__ import annotations

import ast
import base64
import io
import re
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from PIL import Image

import mathchain

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

ROOT = Path(__file__).resolve().parent.parent
EDGE_PX = 2   # ink this close to the edge is cut: the tight box leaves a margin of several pixels
INK = 245     # a channel below this (on white) is ink, not background or faint antialiasing


def notebook_figures(root: Path = ROOT) -> list[tuple[str, bytes]]:
    """(name, PNG bytes) of every image output of the chapter notebooks, in reading order."""
    figures = []
    for path in sorted((root / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            pngs = [out["data"]["image/png"] for out in cell.get("outputs", [])
                    if "image/png" in out.get("data", {})]
            for number, png in enumerate(pngs):
                figures.append((f"{path.name} cell {cell.get('id')} figure {number}",
                                base64.b64decode(png)))
    return figures


def cut_edges(png: bytes, name: str = "figure") -> list[str]:
    """Problems of one PNG: edges that ink reaches (a cut label), a background that is not white."""
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(float)
    alpha = rgba[..., 3:] / 255
    on_white = rgba[..., :3] * alpha + 255 * (1 - alpha)   # as a white page shows it
    ink = on_white.min(axis=2) < INK
    height, width = ink.shape
    problems = []
    if (alpha < 0.99).any():
        problems.append(f"{name}: background is not opaque white ({(alpha < 0.99).sum()} "
                        "transparent pixels; use facecolor='white')")
    bands = {"top": ink[:EDGE_PX, :], "bottom": ink[-EDGE_PX:, :],
             "left": ink[:, :EDGE_PX], "right": ink[:, -EDGE_PX:]}
    for edge, band in bands.items():
        if band.any():
            problems.append(f"{name}: ink at the {edge} edge ({int(band.sum())} pixels within "
                            f"{EDGE_PX} px of it, image {width}x{height}): a label is cut")
    return problems


FIGURES = notebook_figures()


def test_chapters_have_figures():
    """The parametrized test below must not pass by having nothing to check."""
    assert len(FIGURES) >= 4, [name for name, _ in FIGURES]


@pytest.mark.parametrize("name, png", FIGURES, ids=[name for name, _ in FIGURES])
def test_no_label_is_cut(name, png):
    problems = cut_edges(png, name)
    assert not problems, "\n".join(problems)


def _png(fig, **savefig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **savefig)
    plt.close(fig)
    return buffer.getvalue()


def _labelled_figure(**subplots_adjust):
    """A small heatmap with labels; the margins leave room for them unless overridden."""
    fig, ax = plt.subplots(figsize=(3, 2), facecolor="white")
    ax.imshow(np.arange(6.0).reshape(3, 2), aspect="auto")   # fills the axes box
    ax.set_ylabel("row $k$ (sample)")
    ax.set_title("a title")
    fig.subplots_adjust(**{"left": 0.35, "right": 0.95, "bottom": 0.25, "top": 0.85,
                           **subplots_adjust})
    return fig


def test_cut_labels_are_caught():
    """Each cut edge is reported; the same figures saved with the tight box pass."""
    # the y-label and tick labels pushed off the left edge: that edge, and only it
    cut = cut_edges(_png(_labelled_figure(left=0.02)), "cut")
    assert len(cut) == 1 and cut[0].startswith("cut: ink at the left edge"), cut
    assert cut_edges(_png(_labelled_figure(left=0.02), bbox_inches="tight"), "tight") == []
    # the title pushed off the top, a text running off the right
    cut = cut_edges(_png(_labelled_figure(top=0.99)), "top")
    assert any("ink at the top edge" in p for p in cut), cut
    fig = _labelled_figure()
    fig.text(0.8, 0.5, "a label that runs off the canvas")
    cut = cut_edges(_png(fig), "right")
    assert any("ink at the right edge" in p for p in cut), cut
    # the bottom: x tick labels below the canvas
    cut = cut_edges(_png(_labelled_figure(bottom=0.02)), "bottom")
    assert any("ink at the bottom edge" in p for p in cut), cut
    # a transparent background is reported; a figure with room for its labels is not, tight or not
    clear = cut_edges(_png(_labelled_figure(), transparent=True, bbox_inches="tight"), "clear")
    assert len(clear) == 1 and "not opaque white" in clear[0], clear
    assert cut_edges(_png(_labelled_figure()), "roomy") == []
    assert cut_edges(_png(_labelled_figure(), bbox_inches="tight"), "tight") == []


def test_a_chapter_figure_cut_by_one_pixel_is_caught():
    """Every committed figure, with its margin cropped up to one pixel into its first ink, fails."""
    for name, png in FIGURES:
        image = Image.open(io.BytesIO(png)).convert("RGB")
        columns = np.nonzero((np.asarray(image).min(axis=2) < INK).any(axis=0))[0]
        cropped = io.BytesIO()
        image.crop((columns[0] + 1, 0, image.width, image.height)).save(cropped, format="png")
        problems = cut_edges(cropped.getvalue(), name)
        assert any("ink at the left edge" in p for p in problems), (name, problems)


# --- A figure speaks mathematics: its words are in the caption under it, which is translated ---
#
# Figures are images, the same in both editions, so an English word in an axis label, a title, a
# legend or an annotation shows on the Chinese page untranslated. A figure's text is symbols and
# formulas (matplotlib mathtext, $...$); the Markdown cell under the figure says in words what each
# panel, axis and curve is, and the catalogs translate it. The test reads the code of every cell that
# draws a figure, finds the text it hands to matplotlib (following names to their assignments, loop
# targets and function arguments within the notebook), and fails on any English word left once the
# formulas' TeX commands and function names are removed.

# Cells left alone while another branch redraws them; the lead removes an entry after merging it.
WORDS_EXEMPT: set[tuple[str, str]] = set()  # (notebook, cell id) pairs, none today
# positional arguments that are text, per matplotlib method (keywords: TEXT_KEYWORDS, any call)
TEXT_ARGUMENTS = {
    "set_title": (0,), "set_xlabel": (0,), "set_ylabel": (0,), "suptitle": (0,),
    "supxlabel": (0,), "supylabel": (0,), "text": (2,), "annotate": (0,), "set_text": (0,),
    "set_label": (0,), "set_xticklabels": (0,), "set_yticklabels": (0,), "set_xticks": (1,),
    "set_yticks": (1,), "legend": (0, 1), "table": (),
}
TEXT_KEYWORDS = {"label", "labels", "title", "xlabel", "ylabel", "s", "text", "t", "cellText",
                 "rowLabels", "colLabels"}
# names of functions as formulas write them; allowed inside $...$ only (\log is a command already)
MATH_NAMES = {"tr", "det", "diag", "vec", "rank", "softmax", "onehot", "rowsum", "mean", "max",
              "min", "arg", "argmax", "sgn", "sign", "exp", "log", "tanh", "sin", "cos",
              "lstsq"}   # numpy.linalg.lstsq: chapter 02's subscript for the least-squares solution
TEXT_COMMAND = re.compile(r"\\(?:operatorname|mathrm|mathit|mathtt|mathsf|mathbf|text|textrm|"
                          r"textit|textbf)\s*\{([^{}]*)\}")
# mathchain's own functions are code, the same in both editions (jacobian_chain, not a word)
CODE_NAMES = {name for name in mathchain.__all__ if "_" in name}


def english_words(text: str) -> list[str]:
    """The English words of one figure text: words outside $...$, and inside it what remains once
    TeX commands (\\partial, \\operatorname, ...) and function names (tr, vec, ...) are removed.
    A product of three symbols is written with spaces, $A X B$ (mathtext ignores them)."""
    words = []
    for k, part in enumerate(re.split(r"(?<!\\)\$", text)):
        if k % 2:   # inside $...$
            part = TEXT_COMMAND.sub(lambda match: f" {match.group(1)} ", part)
            part = re.sub(r"\\[A-Za-z]+", " ", part)
            words += [w for w in re.findall(r"[A-Za-z]{3,}", part) if w not in MATH_NAMES]
        else:
            part = re.sub(r"[A-Za-z_][A-Za-z0-9_]*",
                          lambda match: " " if match.group(0) in CODE_NAMES else match.group(0),
                          part)
            words += re.findall(r"[A-Za-z]{3,}", part)
    return words


class _Bindings(ast.NodeVisitor):
    """Every expression a name is given in a notebook: assignments, loop and comprehension targets
    (paired through zip, enumerate and .items()), and the arguments of calls to its functions."""

    def __init__(self):
        self.values: dict[str, list[ast.AST]] = {}
        self.params: dict[str, list[str]] = {}
        self.calls: list[ast.Call] = []

    def bind(self, target, value, element=True):
        """target = value, or (element=True) target = an element of the iterable value."""
        if isinstance(target, ast.Name):
            self.values.setdefault(target.id, []).append(
                ast.Subscript(value, ast.Constant(0)) if element else value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            pairs = None
            if element and isinstance(value, ast.Call):
                func, args = value.func, value.args
                if isinstance(func, ast.Name) and func.id == "zip":
                    pairs = list(zip(target.elts, args, strict=False))
                elif isinstance(func, ast.Name) and func.id == "enumerate" and args:
                    pairs = [(target.elts[0], ast.Constant(0)), (target.elts[-1], args[0])]
                elif isinstance(func, ast.Attribute) and func.attr == "items":
                    keys = ast.Call(ast.Attribute(func.value, "keys"), [], [])
                    values = ast.Call(ast.Attribute(func.value, "values"), [], [])
                    pairs = list(zip(target.elts, (keys, values), strict=False))
            if pairs is not None and len(pairs) == len(target.elts):
                for t, v in pairs:
                    self.bind(t, v, element=True)
            elif (not element and isinstance(value, (ast.Tuple, ast.List))
                  and len(value.elts) == len(target.elts)):
                for t, v in zip(target.elts, value.elts, strict=True):
                    self.bind(t, v, element=False)
            else:
                for t in target.elts:   # whatever the pairing, each name gets the whole
                    self.bind(t, value, element=True)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value, element)

    def visit_Assign(self, node):
        for target in node.targets:
            self.bind(target, node.value, element=False)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self.bind(node.target, node.value, element=False)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.bind(node.target, node.value, element=False)
        self.generic_visit(node)

    def visit_For(self, node):
        self.bind(node.target, node.iter)
        self.generic_visit(node)

    def visit_comprehension(self, node):
        self.bind(node.target, node.iter)
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self.params[node.name] = [a.arg for a in node.args.posonlyargs + node.args.args]
        self.generic_visit(node)

    def visit_Call(self, node):
        self.calls.append(node)
        self.generic_visit(node)

    def finish(self):
        for call in self.calls:
            if isinstance(call.func, ast.Name) and call.func.id in self.params:
                names = self.params[call.func.id]
                for name, arg in zip(names, call.args, strict=False):
                    self.values.setdefault(name, []).append(arg)
                for keyword in call.keywords:
                    if keyword.arg in names:
                        self.values.setdefault(keyword.arg, []).append(keyword.value)
        return self.values


STRING_METHODS = {"format", "join", "replace", "strip", "upper", "lower", "title", "capitalize"}
PASS_THROUGH = {"zip", "enumerate", "list", "tuple", "sorted", "reversed", "str", "iter", "set"}


def _strings(node, values, seen=frozenset(), part="all") -> list[str]:
    """The strings an expression may show: literals, f-strings (a value as 0, and its own strings),
    and what its names are bound to; a call to another function shows none of its arguments.
    part: "all" of a dict literal, or only its "keys" or "values"."""
    def again(child, part="all"):
        return _strings(child, values, seen, part)

    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.JoinedStr):
        shown, inner = [], []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                shown.append(piece.value)
            else:   # FormattedValue: a number shows as digits, a string as itself
                shown.append("0")
                inner += again(piece.value)
        return ["".join(shown), *inner]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for elt in node.elts for s in again(elt, part)]
    if isinstance(node, ast.Dict):
        keys = [k for k in node.keys if k is not None] if part != "values" else []
        vals = node.values if part != "keys" else []
        return [s for child in keys + vals for s in again(child)]
    if isinstance(node, ast.BinOp):
        return again(node.left, part) + again(node.right, part)
    if isinstance(node, ast.IfExp):
        return again(node.body, part) + again(node.orelse, part)
    if isinstance(node, ast.Starred):
        return again(node.value, part)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        return again(node.elt, part)
    if isinstance(node, ast.DictComp):
        return (again(node.key) if part != "values" else []) + (
            again(node.value) if part != "keys" else [])
    if isinstance(node, ast.Subscript):   # d[key]: a value of d; s[0]: an element of s
        return again(node.value, "values")
    if isinstance(node, ast.Name):
        if node.id in seen:
            return []
        found = [s for value in values.get(node.id, [])
                 for s in _strings(value, values, seen | {node.id}, part)]
        return [s for s in found if not matplotlib.colors.is_color_like(s)]
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values"):
            return again(func.value, {"items": "all"}.get(func.attr, func.attr))
        if isinstance(func, ast.Attribute) and func.attr in STRING_METHODS:
            return again(func.value) + [s for a in node.args for s in again(a)]
        if isinstance(func, ast.Name) and func.id in PASS_THROUGH:
            return [s for a in node.args for s in again(a, part)]
    return []


def figure_texts(path: Path) -> list[tuple[str, int, str]]:
    """(cell id, line, text) of every text a figure cell of the notebook hands to matplotlib."""
    nb = nbformat.read(path, as_version=4)
    trees = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                           for line in cell.source.splitlines())
        trees.append((cell, ast.parse(source)))
    bindings = _Bindings()
    for _, tree in trees:
        bindings.visit(tree)
    values = bindings.finish()
    texts = []
    for cell, tree in trees:
        draws = any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        if not (draws or "plt.show(" in cell.source or "savefig(" in cell.source):
            continue
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            method = call.func.attr if isinstance(call.func, ast.Attribute) else None
            arguments = [call.args[i] for i in TEXT_ARGUMENTS.get(method, ()) if i < len(call.args)]
            arguments += [k.value for k in call.keywords if k.arg in TEXT_KEYWORDS]
            for argument in arguments:
                texts += [(cell.get("id"), argument.lineno, s) for s in _strings(argument, values)]
    return texts


def english_in_figures(root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted((root / "chapters").glob("*.ipynb")):
        for cell_id, line, text in figure_texts(path):
            if (path.name, cell_id) in WORDS_EXEMPT:
                continue
            words = english_words(text)
            if words:
                problems.append(f"{path.name} cell {cell_id} line {line}: {text!r} has the "
                                f"words {words}: write symbols, and say it in the caption below")
    return problems


def test_figures_have_no_english_words():
    assert not english_in_figures(), "\n".join(english_in_figures())


def test_english_in_a_figure_is_caught(tmp_path):
    """Planted English labels are reported, each once; the same figure in symbols passes."""
    english = [
        'labels = {"gd": "gradient descent", "nt": r"Newton $w - H^{-1} g$"}',
        'fig, (ax, ax2) = plt.subplots(1, 2)\n'
        'for key, style in [("gd", "o-"), ("nt", "s-")]:\n'
        '    ax.plot([1, 2], style, label=labels[key])\n'
        'for axis, name in zip((ax, ax2), ("left", "right")):\n'
        '    axis.set_title(f"{name} panel, $t = {3}$")\n'
        'ax.set_xlabel("step $t$")\n'
        'ax.set_ylabel(r"$\\operatorname{loss}(w_t)$")\n'
        'ax.text(1, 1, "rounding level", ha="right", color="tab:gray")\n'
        'ax.set_xticks([0, 1], [f"sample {i}" for i in range(2)])\n'
        'fig.suptitle(r"$\\partial Y/\\partial X$ for $Y = AXB$")\n'
        'ax.legend(["train"])\n'
        'plt.show()',
    ]
    symbols = [
        'labels = {"gd": r"$w_t - \\eta\\,\\partial J/\\partial w$", "nt": r"$w - H^{-1} g$"}',
        'fig, (ax, ax2) = plt.subplots(1, 2)\n'
        'for key, style in [("gd", "o-"), ("nt", "s-")]:\n'
        '    ax.plot([1, 2], style, label=labels[key], color="tab:red")\n'
        'for axis, name in zip((ax, ax2), ("(a)", "(b)")):\n'
        '    axis.set_title(f"{name} $t = {3}$, $\\\\kappa(X^TX)$")\n'
        'ax.set_xlabel("$t$")\n'
        'ax.set_ylabel(r"$\\|\\nabla J\\|$, $\\mathrm{tr}(G^T dX)$, $\\log_{10} \\tanh(x)$")\n'
        'ax.text(1, 1, r"$\\varepsilon J^*$", ha="right", color="tab:gray")\n'
        'ax.set_xticks([0, 1], [f"$X_{{{i},:}}$" for i in range(2)])\n'
        'fig.suptitle(r"$\\partial\\,\\mathrm{vec}_r(Y)/\\partial\\,\\mathrm{vec}_r(X)$, $Y = A X B$")\n'
        'ax.legend(["jacobian_chain", r"$w_{\\mathrm{lstsq}}$"])\n'
        'plt.show()',
    ]
    for name, cells in (("english", english), ("symbols", symbols)):
        (tmp_path / name / "chapters").mkdir(parents=True)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nbformat.write(nb, tmp_path / name / "chapters" / "00-planted.ipynb")
    found = english_in_figures(tmp_path / "english")
    for words in (["gradient", "descent"], ["Newton"], ["panel"], ["left"], ["right"], ["step"],
                  ["loss"], ["rounding", "level"], ["sample"], ["for", "AXB"], ["train"]):
        assert sum(f"has the words {words}" in p for p in found) == 1, (words, found)
    assert len(found) == 11, found
    assert english_in_figures(tmp_path / "symbols") == []


def test_english_planted_in_a_chapter_figure_is_caught(tmp_path):
    """One English title added to each chapter figure's code is reported, and nothing else."""
    (tmp_path / "chapters").mkdir()
    planted = 0
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if (cell.cell_type == "code" and "plt.show()" in cell.source
                    and (path.name, cell.get("id")) not in WORDS_EXEMPT):
                cell.source = cell.source.replace(
                    "plt.show()", 'plt.gca().set_title("planted")\nplt.show()', 1)
                planted += 1
        nbformat.write(nb, tmp_path / "chapters" / path.name)
    found = english_in_figures(tmp_path)
    assert planted >= 10 and len(found) == planted, found
    assert all("'planted' has the words ['planted']" in p for p in found), found
