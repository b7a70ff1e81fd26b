"""The book's chapter numbers come from the file names (``_ext/mathchain_book.py``).

``chapters/04-backprop`` is chapter 4: its equations are (4.1), (4.2), … and its exercises
Exercise 4.1, …; appendices are lettered in reading order; other pages are unnumbered. The rendered
pages show these numbers (sidebar, page title, equation and exercise labels).
"""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("mathchain_book", ROOT / "_ext" / "mathchain_book.py")
mathchain_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mathchain_book)


def test_chapters_take_the_number_of_their_file_and_appendices_a_letter():
    order = ["chapters/00-layouts", "chapters/04-backprop", "chapters/10-more",
             "chapters/appendix-identities", "chapters/appendix-errata", "chapters/appendix-performance",
             "references"]
    assert mathchain_book.chapter_numbers(order) == {
        "chapters/00-layouts": 0, "chapters/04-backprop": 4, "chapters/10-more": 10,
        "chapters/appendix-identities": "A", "chapters/appendix-errata": "B",
        "chapters/appendix-performance": "C"}


def test_pages_without_a_number_or_appendix_prefix_stay_unnumbered():
    assert mathchain_book.chapter_numbers(["intro", "references", "chapters/notes"]) == {}


def test_every_chapter_of_the_toc_gets_a_distinct_number_in_reading_order():
    import yaml
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    numbers = mathchain_book.chapter_numbers(docs)
    digits = [n for n in numbers.values() if isinstance(n, int)]
    assert digits == sorted(set(digits)) and digits[0] == 0, digits
    assert all(doc in numbers for doc in docs if doc.startswith("chapters/")), numbers
