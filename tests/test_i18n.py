"""The interface speaks Dutch by default and English on request, and no string is left out."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
NL_PO = ROOT / "kip/translations/nl/LC_MESSAGES/messages.po"
NL_MO = NL_PO.with_suffix(".mo")
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _read(reader, path: Path):
    with path.open("rb") as fh:
        return reader(fh)


def _source_messages() -> set[str]:
    ids: set[str] = set()
    for folder in ("kip", "templates"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder, METHODS, keywords=KEYWORDS
        ):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_interface_string_has_a_dutch_translation():
    catalogue = _read(read_po, NL_PO)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = _source_messages() - translated
    assert not missing, f"translate these in {NL_PO} (./scripts/translations): {sorted(missing)}"


def test_compiled_catalogue_matches_the_translations():
    po = {m.id: m.string for m in _read(read_po, NL_PO) if m.id and m.string}
    mo = {m.id: m.string for m in _read(read_mo, NL_MO) if m.id}
    assert po == mo, "run ./scripts/translations to compile kip/translations"


def test_pages_are_dutch_by_default(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert "Werkzaamheden in de openbare ruimte" in html


def test_english_on_request_and_remembered(client):
    page = client.get("/?lang=en")
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Works in public space" in html
    assert "kip_lang=en" in page.headers.get("Set-Cookie", "")
    again = client.get("/")
    assert '<html lang="en">' in again.get_data(as_text=True)


def test_browser_language_is_honoured(client):
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    html = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="nl">' in html


def test_the_map_legend_speaks_the_page_language(client):
    english = client.get("/?lang=en").get_data(as_text=True)
    dutch = client.get("/?lang=nl").get_data(as_text=True)
    assert "Road and pavement" in english and "Weg en verharding" not in english
    assert "Weg en verharding" in dutch
