"""Spelling variants of Latin epithets.

`epithet_stem` maps the usual variants of one epithet onto one key: Latin gender endings
(-us/-a/-um, -er/-ra/-rum, -is/-e, -ius/-ia/-ium), patronymic -i/-ii, hyphens ("u-album",
"ualbum") and doubled letters ("bellela", "bellella"). `edit_distance` catches the rest.
"""

from __future__ import annotations

import re

from ..names import fold

# Longest first, so "-rum" wins over "-um" and "-ius" over "-us".
_ENDINGS = ("rum", "ius", "ium", "ra", "ia", "er", "us", "um", "is", "ii", "a", "e", "i")
_DOUBLED = re.compile(r"(.)\1+")


def epithet_stem(epithet: str) -> str:
    word = re.sub(r"[^a-z]", "", fold(epithet))
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            break
    return _DOUBLED.sub(r"\1", word)


def epithets_stem(epithets: list[str]) -> str:
    """Stems of all epithets of a name ('ochrogaster rossica' -> 'ochrogast ros')."""
    return " ".join(epithet_stem(e) for e in epithets if e)


def edit_distance(first: str, second: str, limit: int) -> int:
    """Optimal string alignment distance (insertions, deletions, substitutions, adjacent
    transpositions), or limit + 1 as soon as it is known to exceed `limit`. Only the diagonal
    band |i - j| <= limit is computed: any alignment leaving it costs more than the limit."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    if first == second:
        return 0
    over = limit + 1
    width = len(second)
    before_previous: list[int] = []
    previous = [j if j <= limit else over for j in range(width + 1)]
    for i in range(1, len(first) + 1):
        current = [over] * (width + 1)
        current[0] = i if i <= limit else over
        best = current[0]
        letter = first[i - 1]
        for j in range(max(1, i - limit), min(width, i + limit) + 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != second[j - 1]))
            if i > 1 and j > 1 and letter == second[j - 2] and first[i - 2] == second[j - 1]:
                value = min(value, before_previous[j - 2] + 1)
            current[j] = value if value < over else over
            if value < best:
                best = value
        if best > limit:
            return over
        before_previous, previous = previous, current
    return previous[width] if previous[width] <= limit else over


def allowed_distance(word: str) -> int:
    """How many edits a word of this length may carry and still be the same name."""
    length = len(word)
    if length < 5:
        return 0
    return 1 if length < 9 else 2
