"""Built-in knowledge: data that does not validate or parse (pydantic, json, csv, jsonschema, ...).

All VALIDATION: the input is wrong, and the same input fails the same way on
every attempt. A schema that is itself invalid is the code's fault: PERMANENT.
"""

from __future__ import annotations

from ..types import ErrorType

P, V = ErrorType.PERMANENT, ErrorType.VALIDATION

TYPES = {
    "pydantic_core._pydantic_core.ValidationError": V,  # pydantic.ValidationError (v2)
    "pydantic.v1.error_wrappers.ValidationError": V,  # pydantic.v1 compatibility layer
    "pydantic.errors.PydanticUserError": P,  # a model defined wrongly
    "json.decoder.JSONDecodeError": V,
    "_csv.Error": V,  # csv.Error
    "tomllib.TOMLDecodeError": V,
    "xml.etree.ElementTree.ParseError": V,  # a SyntaxError, which would say PERMANENT
    "binascii.Error": V,  # bad base64
    "decimal.InvalidOperation": V,  # Decimal("n/a")
    # corrupt archives and compressed files (gzip's is an OSError, which would say TRANSIENT)
    "gzip.BadGzipFile": V,
    "zlib.error": V,
    "zipfile.BadZipFile": V,
    "tarfile.ReadError": V,
    "_lzma.LZMAError": V,
    "jsonschema.exceptions.ValidationError": V,
    "jsonschema.exceptions.SchemaError": P,
}
