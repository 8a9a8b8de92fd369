"""A knowledge pack as another package ships one: the example of
``docs/how-to/write-a-knowledge-pack.md``, installed for the tests by putting this folder
(with its ``.dist-info``) on ``sys.path``.

ACME's warehouse client raises ``acme.errors.WarehouseError`` with the service's code in
``.acme_code`` (``"WH-503"``...) and its own verdict in ``.can_retry``; its
``QuotaExceeded`` is always worth waiting for.
"""

from prefect_failtrack.classification import CodeSource, ErrorType

CODE_SOURCES = {
    "acme.errors.WarehouseError": [
        CodeSource("acme", code="acme_code", verdict="can_retry"),
    ],
}

CODES = {
    "acme": {
        "WH-503": ErrorType.TRANSIENT,  # warehouse resuming: ACME's docs say retry in 30 s
        "WH-404": ErrorType.PERMANENT,  # no such warehouse
        "WH-422": ErrorType.VALIDATION,  # the query's parameters do not fit their types
    },
}

TYPES = {
    "acme.errors.QuotaExceeded": ErrorType.TRANSIENT,
}

MESSAGES = [
    (r"warehouse \S+ is suspended", ErrorType.TRANSIENT, "acme: warehouse suspended"),
]
