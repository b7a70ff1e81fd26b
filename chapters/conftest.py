"""nbval over the chapters: the kernels run with ``MATHCHAIN_BOOK=1``, as in the book's build, so
the outputs they compute are the committed ones, the book's (``_book.py`` writes MyST roles)."""

import os

os.environ["MATHCHAIN_BOOK"] = "1"
