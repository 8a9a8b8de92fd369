"""Built-in knowledge: MongoDB (PyMongo, Motor, and PyMongo's async API).

Server errors carry the server's code (``OperationFailure.code``; the codes of
``src/mongo/base/error_codes.yml`` in the server's repository) and the drivers' error
labels (``_error_labels``: ``RetryableWriteError``, ``TransientTransactionError``,
read by the generic layer: `generic.LABELS`). The codes the drivers' "Retryable
Reads/Writes" specifications retry are TRANSIENT here: HostUnreachable (6),
HostNotFound (7), NetworkTimeout (89), ShutdownInProgress (91), PrimarySteppedDown
(189), ExceededTimeLimit (262), SocketException (9001), NotWritablePrimary (10107),
InterruptedAtShutdown (11600), InterruptedDueToReplStateChange (11602),
NotPrimaryNoSecondaryOk (13435), NotPrimaryOrSecondary (13436). ``code`` is claimed,
so a code such as 262 is never read as an HTTP status.

PyMongo's own classes (``pymongo/errors.py``): ``AutoReconnect`` and
``ConnectionFailure`` are "retry the operation"; their ``timeout`` property marks the
timeouts (``NetworkTimeout``, ``ServerSelectionTimeoutError`` after
``serverSelectionTimeoutMS``, ``ExecutionTimeout`` = code 50 MaxTimeMSExpired).
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_E = "pymongo.errors"

CODE_SOURCES = {
    f"{_E}.OperationFailure": [CodeSource("mongodb", code="code")],
    f"{_E}.WriteConcernError": [CodeSource("mongodb", code="code")],
}

CODES = {
    "mongodb": {
        # retryable reads and writes (driver specifications)
        6: T, 7: T, 89: TO, 91: T, 189: T, 262: TO, 9001: T, 10107: T, 11600: T, 11602: T,
        13435: T, 13436: T,
        # more that go away on their own
        24: T,  # LockTimeout
        46: T,  # LockBusy
        112: T,  # WriteConflict: "retry the transaction"
        117: T,  # ConflictingOperationInProgress
        133: T,  # FailedToSatisfyReadPreference
        202: TO,  # NetworkInterfaceExceededTimeLimit
        234: T,  # RetryChangeStream
        251: T,  # NoSuchTransaction (TransientTransactionError)
        261: T,  # TooManyLogicalSessions
        63: T, 150: T, 13388: T,  # StaleShardVersion, StaleEpoch, StaleConfig
        43: T,  # CursorNotFound: the cursor timed out; the query can run again
        16500: T,  # Azure Cosmos DB for MongoDB: request rate is large (429)
        50: TO,  # MaxTimeMSExpired
        # permanent
        13: P,  # Unauthorized
        18: P,  # AuthenticationFailed
        8000: P,  # AtlasError (quotas of the plan, auth)
        26: P,  # NamespaceNotFound
        48: P,  # NamespaceExists
        59: P,  # CommandNotFound
        72: P,  # InvalidOptions
        166: P,  # CommandNotSupportedOnView
        # the documents or the query are wrong
        2: V,  # BadValue
        9: V,  # FailedToParse
        14: V,  # TypeMismatch
        40: V,  # ConflictingUpdateOperators
        52: V,  # DollarPrefixedFieldName
        121: V,  # DocumentValidationFailure
        10334: V,  # BSONObjectTooLarge
        11000: V, 11001: V, 12582: V,  # DuplicateKey (as SQLSTATE class 23)
        17280: V,  # KeyTooLong
    },
}

TYPES = {
    f"{_E}.AutoReconnect": T,  # "retry the operation" (pymongo/errors.py)
    f"{_E}.ConnectionFailure": T,
    f"{_E}.NetworkTimeout": TO,
    f"{_E}.ServerSelectionTimeoutError": TO,
    f"{_E}.WaitQueueTimeoutError": TO,  # no pooled connection within waitQueueTimeoutMS
    f"{_E}.WTimeoutError": TO,  # write concern not satisfied in wtimeout
    f"{_E}.ExecutionTimeout": TO,
    f"{_E}.CursorNotFound": T,
    f"{_E}.DuplicateKeyError": V,
    f"{_E}.DocumentTooLarge": V,
    f"{_E}.ConfigurationError": P,
    f"{_E}.InvalidURI": P,
    f"{_E}.InvalidName": P,
    f"{_E}.InvalidOperation": P,  # using a closed client, a cursor twice: a bug
    f"{_E}.CollectionInvalid": P,
    f"{_E}.EncryptionError": P,
    f"{_E}.ProtocolError": T,
    "bson.errors.InvalidDocument": V,
    "bson.errors.InvalidBSON": V,
    "bson.errors.InvalidStringData": V,
    "bson.errors.InvalidId": V,
}

# Decided by their code and labels first (above); the class when neither says.
GENERIC_TYPES = {
    f"{_E}.OperationFailure": P,
    f"{_E}.WriteError": P,
    f"{_E}.WriteConcernError": T,
    f"{_E}.BulkWriteError": P,  # details['writeErrors'][*]['code'] (11000...) in the message
    f"{_E}.PyMongoError": P,
}

TYPE_MESSAGES = {
    f"{_E}.BulkWriteError": [(r"'code': 11000\b|E11000 duplicate key", V, "duplicate key")],
}
