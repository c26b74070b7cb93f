"""Fonts for the glyph-based negatives: which are installed, and glyphs rendered from them.

The fonts come from Debian packages that the project's setup installs (``fonts-dejavu-core``,
``fonts-lohit-*``, ``fonts-dancingscript``, ``fonts-comic-neue``). A missing font never fails:
its glyphs are left out with one logged warning, and :func:`fonts_available` says what is there.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

# Extra folders to search, ``os.pathsep``-separated, before the system ones.
FONT_DIRS_ENV = "HDR_FONT_DIRS"
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts")

# Latin letters and symbols: plain, serif, monospace and handwriting-like faces.
LATIN_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSansMono.ttf",
    "DancingScript-Regular.otf",
    "DancingScript-Bold.otf",
    "ComicNeue-Regular.otf",
    "ComicNeue-Italic.otf",
    "ComicNeue-Bold.otf",
)
HANDWRITING_FONTS = (
    "DancingScript-Regular.otf",
    "DancingScript-Bold.otf",
    "ComicNeue-Regular.otf",
    "ComicNeue-Italic.otf",
)
SYMBOL_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf")
# The Debian packages that hold every font above, space-separated. The list lives in one file
# that .ci/run and the Dockerfile read too.
FONT_PACKAGES_FILE = Path(__file__).with_name("font-packages.txt")
FONT_PACKAGES = " ".join(
    line.strip()
    for line in FONT_PACKAGES_FILE.read_text().splitlines()
    if line.strip() and not line.lstrip().startswith("#")
)


@dataclass(frozen=True)
class Script:
    """The ten numerals of a writing system (U+``zero`` .. U+``zero``+9) and a font for them."""

    name: str
    zero: int
    font: str


# Zeros are left out of every script (a circle or a dot: a Latin 0 or a speck, covered by other
# kinds), and so is the Arabic-Indic one, a vertical bar that is a Latin 1.
NUMERAL_SCRIPTS = (
    Script("devanagari", 0x0966, "Lohit-Devanagari.ttf"),
    Script("bengali", 0x09E6, "Lohit-Bengali.ttf"),
    Script("gurmukhi", 0x0A66, "Lohit-Gurmukhi.ttf"),
    Script("gujarati", 0x0AE6, "Lohit-Gujarati.ttf"),
    Script("odia", 0x0B66, "Lohit-Odia.ttf"),
    Script("tamil", 0x0BE6, "Lohit-Tamil.ttf"),
    Script("telugu", 0x0C66, "Lohit-Telugu.ttf"),
    Script("kannada", 0x0CE6, "Lohit-Kannada.ttf"),
    Script("arabic-indic", 0x0660, "DejaVuSans.ttf"),
    Script("persian", 0x06F0, "DejaVuSans.ttf"),
)
NUMERALS_EXCLUDED = {0x0661, 0x06F1}

# Letters whose written shapes are digits (O/0, I/l/1, S/5, Z/2, B/8, b/6, g/q/9, G/6) are not
# negatives: no model can tell them apart from the digit inside one box.
DIGIT_LOOKALIKES = set("OoQDIlijJSsZzBbGgq")
LETTERS = "".join(
    c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in DIGIT_LOOKALIKES
)
# Symbols seen in boxes: currency, operators, ticks and crosses, punctuation. Tall thin ones
# (/ \ | ( ) [ ] !) are left out: normalized to 20 pixels high they are a 1.
SYMBOLS = "+-=\u00d7\u00f7%#@&*$€£¥?~<>✓✔✗✘•§¶"  # \u00d7 times, \u00f7 divide


def _font_dirs() -> list[Path]:
    extra = [p for p in os.environ.get(FONT_DIRS_ENV, "").split(os.pathsep) if p]
    return [Path(p).expanduser() for p in (*extra, *SYSTEM_FONT_DIRS)]


@functools.lru_cache(maxsize=1)
def _installed_fonts() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in _font_dirs():
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in {".ttf", ".otf"}:
                    found.setdefault(path.name, path)
    return found


def font_path(name: str) -> Path | None:
    """The installed file called ``name`` (e.g. ``Lohit-Bengali.ttf``), or None."""
    return _installed_fonts().get(name)


@functools.cache
def _warn_missing(name: str, what: str) -> None:
    logger.warning("font %s is not installed: %s left out of the negatives", name, what)


def fonts_available(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are installed; each missing one is logged once."""
    present = []
    for name in names:
        if font_path(name) is None:
            _warn_missing(name, "its glyphs are")
        else:
            present.append(name)
    return present


def scripts_available() -> list[Script]:
    """The numeral scripts whose font is installed (a warning for each one that is not)."""
    present = []
    for script in NUMERAL_SCRIPTS:
        if font_path(script.font) is None:
            _warn_missing(script.font, f"{script.name} numerals are")
        else:
            present.append(script)
    return present


def fonts_missing(*, rescan: bool = False) -> list[str]:
    """Every font the negatives draw with that is not installed, sorted (no warnings).

    The font folders are read once per process; ``rescan`` reads them again (after an install).
    """
    if rescan:
        _installed_fonts.cache_clear()
    names = {*LATIN_FONTS, *HANDWRITING_FONTS, *SYMBOL_FONTS}
    names |= {script.font for script in NUMERAL_SCRIPTS}
    return sorted(name for name in names if font_path(name) is None)


def script_numerals(script: Script) -> str:
    """The numerals 1-9 of ``script`` (zero and look-alikes of Latin digits removed)."""
    codes = range(script.zero + 1, script.zero + 10)
    return "".join(chr(c) for c in codes if c not in NUMERALS_EXCLUDED)


@functools.lru_cache(maxsize=256)
def _font(name: str, size: int):
    from PIL import ImageFont

    path = font_path(name)
    if path is None:
        raise FileNotFoundError(f"font {name} is not installed")
    return ImageFont.truetype(str(path), size)


def glyph_render(
    text: str, font: str, size: int, *, stroke: int = 0, pad: int = 4
) -> NDArray[np.uint8]:
    """Render ``text`` dark on light: uint8 (H, W), 255 paper, ink down to 0.

    ``size`` is the font size in pixels, ``stroke`` widens the pen by that many pixels. The image
    is the text's bounding box plus ``pad`` pixels of paper on each side.
    """
    from PIL import Image, ImageDraw

    face = _font(font, size)
    left, top, right, bottom = face.getbbox(text, stroke_width=stroke)
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    image = Image.new("L", (max(width, 1), max(height, 1)), 255)
    ImageDraw.Draw(image).text(
        (pad - left, pad - top), text, font=face, fill=0, stroke_width=stroke, stroke_fill=0
    )
    return np.asarray(image, dtype=np.uint8)


@functools.lru_cache(maxsize=4096)
def glyph_present(font: str, char: str) -> bool:
    """Whether ``font`` draws ``char`` itself rather than its missing-glyph box."""
    # A private-use code point no font here defines renders as the missing-glyph box.
    missing = glyph_render("\ue000", font, 32)
    drawn = glyph_render(char, font, 32)
    return drawn.shape != missing.shape or not np.array_equal(drawn, missing)
