"""The 简体中文 edition's catalogs (locales/zh_CN/LC_MESSAGES): faithful to the English they translate.

Each translated message keeps what must not change between the editions: the mathematics (identical
formulas; only English words inside ``\\text{…}`` may be translated), inline code, the targets of
roles and links, HTML tags. Chinese text uses full-width punctuation, and no avoided spelling of a
glossary term (the glossary on the errata page is the list) appears unless the English already
quotes it (the seed's own words). No message that a notebook's Markdown output generates carries a
number measured at build time (it would change with the machine; ``{measured}`` keeps it out). That
every message is translated and the catalogs are current is checked by ``tools/i18n check`` in
``make test`` (test_catalogs_are_complete_and_current below).
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LC = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"
CATALOGS = sorted(LC.rglob("*.po"))
CJK = "\u3400-\u9fff"


def _load_i18n():
    loader = importlib.machinery.SourceFileLoader("i18n_tool", str(ROOT / "tools" / "i18n"))
    spec = importlib.util.spec_from_loader("i18n_tool", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _messages(path: Path):
    with path.open("rb") as f:
        return [m for m in read_po(f) if m.id and m.string]


# --- what a translation must keep -------------------------------------------------------------

_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
_CODE = re.compile(r"``.+?``|`[^`]+`")
_ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_TAG = re.compile(r"</?[a-z]+\s*/?>")
_TEXT = re.compile(r"\\(?:text|textrm|mbox|textit)\{[^{}]*\}")


def _math_skeleton(tex: str) -> str:
    """A formula with the contents of \\text{…} blanked and spacing removed: translation may change
    the words inside \\text{…}, nothing else."""
    return re.sub(r"\s+", "", _TEXT.sub(r"\\text{}", tex))


def _role_target(name: str, content: str) -> str:
    target = re.search(r"<([^<>]+)>\s*$", content)
    if name in ("index",):  # an index entry keeps its key; its visible text may be translated
        return target.group(1) if target else content
    return target.group(1) if target else content


def protected(text: str, *, block_math: bool = False) -> Counter:
    """The parts of a message that both editions share, as a multiset."""
    if block_math:
        return Counter({_math_skeleton(text): 1})
    found = Counter()
    for role in _ROLE.finditer(text):
        found[f"role {role.group(1)} -> {_role_target(role.group(1), role.group(2))}"] += 1
    text = _ROLE.sub(" ", text)
    for math in _MATH.findall(text):
        found[f"math {_math_skeleton(math)}"] += 1
    text = _MATH.sub(" ", text)
    for code in _CODE.findall(text):
        found[f"code {code}"] += 1
    text = _CODE.sub(" ", text)
    for url in _LINK.findall(text):
        found[f"link {url}"] += 1
    for tag in _TAG.findall(text):
        found[f"tag {tag}"] += 1
    return found


def prose(text: str) -> str:
    """The text of a message without roles, math, code and link targets."""
    for pattern in (_ROLE, _MATH, _CODE, _LINK, _TAG):
        text = pattern.sub(" ", text)
    return text


def _is_block_math(message_id: str) -> bool:
    # {math} blocks arrive as bare TeX; a paragraph has a `$`, or TeX only inside code spans.
    bare = _CODE.sub(" ", message_id)
    return "$" not in bare and bool(re.search(r"\\[a-zA-Z]+|[_^]\{", bare)) and not re.search(
        r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", _TEXT.sub("", bare)
    )


# Half-width punctuation touching Chinese text; full-width is expected there.
_BAD_PUNCTUATION = re.compile(
    rf"[{CJK}][,;:?!]|[,;:?!]\s*[{CJK}]|[{CJK}]\.(?=\s|$)|\([^()]*[{CJK}][^()]*\)"
)


# Two slips that only the rendered page shows. A reference to an exercise renders with its own word
# ("Exercise 0.2", "练习 0.2"), so a word before it doubles ("练习 练习 0.2"). Sphinx's smartquotes
# reads an ASCII quote that follows full-width punctuation as a closing one: （'forward'） renders
# （’forward’）. Full-width quotes written out (‘…’, “…”) are left alone.
_WORD_BEFORE_EXERCISE = re.compile(r"(?:\b[Ee]xercises?|练习)\s*\{ref\}`[\w-]*-ex-[\w-]*`")
_QUOTE_AFTER_FULL_WIDTH = re.compile(r"[\u3000-\u303f\uff00-\uffef]['\"]")


@functools.cache
def glossary() -> list[tuple[str, str, list[str]]]:
    """(English, 中文, avoided variants) from the glossary table of the errata page."""
    notebook = json.loads((ROOT / "chapters" / "appendix-errata.ipynb").read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.startswith("## Glossary"):
            rows = [line for line in source.splitlines() if line.startswith("|")][2:]
            terms = []
            for row in rows:
                cells = [c.strip() for c in row.strip("|").split("|")]
                variants = cells[2].split("；") if len(cells) > 2 else []
                avoided = [v.strip() for v in variants if v.strip()]
                terms.append((cells[0], cells[1], avoided))
            return terms
    raise AssertionError("no glossary cell (## Glossary …) on chapters/appendix-errata.ipynb")


def _english_terms() -> set[str]:
    """The glossary's English column: a zh page shows these in English, beside the Chinese."""
    return {english for english, _, _ in glossary()} | {"English", "中文"}


def _avoided_variants() -> list[str]:
    return [v for _, _, avoided in glossary() for v in avoided if v not in ("—", "-")]


def translation_problems(message_id: str, message_str: str, avoided: list[str]) -> list[str]:
    """Why a translation is not faithful (empty when it is)."""
    problems = []
    block = _is_block_math(message_id)
    english, chinese = protected(message_id, block_math=block), protected(message_str, block_math=block)
    if english != chinese:
        lost, added = english - chinese, chinese - english
        problems.append(f"math/code/roles/links differ: lost {dict(lost)}, added {dict(added)}")
    if not block:
        for edition, text in (("English", message_id), ("Chinese", message_str)):
            if doubled := _WORD_BEFORE_EXERCISE.findall(text):
                problems.append(f"{edition}: a word before a reference to an exercise doubles, since "
                                f"the reference renders as 'Exercise 0.2' / '练习 0.2': {doubled}")
        if quotes := _QUOTE_AFTER_FULL_WIDTH.findall(message_str):
            problems.append(f"an ASCII quote after full-width punctuation, which smartquotes turns the "
                            f"wrong way: {quotes} (write ‘…’ or “…”)")
        found = _BAD_PUNCTUATION.findall(prose(message_str))
        if len(found) > len(_BAD_PUNCTUATION.findall(prose(message_id))):
            problems.append(f"half-width punctuation in Chinese text: {found}")
        english_words = re.findall(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){3,}", prose(message_id))
        has_chinese = re.search(f"[{CJK}]", message_str)
        if english_words and not has_chinese and message_id not in _english_terms():
            problems.append("left in English")
    for variant in avoided:
        if message_str.count(variant) > message_id.count(variant):
            problems.append(f"uses the avoided variant {variant!r} (see the glossary)")
    return problems


@pytest.mark.parametrize("path", CATALOGS, ids=[str(p.relative_to(LC)) for p in CATALOGS])
def test_translations_keep_math_code_and_terms(path):
    avoided = _avoided_variants()
    bad = {}
    for message in _messages(path):
        problems = translation_problems(message.id, message.string, avoided)
        if problems:
            bad[message.id[:70]] = problems
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)


# --- the checks bite --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("english", "chinese", "why"),
    [
        ("The gradient $X^T(Xw - y)$ is shaped like $w$.", "梯度 $X(Xw - y)$ 的形状与 $w$ 相同。",
         "differ"),
        ("See {eq}`sv-ls-grad` for the rule.", "规则见式 {eq}`sv-ls-grad2`。", "differ"),
        ("Call `check_gradient` here.", "在这里调用 `check_gradients`。", "differ"),
        ("It is a row, not a column, of the Jacobian.", "它是一行,不是一列。", "punctuation"),
        ("It is the Jacobian of the chain.", "它是链的雅克比矩阵。", "avoided"),
        ("It is the Jacobian of the whole chain here.", "It is the Jacobian of the whole chain here.",
         "English"),
        ("(Exercise {ref}`lay-ex-quadratic` of chapter 00 found this.)",
         "（{ref}`lay-ex-quadratic` 曾推出这一结果。）", "English: a word before a reference"),
        ("({ref}`lay-ex-quadratic` found this.)",
         "（第 0 章的练习 {ref}`lay-ex-quadratic`。）", "Chinese: a word before a reference"),
        ("See exercises {ref}`sv-ex-ridge` and {ref}`sv-ex-logistic`.",
         "见 {ref}`sv-ex-ridge` 和 {ref}`sv-ex-logistic`。", "English: a word before a reference"),
        ("It gives both ('forward' starts at the input end).", "它给出两者（'forward' 从输入端开始）。",
         "smartquotes"),
    ],
)
def test_translation_check_refuses(english, chinese, why):
    problems = translation_problems(english, chinese, ["雅克比"])
    assert any(why in p for p in problems), problems


def test_translation_check_accepts_a_faithful_translation():
    english = (
        "The rule {eq}`sv-one-step` gives $\\partial z/\\partial x = (\\partial y/\\partial x)^T\\,"
        "\\partial z/\\partial y$; see {ref}`erratum E2 <e2>` and `gradient_chain`."
    )
    chinese = (
        "法则 {eq}`sv-one-step` 给出 $\\partial z/\\partial x = (\\partial y/\\partial x)^T\\,"
        "\\partial z/\\partial y$；见{ref}`勘误 E2 <e2>`和 `gradient_chain`。"
    )
    assert translation_problems(english, chinese, ["雅克比"]) == []
    quoted = "It gives both ('forward' starts at the input end; see {ref}`lay-ex-quadratic`)."
    quoted_zh = "它给出两者（‘forward’ 从输入端开始；见{ref}`lay-ex-quadratic`）。"
    assert translation_problems(quoted, quoted_zh, ["雅克比"]) == []
    seed = "The seed writes 雅克比矩阵 (line 21)."
    assert translation_problems(seed, "原文写作“雅克比矩阵”（第 21 行）。", ["雅克比"]) == []


def test_glossary_lists_the_terms_the_issue_names():
    terms = {zh for _, zh, _ in glossary()}
    for term in ("分子布局", "分母布局", "雅可比矩阵", "链式法则", "梯度", "迹", "克罗内克积"):
        assert any(term in zh for zh in terms), term
    assert "雅克比" in _avoided_variants()


# --- complete and current ---------------------------------------------------------------------


def test_every_page_has_a_catalog():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    pages = ["intro", *re.findall(r"file:\s*(\S+)", toc)]
    missing = [p for p in pages if not (LC / f"{p}.po").is_file()]
    assert not missing, f"pages without a zh catalog (run tools/i18n extract, then translate): {missing}"


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    """The gettext templates (.pot) of the current sources, built once for this module."""
    pot = tmp_path_factory.mktemp("pot")
    assert _load_i18n()._templates(pot) == 0, "the gettext build failed"
    return pot


def test_catalogs_are_complete_and_current(templates):
    """The catalogs hold a translation, not fuzzy, of every message the sources have now."""
    report = _load_i18n().check(templates, build=False)
    assert report == [], "\n".join(report)


# --- no measured number in a message ----------------------------------------------------------
#
# A number a notebook measures when it runs (an error, a time, a ratio of times, a count of cores)
# differs from one machine to the next. Inside a message, it makes the message differ too: the
# catalog has no translation for it and the zh page shows that text in English. Such a number is
# written {measured}`…` in the notebook's markdown output, and the message holds a placeholder
# {measured}`#1` (_ext/mathchain_i18n.py).
#
# Which messages: those generated by code, i.e. found in a text/markdown output of the page's
# notebook (the committed outputs, which the gettext build reads). Prose an author wrote holds
# numbers that do not change from build to build ("(2.1)", "1e-6", "80 MB", "Python 3.11"): it is
# not checked. Which numbers, outside math, code, roles (the placeholders among them) and link
# targets: one in scientific notation (5e-11, 0e+00), one with a decimal point (1.45, 0.50), and one
# followed by a unit of time, memory, share or ratio (468 ms, 2 cores, 201×, 57 times). Allowed:
# an integer with no unit ("at 3 sizes", "n = 1600", "a multiply-add ratio of 1067", "256 rows"),
# which generated text takes from the data or the code, not from the clock or the CPU; and digits
# that belong to a word or a reference ("X2", "#754", "§2.8.2", "version 3.11.7").

_PLACEHOLDER = re.compile(r"\{measured\}`#\d+`")
MEASURED_NUMBER = re.compile(
    r"(?<![\w.#§])(?:"
    r"\d+(?:\.\d+)?[eE][-+]?\d+"  # scientific notation
    r"|\d+\.\d+(?![.\d])"  # a decimal point (not a section number such as 2.8.2)
    r"|\d+\s*(?:ms|µs|us|ns|s|sec|min|h|[kKMGT]i?B|%|×|x|times|cores?)(?!\w)"  # a unit
    r")"
)


def measured_numbers(message_id: str) -> list[str]:
    """The measured numbers a generated message carries outside placeholders, math and code."""
    return MEASURED_NUMBER.findall(prose(message_id))


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\\|", "|")).strip()


def markdown_outputs(notebook: dict) -> list[str]:
    """The text/markdown outputs of a notebook's code cells, whitespace normalised."""
    return [_normalise("".join(out["data"]["text/markdown"]))
            for cell in notebook["cells"] if cell["cell_type"] == "code"
            for out in cell.get("outputs", []) if "text/markdown" in out.get("data", {})]


def is_generated(message_id: str, outputs: list[str]) -> bool:
    """The message is (part of) a markdown output: its text, each placeholder standing for any value."""
    parts = _PLACEHOLDER.split(_normalise(message_id))
    pattern = r"\{measured\}`[^`]*`".join(re.escape(part) for part in parts)
    return any(re.search(pattern, output) for output in outputs)


def _pages_with_outputs(pot_dir: Path, root: Path):
    """(page, markdown outputs of its notebook, its message ids) for each page with such outputs."""
    for pot in sorted(pot_dir.rglob("*.pot")):
        page = pot.relative_to(pot_dir).with_suffix("").as_posix()
        notebook = root / f"{page}.ipynb"
        if not notebook.is_file():
            continue
        outputs = markdown_outputs(json.loads(notebook.read_text(encoding="utf-8")))
        if outputs:
            with pot.open("rb") as f:
                yield page, outputs, [m.id for m in read_po(f) if m.id]


def measured_in_messages(pot_dir: Path, root: Path = ROOT) -> dict[str, list[str]]:
    """Generated messages that carry a measured number, by page. Two more lines keep the matcher
    honest: a measured number in a markdown output outside {measured} (reported even when no message
    was matched to that output), and a message with a placeholder not recognised as generated."""
    bad = {}
    for page, outputs, ids in _pages_with_outputs(pot_dir, root):
        generated = [i for i in ids if is_generated(i, outputs)]
        for message_id in generated:
            if numbers := measured_numbers(message_id):
                bad.setdefault(page, []).append(f"{numbers}: {message_id[-100:]}")
        for k, output in enumerate(outputs, 1):
            if numbers := measured_numbers(output):
                bad.setdefault(page, []).append(f"markdown output {k}: {numbers[:5]}")
        for message_id in ids:
            if _PLACEHOLDER.search(message_id) and message_id not in generated:
                bad.setdefault(page, []).append(f"placeholder outside any output: {message_id[:80]}")
    return bad


def test_no_measured_number_in_a_message(templates):
    """A number measured at build time reaches the translators as a placeholder, never as itself."""
    bad = measured_in_messages(templates)
    assert not bad, "write these numbers as {measured}`…` in the notebook's output:\n" + json.dumps(
        bad, ensure_ascii=False, indent=1)


@pytest.mark.parametrize(
    ("message", "numbers"),
    [
        ("$a$<br><small>checked: error 5e-11 at 3 sizes</small>", ["5e-11"]),
        ("$Ax$, refused (error 1.45)</small>", ["1.45"]),
        ("checked: error 0e+00 at 2 sizes", ["0e+00"]),
        ("forward accumulation took **468 ms**: reverse was **201× faster**", ["468 ms", "201×"]),
        ("Measured at build time (2 cores); Xᵀ(Xv) took 0.201 ms, 57 times less, 12% more",
         ["2 cores", "0.201", "57 times", "12%"]),
        ("checked: error {measured}`#1` at 3 sizes<br>refused (error {measured}`#2`)", []),
        ("At *n* = 1600, a multiply-add ratio of 1067; slopes 3 and 2; 256 rows each", []),
        ("$10^{-15}$ and `eps = 1e-6`, {ref}`identity-e2-0.5 <x>`, [#754](https://x.org/754)", []),
        ("The Matrix Cookbook (§2.8.2) and Python 3.11.7, but 2.85 ms", ["2.85"]),
    ],
)
def test_measured_numbers_are_found(message, numbers):
    assert measured_numbers(message) == numbers


def test_measured_number_check_bites(tmp_path):
    """On a page like main's identities page before the fix: its measured errors are reported; the
    same page with placeholders passes; prose numbers never count; a blind matcher is noticed."""
    row = "$a$<br><small>checked: error {} at 3 sizes<br>wrong: $Ax$, refused (error {})</small>"
    pot_dir, root = tmp_path / "pot", tmp_path / "book"
    (pot_dir / "chapters").mkdir(parents=True)
    (root / "chapters").mkdir(parents=True)
    notebook_path = root / "chapters" / "bite.ipynb"

    def check(output_row: str, message_rows: list[str]):
        notebook = {"cells": [
            {"cell_type": "markdown", "source": "Central differences with $h$ = 1e-6 agree to 1.5e-8."},
            {"cell_type": "code", "source": "display(table())", "outputs": [{
                "output_type": "display_data",
                "data": {"text/markdown": ["| identity | check |\n", "| --- | --- |\n",
                                           f"| linear | {output_row} |"]}}]}]}
        notebook_path.write_text(json.dumps(notebook), encoding="utf-8")
        messages = ["Central differences with $h$ = 1e-6 agree to 1.5e-8.", "identity", "check",
                    "linear", *message_rows]
        entries = "".join(f"msgid {json.dumps(m, ensure_ascii=False)}\nmsgstr \"\"\n\n"
                          for m in messages)
        (pot_dir / "chapters" / "bite.pot").write_text(entries, encoding="utf-8")
        return measured_in_messages(pot_dir, root).get("chapters/bite", [])

    numbers = row.format("5e-11", "1.45")
    assert check(numbers, [numbers]) == [f"['5e-11', '1.45']: {numbers}",
                                         "markdown output 1: ['5e-11', '1.45']"]
    marked = row.format("{measured}`5e-11`", "{measured}`1.45`")
    placeholders = row.format("{measured}`#1`", "{measured}`#2`")
    assert check(marked, [placeholders]) == []
    # a message the matcher cannot place in an output: its number is still reported, from the
    # output, and a placeholder message it cannot place is reported
    assert check(numbers, [numbers.replace("$a$", "$b$")]) == [
        "markdown output 1: ['5e-11', '1.45']"]
    assert check(marked, [placeholders.replace("$a$", "$b$")]) == [
        f"placeholder outside any output: {placeholders.replace('$a$', '$b$')[:80]}"]


def test_check_bites_on_a_missing_page_untranslated_and_fuzzy_messages(tmp_path):
    i18n = _load_i18n()
    pot = tmp_path / "pot"
    (pot / "chapters").mkdir(parents=True)
    lc = tmp_path / "locales" / "zh_CN" / "LC_MESSAGES"
    (lc / "chapters").mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    entries = 'msgid "One"\nmsgstr ""\n\nmsgid "Two"\nmsgstr ""\n\nmsgid "Three"\nmsgstr ""\n'
    (pot / "intro.pot").write_text(header + entries, encoding="utf-8")
    (pot / "chapters" / "new.pot").write_text(header + entries, encoding="utf-8")
    (lc / "intro.po").write_text(
        header + 'msgid "One"\nmsgstr "一"\n\n#, fuzzy\nmsgid "Two"\nmsgstr "二"\n\n'
        'msgid "Three"\nmsgstr ""\n',
        encoding="utf-8",
    )
    report = i18n.check(pot, locales=tmp_path / "locales", build=False)
    assert any(line.startswith("chapters/new: no catalog") for line in report), report
    assert any(line.startswith("intro: 1 fuzzy") for line in report), report
    assert any(line.startswith("intro: 1 untranslated") for line in report), report
    (lc / "intro.po").write_text(header + 'msgid "One"\nmsgstr "一"\n', encoding="utf-8")
    report = i18n.check(pot, locales=tmp_path / "locales", build=False)
    assert any(line.startswith("intro: 2 missing") for line in report), report
