"""Built-in knowledge: Apache Kafka (confluent-kafka, kafka-python, aiokafka).

One code space for all three clients: the protocol's error codes
(``org.apache.kafka.common.protocol.Errors``) and librdkafka's local errors
(``rdkafka.h``, negative, prefixed ``_``), both as ``confluent_kafka.KafkaError``
numbers them. confluent-kafka keeps a ``KafkaError`` in ``args[0]`` of its
``KafkaException`` (``.code()``, ``.retriable()``); kafka-python and aiokafka put
``errno`` and ``retriable`` on each class (``kafka/errors.py``). A code listed here
decides; otherwise the client's own ``retriable`` verdict does (generic layer).

The classes follow Kafka's own: ``RetriableException`` subclasses on the Java side
(leader elections, ``NOT_ENOUGH_REPLICAS``, coordinators loading, metadata being stale,
``UNKNOWN_TOPIC_OR_PART`` which is an ``InvalidMetadataException``) are TRANSIENT,
request timeouts TIMEOUT. librdkafka's transport, resolve and all-brokers-down errors
are raised with ``retriable()`` False outside the producer, yet are what retrying is
for: TRANSIENT here. A rebalance (``ILLEGAL_GENERATION``, ``UNKNOWN_MEMBER_ID``,
``REBALANCE_IN_PROGRESS``) is over once the consumer rejoins: TRANSIENT.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

CODE_SOURCES = {
    "cimpl.KafkaException": [
        CodeSource("kafka", code="args[0].code()", verdict="args[0].retriable()"),
    ],
    "kafka.errors.KafkaError": [CodeSource("kafka", code="errno", verdict="retriable")],
    "aiokafka.errors.KafkaError": [CodeSource("kafka", code="errno", verdict="retriable")],
}

CODES = {
    "kafka": {
        # librdkafka's local errors
        -199: T,  # _BAD_MSG
        -198: P,  # _BAD_COMPRESSION
        -197: P,  # _DESTROY: the client is being closed
        -196: T,  # _FAIL
        -195: T,  # _TRANSPORT: broker connection failed
        -194: T,  # _CRIT_SYS_RESOURCE
        -193: T,  # _RESOLVE: a broker name did not resolve
        -192: TO,  # _MSG_TIMED_OUT: message.timeout.ms
        -190: P,  # _UNKNOWN_PARTITION
        -189: P,  # _FS
        -188: T,  # _UNKNOWN_TOPIC (as UNKNOWN_TOPIC_OR_PART)
        -187: T,  # _ALL_BROKERS_DOWN
        -186: V,  # _INVALID_ARG
        -185: TO,  # _TIMED_OUT
        -184: T,  # _QUEUE_FULL: the producer's queue; poll() drains it
        -183: T,  # _ISR_INSUFF
        -182: T,  # _NODE_UPDATE
        -181: P,  # _SSL
        -180: T,  # _WAIT_COORD
        -179: P,  # _UNKNOWN_GROUP
        -178: T,  # _IN_PROGRESS
        -177: T,  # _PREV_IN_PROGRESS
        -176: P,  # _EXISTING_SUBSCRIPTION
        -173: T,  # _CONFLICT
        -172: P,  # _STATE
        -171: P,  # _UNKNOWN_PROTOCOL
        -170: P,  # _NOT_IMPLEMENTED
        -169: P,  # _AUTHENTICATION
        -168: P,  # _NO_OFFSET
        -167: T,  # _OUTDATED
        -166: TO,  # _TIMED_OUT_QUEUE
        -165: P,  # _UNSUPPORTED_FEATURE
        -164: T,  # _WAIT_CACHE
        -163: T,  # _INTR
        -162: V, -161: V, -160: V, -159: V,  # _KEY/_VALUE_(DE)SERIALIZATION
        -158: T,  # _PARTIAL
        -157: P,  # _READ_ONLY
        -156: P,  # _NOENT
        -155: P,  # _UNDERFLOW
        -154: V,  # _INVALID_TYPE
        -153: T,  # _RETRY
        -152: P, -151: P,  # _PURGE_QUEUE, _PURGE_INFLIGHT
        -150: P,  # _FATAL
        -149: P,  # _INCONSISTENT
        -148: P,  # _GAPLESS_GUARANTEE
        -147: T,  # _MAX_POLL_EXCEEDED: the consumer rejoins
        -146: T,  # _UNKNOWN_BROKER
        -145: P,  # _NOT_CONFIGURED
        -144: P,  # _FENCED
        -143: P,  # _APPLICATION
        -142: T,  # _ASSIGNMENT_LOST
        -140: P,  # _AUTO_OFFSET_RESET
        -139: T,  # _LOG_TRUNCATION
        # the protocol's errors
        -1: P,  # UNKNOWN_SERVER_ERROR (UnknownServerException: not retriable)
        1: P,  # OFFSET_OUT_OF_RANGE
        2: T,  # CORRUPT_MESSAGE (CorruptRecordException is retriable)
        3: T,  # UNKNOWN_TOPIC_OR_PARTITION (an InvalidMetadataException)
        4: P,  # INVALID_FETCH_SIZE
        5: T,  # LEADER_NOT_AVAILABLE
        6: T,  # NOT_LEADER_OR_FOLLOWER
        7: TO,  # REQUEST_TIMED_OUT
        8: T,  # BROKER_NOT_AVAILABLE
        9: T,  # REPLICA_NOT_AVAILABLE
        10: V,  # MESSAGE_TOO_LARGE: this record will never fit
        11: T,  # STALE_CONTROLLER_EPOCH
        12: V,  # OFFSET_METADATA_TOO_LARGE
        13: T,  # NETWORK_EXCEPTION
        14: T,  # COORDINATOR_LOAD_IN_PROGRESS
        15: T,  # COORDINATOR_NOT_AVAILABLE
        16: T,  # NOT_COORDINATOR
        17: P,  # INVALID_TOPIC_EXCEPTION
        18: V,  # RECORD_LIST_TOO_LARGE
        19: T,  # NOT_ENOUGH_REPLICAS
        20: T,  # NOT_ENOUGH_REPLICAS_AFTER_APPEND
        21: P,  # INVALID_REQUIRED_ACKS
        22: T,  # ILLEGAL_GENERATION: a rebalance
        23: P,  # INCONSISTENT_GROUP_PROTOCOL
        24: P,  # INVALID_GROUP_ID
        25: T,  # UNKNOWN_MEMBER_ID: a rebalance
        26: P,  # INVALID_SESSION_TIMEOUT
        27: T,  # REBALANCE_IN_PROGRESS
        28: P,  # INVALID_COMMIT_OFFSET_SIZE
        29: P, 30: P, 31: P,  # TOPIC/GROUP/CLUSTER_AUTHORIZATION_FAILED
        32: V,  # INVALID_TIMESTAMP
        33: P, 34: P, 35: P,  # UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, UNSUPPORTED_VERSION
        36: P,  # TOPIC_ALREADY_EXISTS
        37: V, 38: V, 39: V, 40: V,  # INVALID_PARTITIONS, _REPLICATION_FACTOR, _ASSIGNMENT, _CONFIG
        41: T,  # NOT_CONTROLLER
        42: P,  # INVALID_REQUEST
        43: P,  # UNSUPPORTED_FOR_MESSAGE_FORMAT
        44: P,  # POLICY_VIOLATION
        45: P, 46: P, 47: P, 48: P, 49: P, 50: P,  # idempotence and transaction state
        51: T,  # CONCURRENT_TRANSACTIONS
        52: P, 53: P, 54: P,  # COORDINATOR_FENCED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ...
        55: T,  # OPERATION_NOT_ATTEMPTED
        56: T,  # KAFKA_STORAGE_ERROR
        57: P,  # LOG_DIR_NOT_FOUND
        58: P,  # SASL_AUTHENTICATION_FAILED
        60: T,  # REASSIGNMENT_IN_PROGRESS
        61: P, 62: P, 63: P, 64: P, 65: P, 66: P, 67: P,  # delegation tokens, principals
        68: P,  # NON_EMPTY_GROUP
        69: P,  # GROUP_ID_NOT_FOUND
        70: T, 71: T,  # fetch sessions
        72: T,  # LISTENER_NOT_FOUND
        73: P,  # TOPIC_DELETION_DISABLED
        74: T, 75: T,  # FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH
        76: P,  # UNSUPPORTED_COMPRESSION_TYPE
        77: T, 78: T, 79: T, 80: T,  # STALE_BROKER_EPOCH ... PREFERRED_LEADER_NOT_AVAILABLE
        81: P, 82: P,  # GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID
        83: T,  # ELIGIBLE_LEADERS_NOT_AVAILABLE
        87: V,  # INVALID_RECORD
        88: T,  # UNSTABLE_OFFSET_COMMIT
        89: T,  # THROTTLING_QUOTA_EXCEEDED
        90: P,  # PRODUCER_FENCED
        91: P,  # RESOURCE_NOT_FOUND
        92: P,  # DUPLICATE_RESOURCE
        93: P,  # UNACCEPTABLE_CREDENTIAL
        100: T,  # UNKNOWN_TOPIC_ID
        110: T, 113: T,  # FENCED_MEMBER_EPOCH, STALE_MEMBER_EPOCH
        120: T,  # TRANSACTION_ABORTABLE
        129: T,  # REBOOTSTRAP_REQUIRED
    },
}

TYPES = {
    "kafka.errors.KafkaTimeoutError": TO,
    "kafka.errors.KafkaConnectionError": T,
    "kafka.errors.NodeNotReadyError": T,
    "kafka.errors.CommitFailedError": T,  # the group rebalanced before the commit
    "kafka.errors.IllegalArgumentError": V,
    "kafka.errors.IllegalStateError": P,
    "aiokafka.errors.KafkaTimeoutError": TO,
    "aiokafka.errors.KafkaConnectionError": T,
    "aiokafka.errors.NoBrokersAvailable": T,
    "aiokafka.errors.CommitFailedError": T,
    "aiokafka.errors.IllegalStateError": P,
    "confluent_kafka.serialization.SerializationError": V,  # (de)serialising a key or a value
}

# Decided by their code or their own ``retriable`` first; the class when neither says.
GENERIC_TYPES = {
    "cimpl.KafkaException": P,
    "kafka.errors.KafkaError": P,
    "aiokafka.errors.KafkaError": P,
}
