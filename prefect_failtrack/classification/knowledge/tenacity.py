"""Built-in knowledge: tenacity, the retry library.

``RetryError`` says tenacity stopped retrying (``tenacity/__init__.py``); its
``last_attempt`` is the future of the last try. Where that try raised, the chain walk
visits the exception it raised (`introspect.chain_links`), which decides: the last
attempt is judged. ``RetryError`` itself is generic: it decides only where nothing in
the chain does, in particular when the last attempt ended on a *result* that
``retry_if_result`` kept rejecting (a job still not done, a value still empty): the
wait for a condition ran out, TIMEOUT. ``TryAgain``, raised to ask tenacity for one more
try, reaching a task is the same: TRANSIENT.
"""

from __future__ import annotations

from ..types import ErrorType

T, TO = ErrorType.TRANSIENT, ErrorType.TIMEOUT

TYPES = {
    "tenacity.TryAgain": T,
}

GENERIC_TYPES = {
    "tenacity.RetryError": TO,
}
