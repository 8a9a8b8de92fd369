"""Group errors the way Sentry does: error class + normalised message + innermost user frame.

Two failures that differ only in ids, numbers, timestamps, paths or quoted
values get the same fingerprint; a different class or a different place in the
user's code gives a different one. Line numbers never count: they change with
every edit.

Numbers glued to letters are kept (``S3``, ``int64``, ``utf8``, ``row42``): such
tokens are usually names whose digits mean something. Numbers on their own or
after punctuation are replaced (``row 42``, ``worker-3``, ``batch_17``, ``30s``).
"""

from __future__ import annotations

import hashlib
import os
import re
import sysconfig
from types import FrameType

from .classification.introspect import iter_chain, qualified_name, safe_message

FINGERPRINT_VERSION = 1
SCAN_LIMIT = 4096  # characters of a message that are looked at
NORMALIZED_LIMIT = 500
MAX_FRAMES = 1000

#: Top-level packages whose frames are never "user code", wherever they are installed.
LIBRARY_PACKAGES = frozenset(
    {
        "prefect", "prefect_failtrack", "pydantic", "pydantic_core", "anyio", "asyncio",
        "concurrent", "threading", "sniffio", "_pytest", "pluggy", "importlib", "runpy",
    }
)  # fmt: skip

# URLs first: they keep scheme and host; credentials, port, path and query vary.
_URL = re.compile(
    r"\b([A-Za-z][\w+.-]{0,30}+://)(?:[^\s/?#@'\"<>]*+@)?"
    r"(\[[^\]\s]*+\]|[^\s/?#:'\"<>]*+)(?::\d++)?([^\s'\"<>]*+)"
)

# Then these, in order, each only when its needle is in the text. A look-behind sits after
# the first character where it can (``\d(?<![\d:]\d)`` = a digit not after a digit or
# colon), which lets the regex engine skip ahead to candidates instead of trying everywhere.
_H = "[0-9a-fA-F]"
_G = f"{_H}{{1,4}}"  # an IPv6 group
_GS = f"{_G}(?::{_G})*"  # groups joined by ":"
_RULES = [
    (needle, re.compile(pattern), placeholder)
    for needle, pattern, placeholder in [
        # Quoted values; the quote may not touch a word, so "can't" or "it's" opens nothing.
        ("'", r"'(?<!\w')[^'\n]*+'(?!\w)", "<str>"),
        ('"', r'"(?<!\w")[^"\n]*+"(?!\w)', "<str>"),
        ("@", r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)++", "<email>"),
        ("-", rf"{_H}(?<!{_H}{_H}){_H}{{7}}(?:-{_H}{{4}}){{3}}-{_H}{{12}}(?!{_H})", "<uuid>"),
        (".", r"\d(?<![\d.]\d)\d{0,2}(?:\.\d{1,3}){3}(?::\d+)?(?![\d.])", "<ip>"),
        # IPv6 (before times eat its groups): all eight groups, or groups around a "::".
        (":", rf"{_H}(?<![\w:]{_H}){_H}{{0,3}}(?::{_G}){{7}}(?![\w:])", "<ip>"),
        ("::", rf"(?<![\w:])(?:{_GS}::(?:{_GS})?|::{_GS})(?![\w:])", "<ip>"),
        # ISO 8601 date[time][zone], then bare times, then d/m/y dates.
        (
            "-",
            r"\d(?<!\d\d)\d{3}-\d{2}-\d{2}"
            r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\d)",
            "<ts>",
        ),
        (":", r"\d(?<![\d:]\d)\d?:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?![\d:])", "<ts>"),
        ("/", r"\d(?<![\d/]\d)\d?/\d{1,2}/\d{2,4}(?![\d/])", "<ts>"),
        # Paths: absolute or ~ . .. relative; "a/b/c" with two slashes or more; Windows.
        ("/", r"(?=[~./])(?<![\w.~/<>-])(?:~|\.{1,2})?(?:/[\w.@%+=~-]++)+/?", "<path>"),
        ("/", r"(?<![\w./<>-])[\w.-]++(?:/[\w.-]++){2,}+/?", "<path>"),
        ("\\", r"(?<![\w\\])(?:[A-Za-z]:|\\\\[\w.-]+)\\[^\s'\"<>|]*+", "<path>"),
        ("0x", r"\b0x[0-9a-fA-F]++", "<hex>"),
        # Hex runs of 8+ with at least one letter and one digit (commit ids, hashes).
        (
            "",
            rf"(?<![0-9A-Za-z])(?=\d*+[a-fA-F])(?=[a-fA-F]*+\d){_H}{{8,}}+(?![0-9A-Za-z])",
            "<hex>",
        ),
        # Numbers, but not digits glued to a preceding letter (S3, int64, row42).
        ("", r"\d(?<![A-Za-z\d]\d)\d*+(?:[.,]\d++)*+(?:[eE][-+]?\d++)?", "<num>"),
    ]
]


def _url(m: re.Match[str]) -> str:
    host = "<ip>" if re.fullmatch(r"[\d.]+|\[.*\]", m.group(2)) else m.group(2)
    return f"{m.group(1)}{host}{'/<path>' if m.group(3).strip('/') else ''}"


def normalize_message(message: str) -> str:
    """The message with its volatile parts replaced by placeholders (``<num>``, ``<uuid>``...)."""
    text = message[:SCAN_LIMIT]
    if "://" in text:
        text = _URL.sub(_url, text)
    for needle, pattern, placeholder in _RULES:
        if needle in text:
            text = pattern.sub(placeholder, text)
    return " ".join(text.split())[:NORMALIZED_LIMIT]


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib") if paths.get(k)}
    dirs |= {os.path.realpath(d) for d in dirs}
    return tuple(os.path.join(d, "") for d in dirs)


_LIBRARY_DIRS = _library_dirs()


DYNAMIC_CODE = "<dynamic-code>"
"""The file name cloudpickle gives the code of a function it ships by value (``_code_reduce``):
Prefect's process pool, Dask and Ray run tasks so. Its module name is the original one, so
the same failure fingerprints alike wherever it ran (issue 15)."""


def _is_user_frame(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename or ""
    module = frame.f_globals.get("__name__")
    library = isinstance(module, str) and module.partition(".")[0] in LIBRARY_PACKAGES
    if filename == DYNAMIC_CODE:  # a function shipped by value to a worker process
        return not library
    if filename.startswith("<"):  # <frozen ...>, <string> from exec: user code only in __main__
        return module == "__main__"
    if library:
        return False
    parts = set(re.split(r"[\\/]", filename))
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not filename.startswith(_LIBRARY_DIRS)


def _render(frame: FrameType) -> str:
    module = frame.f_globals.get("__name__")
    if not isinstance(module, str) or not module:
        module = os.path.splitext(os.path.basename(frame.f_code.co_filename))[0] or "?"
    return f"{module}:{frame.f_code.co_qualname}"


def _innermost_user_frame(exc: BaseException) -> str | None:
    found = None
    tb = exc.__traceback__
    for _ in range(MAX_FRAMES):
        if tb is None:
            break
        if _is_user_frame(tb.tb_frame):
            found = tb.tb_frame
        tb = tb.tb_next
    return _render(found) if found is not None else None


def user_frame(exc: BaseException) -> str | None:
    """``module:function`` of the innermost user-code frame of `exc`, or of what it wraps.

    User code is whatever is not the standard library, not installed in
    site-packages/dist-packages, and not Prefect, failtrack or their async
    machinery. The chain (``__cause__``, ``__context__``) is walked, bounded and
    cycle-safe, when the exception itself has no user frame. Never raises.
    """
    try:
        for link in iter_chain(exc):
            frame = _innermost_user_frame(link)
            if frame is not None:
                return frame
    except Exception:
        pass
    return None


def fingerprint(error_class: str, message: str | None, frame: str | None = None) -> str:
    """``v1:`` and 16 hex digits of SHA-256 over class, normalised message and frame."""
    key = "\x1f".join((error_class, normalize_message(message or ""), frame or ""))
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"v{FINGERPRINT_VERSION}:{digest[:16]}"


def fingerprint_exception(exc: BaseException) -> str:
    """The fingerprint of an exception: its qualified class, message and user frame."""
    try:
        error_class = qualified_name(type(exc))
    except Exception:
        error_class = type(exc).__name__
    return fingerprint(error_class, safe_message(exc, limit=SCAN_LIMIT), user_frame(exc))

