"""Scientific names as moth lists write them, parsed with gbif-name-parser (imported as
`nameparser`) plus the cases it does not cover:

- hybrid formulas ("Hypoprepia fucosa x miniata"): the parser refuses them, so they get their
  own branch;
- informal taxon concepts that are their own Antenna taxa: "Ancylis subaequana complex",
  "Idia concisa of authors", "Oligia (prov. plcmt.) egens" (the parser reads "egens" as an
  author there);
- identification qualifiers ("cf.", "aff.", "nr."): the taxon is the plain name and the
  qualifier belongs to the identification;
- "X sp." / "X spp.": the higher taxon X (the parser calls every such X a genus, even Noctuidae);
- "X sp. 1", "X 0", "X sp. MV3": a designation after X (a morphospecies, a classifier's numbered
  label) makes an informal taxon of its own, named in full and only placed by X;
- labels that are not names ("Unknown", "Not a moth").

`ParsedName.taxon_name` is the name of the taxon meant (what Antenna's `Taxon.name` holds,
without authorship); `match_name` is what a matcher is asked.
"""

from __future__ import annotations

import enum
import functools
import re
import threading
import unicodedata
from dataclasses import dataclass

from .errors import NameParserUnavailable
from .ranks import UNKNOWN, normalize_rank

PARSER_REQUIREMENT = "gbif-name-parser>=0.4,<0.5"


class NameKind(str, enum.Enum):
    SCIENTIFIC = "scientific"  # a regular name, with or without authorship
    QUALIFIED = "qualified"  # "Catocala cf. ultronia": an uncertain identification of a named taxon
    HIGHER = "higher"  # "Acronicta sp.": stands for the higher taxon
    CONCEPT = "concept"  # "X complex", "X of authors", "G (prov. plcmt.) e", "X sp. 1": a taxon concept of its own
    HYBRID = "hybrid"  # a hybrid formula
    UNPARSED = "unparsed"  # not a scientific name


@dataclass(frozen=True)
class ParsedName:
    verbatim: str
    taxon_name: str
    match_name: str  # "" when a matcher should not be asked
    match_rank: str  # rank hint for the matcher, "UNKNOWN" when the name does not say
    kind: NameKind
    authorship: str = ""
    rank: str = UNKNOWN  # rank of taxon_name as far as the name itself tells
    qualifier: str = ""  # cf./aff./nr.
    marker: str = ""  # complex, of authors, prov. plcmt., sp., spp., sp. 1
    genus: str = ""
    epithet: str = ""
    infraspecific_epithet: str = ""
    hybrid_parents: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Lookup key of the taxon name (case, accents and spacing folded)."""
        return name_key(self.taxon_name)

    @property
    def match_is_placement_only(self) -> bool:
        """A matcher answer can place this taxon (its genus) but never be the taxon itself."""
        return self.kind in (NameKind.CONCEPT, NameKind.HYBRID)


# --- normalisation -------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=500_000)
def normalize_spaces(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


@functools.lru_cache(maxsize=500_000)
def fold(text: str) -> str:
    """Lower case without accents: 'Guenée' -> 'guenee'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@functools.lru_cache(maxsize=500_000)
def name_key(text: str) -> str:
    return normalize_spaces(fold(text)).replace("×", "x")


# --- the parser and its import-name clash --------------------------------------------------


@functools.lru_cache(maxsize=1)
def parser_module():
    """The gbif-name-parser module. The PyPI package `nameparser` (human names) installs a module
    of the same name; when that one wins the import, fail with a message that says what to do."""
    try:
        import nameparser
    except ImportError as error:
        raise NameParserUnavailable(f"gbif-name-parser is not installed: pip install '{PARSER_REQUIREMENT}'") from error
    if not all(
        hasattr(nameparser, attribute) for attribute in ("parse", "parse_all", "UnparsableNameError", "Informal")
    ):
        what = (
            " (that is the human-name parser from the PyPI package 'nameparser')"
            if hasattr(nameparser, "HumanName")
            else ""
        )
        raise NameParserUnavailable(
            f"The module 'nameparser' imported from {getattr(nameparser, '__file__', '?')} is not "
            f"gbif-name-parser{what}. "
            "Both packages install a module named 'nameparser'. Remove the other one and reinstall: "
            f"pip uninstall -y nameparser && pip install --force-reinstall '{PARSER_REQUIREMENT}'"
        )
    return nameparser


# --- parsing -------------------------------------------------------------------------------

_HYBRID_SEPARATOR = re.compile(r"\s+[x×]\s+|\s*×\s+(?=[A-Za-z])")
_PROVISIONAL = re.compile(r"\s*\((prov\.?\s*plcmt\.?[^)]*)\)\s*", re.IGNORECASE)
_CONCEPT_SUFFIX = re.compile(
    r"\s+(complex|group|agg\.?|aggregate|of authors|sensu auct(?:orum)?\.?|auct\.?)$", re.IGNORECASE
)
_BARE_RANK_MARKER = re.compile(r"^(?:spp|spec|sp)\.?(?![a-z])\s*", re.IGNORECASE)  # "X sp.": X itself, no designation
_HIGHER_RANK_SUFFIXES = (("oidea", "SUPERFAMILY"), ("idae", "FAMILY"), ("inae", "SUBFAMILY"), ("ini", "TRIBE"))


def uninomial_rank(name: str) -> str:
    """Zoological suffixes that fix a rank (-idae is a family). Genus names end in anything, so
    no suffix means 'unknown', not 'genus'."""
    word = name.strip().lower()
    for suffix, rank in _HIGHER_RANK_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return rank
    return UNKNOWN


@functools.lru_cache(maxsize=200_000)
def parse_name(verbatim: str) -> ParsedName:
    """Parse one name. Never raises for a bad name (it becomes UNPARSED); raises
    NameParserUnavailable when the parser itself is missing or the wrong package."""
    return _parse(normalize_spaces(verbatim))


_BATCH = threading.local()  # results of the last parse_all, handed over to _parse (per thread)


def parse_names(names) -> list[ParsedName]:
    """Parse many names; the plain ones go through the parser's batch call, about twice as fast
    as one call per name."""
    texts = [normalize_spaces(n) for n in names]
    plain = [
        t
        for t in dict.fromkeys(texts)
        if t
        and not _is_hybrid_formula(t)
        and not _PROVISIONAL.search(t)
        and not _CONCEPT_SUFFIX.search(t)
        and t not in _PARSED
    ]
    _BATCH.parsed = dict(zip(plain, parser_module().parse_all(plain))) if plain else {}
    try:
        return [_parse(t) for t in texts]
    finally:
        _BATCH.parsed = {}  # only a hand-over to _parse's cache, not a second cache


_PARSED: dict[str, ParsedName] = {}  # normalised text -> parse (a dict, so batches can skip what is known)
_PARSED_MAX = 200_000


def _parse(text: str) -> ParsedName:
    found = _PARSED.get(text)
    if found is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        found = _PARSED[text] = _parse_uncached(text)
    return found


def clear_caches() -> None:
    """Forget every parse (benchmarks time the parsing this way)."""
    _PARSED.clear()
    parse_name.cache_clear()


def _parse_uncached(text: str) -> ParsedName:
    if not text:
        return ParsedName(
            verbatim=text,
            taxon_name="",
            match_name="",
            match_rank=UNKNOWN,
            kind=NameKind.UNPARSED,
            warnings=("empty name",),
        )
    if _is_hybrid_formula(text):
        return _parse_hybrid(text)

    provisional = _PROVISIONAL.search(text)
    if provisional:
        marker = normalize_spaces(provisional.group(1))
        bare = normalize_spaces(_PROVISIONAL.sub(" ", text))
        return _concept(text, bare, marker, label=lambda p: f"{p.genus} ({marker}) {p.epithet}".strip())

    concept = _CONCEPT_SUFFIX.search(text)
    if concept and " " in text[: concept.start()].strip():
        marker = concept.group(1).lower()
        bare = text[: concept.start()].strip()
        return _concept(text, bare, marker, label=lambda p: f"{p.taxon_name} {marker}")

    return _parse_plain(text)


def _is_hybrid_formula(text: str) -> bool:
    parts = _HYBRID_SEPARATOR.split(text)
    return len(parts) >= 2 and all(part.strip() for part in parts) and text[:1] not in "×"


def _parse_plain(text: str) -> ParsedName:
    parser = parser_module()
    parsed = getattr(_BATCH, "parsed", {}).get(text)
    if parsed is None:  # not batch-parsed, or the batch found it unparsable: ask again for the reason
        try:
            parsed = parser.parse(text)
        except parser.UnparsableNameError as error:
            return _unparsed(text, f"not a scientific name ({error.name_type})")

    if isinstance(parsed, parser.Informal):  # "X sp.", "X spp.", "X sp. 1", "X 1"
        taxon = normalize_spaces(parsed.taxon or "")
        marker = normalize_spaces(parsed.phrase or "")
        rank = uninomial_rank(taxon)
        if rank == UNKNOWN:
            rank = "GENUS"
        genus = taxon if rank == "GENUS" else ""
        if _BARE_RANK_MARKER.sub("", marker):
            # A designation ("sp. 1", "0", "sp. MV3") names a taxon of its own: "X sp. 1" and "X sp. 2"
            # (or "Taxon 0" and "Taxon 1") are different taxa, and neither is X. Its name is the
            # whole name, so every lookup keyed by taxon_name keeps them apart; X only places it.
            return ParsedName(
                verbatim=text,
                taxon_name=text,
                match_name=taxon,
                match_rank=rank,
                kind=NameKind.CONCEPT,
                rank=normalize_rank(parsed.rank),
                marker=marker,
                genus=genus,
            )
        return ParsedName(
            verbatim=text,
            taxon_name=taxon,
            match_name=taxon,
            match_rank=rank,
            kind=NameKind.HIGHER,
            rank=rank,
            marker=marker,
            genus=genus,
        )

    authorship = normalize_spaces(parsed.authorship_complete() or "")
    if authorship and not re.search(r"[A-Z\d]", authorship):
        # "Not a moth" parses as genus "Not" by "a moth": real authorships carry a capital or a year.
        return _unparsed(text, "lower-case words after the name are not an authorship")
    minimal = normalize_spaces(parsed.canonical_name_minimal() or "")
    if not minimal:
        return _unparsed(text, "no canonical name")
    rank = normalize_rank(parsed.rank)
    genus = parsed.genus or ""
    if rank == UNKNOWN and parsed.uninomial:
        rank = uninomial_rank(parsed.uninomial)
    qualifiers = parsed.epithet_qualifier or {}
    qualifier = " ".join(sorted(set(qualifiers.values()))) if qualifiers else ""
    warnings = tuple(parsed.warnings or ())
    if parsed.state and parsed.state != "COMPLETE":
        warnings += (f"parsed partially: {parsed.unparsed or ''}".strip(),)
    return ParsedName(
        verbatim=text,
        taxon_name=minimal,
        match_name=minimal,
        match_rank=rank,
        kind=NameKind.QUALIFIED if qualifier else NameKind.SCIENTIFIC,
        authorship=authorship,
        rank=rank,
        qualifier=qualifier,
        genus=genus or (parsed.uninomial or "" if rank == "GENUS" else ""),
        epithet=parsed.specific_epithet or "",
        infraspecific_epithet=parsed.infraspecific_epithet or "",
        warnings=warnings,
    )


def _concept(text: str, bare: str, marker: str, label) -> ParsedName:
    """A taxon concept of its own: named after a species, matched (for placement) on its genus."""
    inner = _parse_plain(bare)
    if inner.kind == NameKind.UNPARSED or not inner.genus:
        return _unparsed(text, f"'{marker}' name without a genus")
    return ParsedName(
        verbatim=text,
        taxon_name=normalize_spaces(label(inner)),
        match_name=inner.genus,
        match_rank="GENUS",
        kind=NameKind.CONCEPT,
        authorship=inner.authorship,
        rank="SPECIES_AGGREGATE" if marker in ("complex", "group", "agg.", "agg", "aggregate") else inner.rank,
        marker=marker,
        genus=inner.genus,
        epithet=inner.epithet,
        infraspecific_epithet=inner.infraspecific_epithet,
        warnings=inner.warnings,
    )


def _parse_hybrid(text: str) -> ParsedName:
    parents: list[str] = []
    genus = ""
    for part in _HYBRID_SEPARATOR.split(text):
        part = part.strip()
        if part[:1].islower() and genus:  # "Hypoprepia fucosa x miniata": the genus is implied
            part = f"{genus} {part}"
        parent = _parse_plain(part)
        if parent.kind == NameKind.UNPARSED:
            return _unparsed(text, "hybrid formula with an unparsable parent")
        genus = genus or parent.genus
        parents.append(parent.taxon_name)
    genera = {parent.split(" ")[0] for parent in parents}
    shared_genus = genera.pop() if len(genera) == 1 else ""
    return ParsedName(
        verbatim=text,
        taxon_name=" × ".join(parents),
        match_name=shared_genus,
        match_rank="GENUS" if shared_genus else UNKNOWN,
        kind=NameKind.HYBRID,
        rank="SPECIES",
        genus=shared_genus,
        hybrid_parents=tuple(parents),
        warnings=("hybrid formula",),
    )


def _unparsed(text: str, why: str) -> ParsedName:
    return ParsedName(
        verbatim=text, taxon_name=text, match_name="", match_rank=UNKNOWN, kind=NameKind.UNPARSED, warnings=(why,)
    )


# --- authorship ----------------------------------------------------------------------------

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_AUTHOR_SPLIT = re.compile(r",|&|\bet\b|\band\b|\bex\b")


def _authors(authorship: str) -> list[str]:
    """Surnames (or abbreviations), folded: '(W. Kirby, 1837)' -> ['kirby']; 'D.& S.' -> ['d', 's']."""
    text = _YEAR.sub(" ", authorship or "").replace("(", " ").replace(")", " ").replace("[", " ").replace("]", " ")
    authors = []
    for chunk in _AUTHOR_SPLIT.split(text):
        words = [w for w in re.split(r"[\s.]+", chunk) if w]
        if not words:
            continue
        surname = words[-1] if len(words) > 1 and len(words[-1]) > 1 else "".join(words)
        surname = re.sub(r"[^a-z]", "", fold(surname))
        if surname:
            authors.append(surname)
    return authors


def _abbreviates(short: str, full: str) -> bool:
    """'hb' abbreviates 'hubner', 'wcke' 'wocke', 'l' 'linnaeus': same first letter, letters in order."""
    if not short or not full or short[0] != full[0]:
        return False
    position = 0
    for letter in full:
        if position < len(short) and letter == short[position]:
            position += 1
    return position == len(short)


def authorship_agrees(first: str, second: str) -> bool | None:
    """True when two authorships can be the same (abbreviations allowed), False when they
    conflict, None when either is missing."""
    authors_a, authors_b = _authors(first), _authors(second)
    if not authors_a or not authors_b:
        return None
    years_a, years_b = _YEAR.findall(first or ""), _YEAR.findall(second or "")
    if years_a and years_b and abs(int(years_a[-1]) - int(years_b[-1])) > 1:
        return False
    shorter, longer = sorted((authors_a, authors_b), key=len)
    return all(any(_abbreviates(a, b) or _abbreviates(b, a) for b in longer) for a in shorter)
