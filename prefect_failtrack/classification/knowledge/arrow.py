"""Built-in knowledge: Apache Arrow (pyarrow) and pandas: data that does not parse or fit.

pyarrow raises one class per Arrow ``Status`` code (``pyarrow/error.pxi``):
``ArrowInvalid`` ("CSV parse error", "Failed to parse string", "Integer value ...
not in range") and ``ArrowTypeError`` are about the data: VALIDATION.
``ArrowNotImplementedError`` (a type or cast Arrow does not support) and
``ArrowKeyError`` / ``ArrowIndexError`` are the code's: PERMANENT. ``ArrowMemoryError``
is TRANSIENT like ``MemoryError``; ``ArrowCancelled`` someone's decision. pyarrow's I/O
errors are plain ``OSError``s with an errno (``ArrowIOError`` is an alias of it).

pandas (``pandas/errors/__init__.py``): parse errors and values out of range are
``ValueError`` subclasses, listed here since their meaning is certain: VALIDATION.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_A, _PD = "pyarrow.lib", "pandas.errors"
TYPES = {
    f"{_A}.ArrowInvalid": V,
    f"{_A}.ArrowTypeError": V,
    f"{_A}.ArrowSerializationError": V,
    f"{_A}.ArrowCapacityError": V,  # more data than one array holds: chunk the input
    f"{_A}.ArrowNotImplementedError": P,
    f"{_A}.ArrowKeyError": P,
    f"{_A}.ArrowIndexError": P,
    f"{_A}.ArrowMemoryError": T,
    f"{_A}.ArrowCancelled": P,
    f"{_PD}.ParserError": V,
    f"{_PD}.EmptyDataError": V,
    f"{_PD}.OutOfBoundsDatetime": V,
    f"{_PD}.OutOfBoundsTimedelta": V,
    f"{_PD}.IntCastingNaNError": V,
    f"{_PD}.DuplicateLabelError": V,
    f"{_PD}.MergeError": V,  # validate="one_to_one" and the data is not
    f"{_PD}.InvalidIndexError": P,
    f"{_PD}.IndexingError": P,
    f"{_PD}.UndefinedVariableError": P,
    f"{_PD}.AbstractMethodError": P,
    f"{_PD}.UnsupportedFunctionCall": P,
    f"{_PD}.SpecificationError": P,
    f"{_PD}.NumbaUtilError": P,
    f"{_PD}.OptionError": P,
    f"{_PD}.ClosedFileError": P,
    "pandas._libs.tslibs.parsing.DateParseError": V,
}

GENERIC_TYPES = {
    f"{_PD}.DatabaseError": T,  # pandas.read_sql over DB-API: the driver's error (its cause)
}
