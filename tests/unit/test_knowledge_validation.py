"""Data that does not validate or parse: each error provoked by feeding the real parser
or validator bad input."""

from __future__ import annotations

import base64
import csv
import decimal
import gzip
import io
import json
import tomllib
import xml.etree.ElementTree as ET
import zipfile

import pytest

from prefect_failtrack import ErrorType
from tests.unit.knowledge_helpers import raised as _raised, decision as _decision

pydantic = pytest.importorskip("pydantic")

P, V = ErrorType.PERMANENT, ErrorType.VALIDATION




class Row(pydantic.BaseModel):
    id: int
    day: str


def test_pydantic_validation_error():
    exc = _raised(Row.model_validate, {"id": "not a number"})
    assert type(exc) is pydantic.ValidationError
    assert _decision(exc) == (V, "type pydantic_core._pydantic_core.ValidationError")
    adapter = pydantic.TypeAdapter(list[int])
    assert _decision(_raised(adapter.validate_json, b"[1, 2, 'x']"))[0] is V


def test_pydantic_v1_validation_error():
    from pydantic import v1

    class Legacy(v1.BaseModel):
        id: int

    exc = _raised(Legacy.parse_obj, {"id": "x"})
    assert _decision(exc) == (V, "type pydantic.v1.error_wrappers.ValidationError")


def test_pydantic_model_defined_wrongly_is_permanent():
    def define():
        class Broken(pydantic.BaseModel):
            x: int

            @pydantic.field_validator("no_such_field")
            @classmethod
            def check(cls, value):
                return value

    exc = _raised(define)
    assert isinstance(exc, pydantic.errors.PydanticUserError)
    assert _decision(exc)[0] is P


def test_text_formats():
    assert _decision(_raised(json.loads, "{'single': 'quotes'}")) == (
        V, "type json.decoder.JSONDecodeError"
    )
    assert _decision(_raised(list, csv.reader(io.StringIO('a,"b\n'), strict=True))) == (
        V, "type _csv.Error"
    )
    assert _decision(_raised(tomllib.loads, "key = ")) == (V, "type tomllib.TOMLDecodeError")
    assert _decision(_raised(ET.fromstring, "<a><b></a>")) == (
        V, "type xml.etree.ElementTree.ParseError"
    )


def test_encodings_and_numbers():
    assert _decision(_raised(base64.b64decode, "abc", validate=True)) == (V, "type binascii.Error")
    assert _decision(_raised(decimal.Decimal, "n/a")) == (V, "type decimal.InvalidOperation")
    assert _decision(_raised("caf\xe9".encode("latin-1").decode, "utf-8"))[0] is V


def test_corrupt_archives_are_validation_not_transient_os_errors():
    exc = _raised(gzip.decompress, b"definitely not gzip")
    assert isinstance(exc, OSError)  # gzip.BadGzipFile: an OSError, generically TRANSIENT
    assert _decision(exc) == (V, "type gzip.BadGzipFile")
    assert _decision(_raised(zipfile.ZipFile, io.BytesIO(b"not a zip"))) == (
        V, "type zipfile.BadZipFile"
    )


def test_jsonschema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    exc = _raised(jsonschema.validate, {"id": "x"}, schema)
    assert _decision(exc) == (V, "type jsonschema.exceptions.ValidationError")
    exc = _raised(jsonschema.validate, {}, {"type": "no-such-type"})
    assert _decision(exc) == (P, "type jsonschema.exceptions.SchemaError")
