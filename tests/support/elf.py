"""Which shared libraries an ELF file links (its DT_NEEDED entries), read with pyelftools."""

from __future__ import annotations

from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile


def needed(path: Path) -> set[str]:
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        return {
            tag.needed
            for section in elf.iter_sections()
            if isinstance(section, DynamicSection)
            for tag in section.iter_tags()
            if tag.entry.d_tag == "DT_NEEDED"
        }
