"""Every figure a chapter shows keeps its labels: nothing is cut at the edge of the image.

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

import base64
import io
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from PIL import Image

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
