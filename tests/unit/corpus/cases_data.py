"""Arrow and pandas: data that does not parse, raised for real."""

from __future__ import annotations

import io

from . import P, T, V, Case, raised


def cases() -> list[Case]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    return [
        Case("arrow", lambda: raised(csv.read_csv, io.BytesIO(b"a,b\n1,2\n3\n")), V,
             "CSV parse error: ArrowInvalid"),
        Case("arrow", lambda: raised(pa.array(["x"]).cast, pa.int64()), V,
             "Failed to parse string: ArrowInvalid"),
        Case("arrow", lambda: raised(pa.array, [1, "a"]), V, "mixed types: ArrowTypeError"),
        Case("arrow", lambda: raised(pa.array([300]).cast, pa.int8()), V,
             "Integer value out of bounds"),
        Case("arrow", lambda: raised(pq.read_table, io.BytesIO(b"not parquet at all")), V,
             "not a Parquet file: ArrowInvalid"),
        Case("arrow", lambda: raised(pa.array([1]).cast, pa.month_day_nano_interval()), P,
             "unsupported cast: ArrowNotImplementedError"),
        Case("arrow", lambda: pa.lib.ArrowMemoryError("malloc of size 1073741824 failed"), T,
             "out of memory"),
        Case("pandas", lambda: raised(pd.read_csv, io.StringIO("")), V, "EmptyDataError"),
        Case("pandas", lambda: raised(pd.read_csv, io.StringIO('a,b\n1,2\n"3,4\n')), V,
             "ParserError"),
        Case("pandas", lambda: raised(pd.to_datetime, "not a date"), V, "DateParseError"),
        Case("pandas", lambda: raised(pd.Timestamp("1000-01-01").as_unit, "ns"), V,
             "OutOfBoundsDatetime"),
        Case("pandas", lambda: raised(pd.Series([1.0, None]).astype, "int64"), V,
             "IntCastingNaNError"),
        Case("pandas", lambda: raised(pd.merge, pd.DataFrame({"k": [1, 1]}),
                                      pd.DataFrame({"k": [1]}), on="k", validate="one_to_one"),
             V, "MergeError: the data breaks the promise"),
        Case("pandas", lambda: raised(pd.DataFrame({"a": [1]}).__getitem__, "b"), P,
             "KeyError: a column the code expects"),
    ]
