"""The pages' languages and time zones: flask-babel with the Russian and English catalogues of `translations/`.

The catalogues are compiled when the app starts, into a directory of the process's own, so a `.mo` is never stale
and never committed. The locale is the signed-in person's language, else the browser's (ru or en), else Russian;
times are shown in the person's time zone (Moscow before sign-in).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request
from flask_babel import Babel

HERE = Path(__file__).parent
SOURCES = HERE / "translations"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
DEFAULT_TIME_ZONE = "Europe/Moscow"


def compile_catalogues(target: Path) -> Path:
    """Compile every `messages.po` under `translations/` into `target` (same layout); `target` returned."""
    for language in LANGUAGES:
        source = SOURCES / language / "LC_MESSAGES" / "messages.po"
        out = target / language / "LC_MESSAGES"
        out.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as po:
            catalogue = read_po(po, locale=language)
        with (out / "messages.mo").open("wb") as mo:
            write_mo(mo, catalogue)
    return target


def locale() -> str:
    """The signed-in person's language, else the browser's preferred of ru and en, else ru."""
    person = g.get("web_user")
    if person is not None and person.language in LANGUAGES:
        return str(person.language)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def time_zone() -> str:
    """The signed-in person's time zone (Moscow before sign-in)."""
    person = g.get("web_user")
    return str(person.time_zone) if person is not None and person.time_zone else DEFAULT_TIME_ZONE


_compiled: dict[tuple[float, ...], Path] = {}


def compiled_catalogues() -> Path:
    """The catalogues compiled once per process (again when a `.po` changed)."""
    stamp = tuple(path.stat().st_mtime for path in sorted(SOURCES.glob("*/LC_MESSAGES/messages.po")))
    if stamp not in _compiled:
        _compiled.clear()
        _compiled[stamp] = compile_catalogues(Path(tempfile.mkdtemp(prefix="orchestrator-translations-")))
    return _compiled[stamp]


def register(app: Flask) -> None:
    """flask-babel over freshly compiled catalogues."""
    compiled = compiled_catalogues()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    Babel(app, locale_selector=locale, timezone_selector=time_zone)
