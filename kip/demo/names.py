"""Names for the demo town: its districts and streets (fictional, Dutch-sounding).

Each district has a theme, as Dutch post-war districts do (trees, birds, rivers...), and its
streets are a theme word plus a suffix: *Berkenlaan*, *Lijsterhof*, *Maasstraat*.
"""

from __future__ import annotations

CENTRE_DISTRICT = "Centrum"

# Per arterial: the old street in the centre, the road inside the ring, the road out of town.
ARTERIALS = (
    ("Molenstraat", "Stationslaan", "Heikampseweg"),
    ("Kerkstraat", "Kazernelaan", "Wolfsveenseweg"),
    ("Torenstraat", "Parkweg", "Langebroekseweg"),
    ("Grotestraat", "Dorpsweg", "Vennehorsterweg"),
    ("Poortstraat", "Nieuwe Weg", "Zandbergseweg"),
    ("Brinkstraat", "Bosrandweg", "Ginkelbergweg"),
)
SINGEL = ("Molensingel", "Kerksingel", "Torensingel", "Walsingel", "Poortsingel", "Brinksingel")
RING = (
    "Burgemeester Vonkweg",
    "Heidering",
    "Verlengde Parkweg",
    "Veenderlaan",
    "Wethouder Hulstweg",
    "Zandring",
)
CENTRE_LANES = ("Achterstraat", "Kosterssteeg", "Schoolstraat")

_TREES = "Berken Eiken Beuken Linden Esdoorn Kastanje Populieren Wilgen Elzen Essen Iepen "
_TREES += "Platanen Lariks Dennen Sparren Hazelaar Meidoorn Vlier Taxus Hulst"
_BIRDS = "Merel Lijster Vinken Mezen Specht Zwaluw Reiger Kievit Grutto Wielewaal Roodborst "
_BIRDS += "Winterkoning Boomklever Buizerd Havik Valken Uilen Ekster Spreeuwen Kwikstaart"
_FLOWERS = "Rozen Tulpen Narcissen Anjer Lelie Iris Krokus Dahlia Hyacinten Violieren "
_FLOWERS += "Margriet Klaproos Korenbloem Zonnebloem Lavendel Akelei Klaver Boterbloem"
_HERBS = "Salie Tijm Rozemarijn Munt Dille Kervel Peterselie Bieslook Lavas Venkel "
_HERBS += "Basilicum Dragon Kamille Marjolein Komijn Anijs Koriander Mosterd"
_CRAFTS = "Smids Bakkers Kuipers Wevers Molenaars Timmermans Slagers Schilders "
_CRAFTS += "Pottenbakkers Touwslagers Leerlooiers Hoefsmids Klompenmakers Rietdekkers "
_CRAFTS += "Mandenmakers Zadelmakers Brouwers Steenhouwers Glazeniers Kaarsenmakers"
_FRUIT = "Appel Peren Kersen Pruimen Bramen Frambozen Aardbeien Bessen Kruisbessen "
_FRUIT += "Druiven Walnoten Hazelnoten Mispel Kweepeer Vijgen Abrikozen Perziken Moerbei"
_RIVERS = "Rijn Maas IJssel Waal Lek Vecht Dinkel Berkel Linge Eem Amstel Dommel Roer "
_RIVERS += "Regge Schipbeek Niers Grift Geul Mark Aa Hunze Reest Gouwe Zaan Swalm"
_STARS = "Sterren Mercurius Venus Mars Jupiter Saturnus Orion Pegasus Andromeda "
_STARS += "Cassiopeia Perseus Lier Poolster Sirius Vega Komeet Melkweg Noorderlicht Planeten"
_HEATH = "Heide Bunder Akker Veld Kamp Enk Hoeve Brink Gaarde Zand Ven Beek Weide Vallei "
_HEATH += "Esch Horst Maten Driesch Vonder Stuifzand Heuvel Dal Broek Hooiland Kolk Gagel"
_INDUSTRY = "Industrie Nijverheids Ambachts Handels Transport Energie Techniek Logistiek "
_INDUSTRY += "Innovatie Expeditie Fabrieks Werkplaats Magazijn Veiling Zuivel Machine"
_GEMS = "Robijn Saffier Smaragd Diamant Opaal Parel Topaas Granaat Jade Onyx Agaat Amethist "
_GEMS += "Jaspis Turkoois Kristal Barnsteen Koraal Zirkoon Beril Toermalijn"
_ANIMALS = "Das Vos Hert Reeën Eekhoorn Egel Haas Konijnen Bever Otter Wezel Bunzing Marter "
_ANIMALS += "Hermelijn Vleermuis Mol Zwijnen Edelhert Lynx Steenuil"

# (district name, theme words, business park?) — inner then outer district of each sector.
DISTRICTS = (
    ("Bomenwijk", _TREES.split(), False),
    ("Rivierenwijk", _RIVERS.split(), False),
    ("Vogelwijk", _BIRDS.split(), False),
    ("Sterrenwijk", _STARS.split(), False),
    ("Bloemenbuurt", _FLOWERS.split(), False),
    ("Heidebuurt", _HEATH.split(), False),
    ("Kruidenwijk", _HERBS.split(), False),
    ("Bedrijvenpark De Vallei", _INDUSTRY.split(), True),
    ("Ambachtenbuurt", _CRAFTS.split(), False),
    ("Edelstenenbuurt", _GEMS.split(), False),
    ("Fruithof", _FRUIT.split(), False),
    ("Dierenbos", _ANIMALS.split(), False),
)


class NameAllocator:
    """Hands out unused street names for one district: fresh theme words first."""

    def __init__(self, words: list[str], business: bool) -> None:
        self.words = list(dict.fromkeys(words))
        self.long_suffixes = ("weg", "straat") if business else ("laan", "straat", "weg")
        self.cross_suffixes = ("straat", "hof") if business else ("straat", "hof", "pad", "dreef")
        self.used: set[str] = set()
        self.used_words: list[str] = []

    def _take(self, suffixes: tuple[str, ...]) -> str:
        fresh = [w for w in self.words if w not in self.used_words]
        for word in [*fresh, *self.used_words]:
            for suffix in suffixes:
                name = f"{word}{suffix}"
                if name not in self.used:
                    self.used.add(name)
                    if word not in self.used_words:
                        self.used_words.append(word)
                    return name
        raise RuntimeError("the district ran out of street names")

    def long(self) -> str:
        """A name for a long street (laan, straat, weg)."""
        return self._take(self.long_suffixes)

    def cross(self) -> str:
        """A name for a cross street (straat, hof, pad, dreef)."""
        return self._take(self.cross_suffixes)
