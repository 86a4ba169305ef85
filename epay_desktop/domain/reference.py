"""Payment references: 8 to 64 characters of ``[a-zA-Z0-9-]`` (FACTS.md §3; the v1.4.1 spec says 50)."""

from __future__ import annotations

import re

REFERENCE_PATTERN = re.compile(r"^[a-zA-Z0-9-]{8,64}$")


def is_valid_reference(text: str) -> bool:
    return REFERENCE_PATTERN.fullmatch(text) is not None
