"""The pseudo-language ``x-pseudo``: English made about 40 % longer and full of accents.

German and Finnish run long; a label that fits in English but is cut off in Finnish is found before a
translator ever sees it. Placeholders (``{amount}``, ``%(name)s``, ``%s``), markup (``<b>``), entities
(``&amp;``) and the ``&`` of a keyboard mnemonic are kept as they are, so the text still works.
"""

from __future__ import annotations

import math
import re

PSEUDO = "x-pseudo"

_ACCENTED = str.maketrans(
    "AaCcEeIiNnOoUuYysSzZ",
    "ÅåÇçÉéÎîÑñÖöÜüÝýšŠžŽ",
)
# The parts that must survive untouched, in the order they are tried.
_KEEP = re.compile(r"\{[^{}]*\}|%\([^)]*\)[sdif]|%[sdif%]|<[^<>]*>|&[a-z]+;|&&|&(?=\w)|\n")
_PADDING = "·ˇ"


def pseudo_translate(message: str) -> str:
    """``"Cancel {amount}"`` → ``"⟦Çåñçéļ {amount}·ˇ·ˇ·⟧"``: same placeholders, accented letters, 40 %
    longer (at least one padding character), bracketed so a clipped end shows."""
    if not message:
        return message
    pieces: list[str] = []
    last = 0
    for kept in _KEEP.finditer(message):
        pieces.append(message[last : kept.start()].translate(_ACCENTED))
        pieces.append(kept.group(0))
        last = kept.end()
    pieces.append(message[last:].translate(_ACCENTED))
    visible = len(_KEEP.sub("", message))
    extra = max(1, math.ceil(visible * 0.4) - 2)
    padding = (_PADDING * extra)[:extra]
    return "⟦" + "".join(pieces) + padding + "⟧"
