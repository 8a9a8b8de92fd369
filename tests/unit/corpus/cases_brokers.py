"""Kafka (confluent-kafka, kafka-python), AMQP (pika, aio-pika/aiormq), NATS."""

from __future__ import annotations

from . import P, T, TO, V, Case


def cases() -> list[Case]:
    return [*_kafka(), *_amqp(), *_nats()]


def _kafka() -> list[Case]:
    import confluent_kafka as ck
    import kafka.errors as kp

    E = ck.KafkaError

    def confluent(code: int, retriable: bool = False):
        return lambda: ck.KafkaException(E(code, "broker said so", retriable=retriable))

    table = [
        (E._TRANSPORT, T, "_TRANSPORT: broker connection failed"),
        (E._ALL_BROKERS_DOWN, T, "_ALL_BROKERS_DOWN"),
        (E._RESOLVE, T, "_RESOLVE"),
        (E._MSG_TIMED_OUT, TO, "_MSG_TIMED_OUT"),
        (E._TIMED_OUT, TO, "_TIMED_OUT"),
        (E._QUEUE_FULL, T, "_QUEUE_FULL"),
        (E._AUTHENTICATION, P, "_AUTHENTICATION"),
        (E._SSL, P, "_SSL"),
        (E._INVALID_ARG, V, "_INVALID_ARG"),
        (E._VALUE_SERIALIZATION, V, "_VALUE_SERIALIZATION"),
        (E.NOT_LEADER_FOR_PARTITION, T, "NOT_LEADER_OR_FOLLOWER (retriable)"),
        (E.LEADER_NOT_AVAILABLE, T, "LEADER_NOT_AVAILABLE"),
        (E.UNKNOWN_TOPIC_OR_PART, T, "UNKNOWN_TOPIC_OR_PARTITION (InvalidMetadata)"),
        (E.REQUEST_TIMED_OUT, TO, "REQUEST_TIMED_OUT"),
        (E.NOT_ENOUGH_REPLICAS, T, "NOT_ENOUGH_REPLICAS"),
        (E.REBALANCE_IN_PROGRESS, T, "REBALANCE_IN_PROGRESS"),
        (E.COORDINATOR_LOAD_IN_PROGRESS, T, "COORDINATOR_LOAD_IN_PROGRESS"),
        (E.TOPIC_AUTHORIZATION_FAILED, P, "TOPIC_AUTHORIZATION_FAILED"),
        (E.SASL_AUTHENTICATION_FAILED, P, "SASL_AUTHENTICATION_FAILED"),
        (E.TOPIC_ALREADY_EXISTS, P, "TOPIC_ALREADY_EXISTS"),
        (E.MSG_SIZE_TOO_LARGE, V, "MESSAGE_TOO_LARGE"),
        (E.INVALID_CONFIG, V, "INVALID_CONFIG"),
        (E.POLICY_VIOLATION, P, "POLICY_VIOLATION"),
        (E.THROTTLING_QUOTA_EXCEEDED, T, "THROTTLING_QUOTA_EXCEEDED"),
    ]
    found = [Case("kafka", confluent(code), kind, f"confluent {why}")
             for code, kind, why in table]
    found.append(Case("kafka", confluent(4242, retriable=True), T,
                      "an unlisted code the client calls retriable()"))
    python_classes = [
        ("NotLeaderForPartitionError", T), ("LeaderNotAvailableError", T),
        ("RequestTimedOutError", TO), ("NotEnoughReplicasError", T),
        ("TopicAuthorizationFailedError", P), ("GroupAuthorizationFailedError", P),
        ("MessageSizeTooLargeError", V), ("UnknownTopicOrPartitionError", T),
        ("KafkaTimeoutError", TO), ("KafkaConnectionError", T), ("NodeNotReadyError", T),
        ("CommitFailedError", T), ("RebalanceInProgressError", T),
        ("InvalidReplicationFactorError", V), ("TopicAlreadyExistsError", P),
    ]
    found += [Case("kafka", lambda n=name: getattr(kp, n)("x"), kind, f"kafka-python {name}")
              for name, kind in python_classes]
    return found


def _amqp() -> list[Case]:
    import aiormq.exceptions as aq
    import pika.exceptions as pe

    codes = [(404, P, "NOT_FOUND"), (403, P, "ACCESS_REFUSED"), (406, P, "PRECONDITION_FAILED"),
             (405, T, "RESOURCE_LOCKED"), (506, T, "RESOURCE_ERROR"), (541, T, "INTERNAL_ERROR"),
             (530, P, "NOT_ALLOWED"), (320, T, "CONNECTION_FORCED")]
    found = [Case("amqp", lambda c=code: pe.ChannelClosedByBroker(c, f"{n} - x"), kind,
                  f"pika channel closed {code} {n}") for code, kind, n in codes]
    found += [
        Case("amqp", lambda: pe.ConnectionClosedByBroker(
            320, "CONNECTION_FORCED - broker forced connection closure"), T,
             "pika connection forced (node restart)"),
        Case("amqp", lambda: pe.AMQPConnectionError("connection refused"), T,
             "pika could not connect"),
        Case("amqp", lambda: pe.StreamLostError("Stream connection lost: ConnectionResetError"),
             T, "pika stream lost"),
        Case("amqp", lambda: pe.ProbableAuthenticationError("ConnectionClosedByBroker: (403)"),
             P, "pika authentication"),
        Case("amqp", lambda: pe.ChannelWrongStateError("Channel is closed."), P,
             "a closed channel used again"),
        Case("amqp", lambda: pe.UnroutableError([]), P, "mandatory publish, no route"),
        Case("amqp", lambda: pe.AMQPHeartbeatTimeout("No activity or too many missed heartbeats"),
             T, "missed heartbeats"),
        Case("amqp", lambda: aq.ChannelNotFoundEntity("NOT_FOUND - no queue 'jobs'"), P,
             "aiormq 404"),
        Case("amqp", lambda: aq.ChannelAccessRefused("ACCESS_REFUSED"), P, "aiormq 403"),
        Case("amqp", lambda: aq.ChannelPreconditionFailed("PRECONDITION_FAILED - inequivalent"),
             P, "aiormq 406"),
        Case("amqp", lambda: aq.ChannelLockedResource("RESOURCE_LOCKED"), T, "aiormq 405"),
        Case("amqp", lambda: aq.ConnectionClosed(320, "CONNECTION_FORCED"), T,
             "aiormq connection forced"),
        Case("amqp", lambda: aq.ChannelClosed(312, "NO_ROUTE"), P, "aiormq channel 312"),
        Case("amqp", lambda: aq.AMQPConnectionError("Connection refused"), T,
             "aiormq could not connect"),
        Case("amqp", lambda: aq.ProbableAuthenticationError("login refused"), P,
             "aiormq authentication"),
    ]
    return found


def _nats() -> list[Case]:
    import nats.errors as n
    import nats.js.errors as js

    classes = [
        (n.TimeoutError, TO), (n.NoServersError, T), (n.NoRespondersError, T),
        (n.ConnectionClosedError, T), (n.StaleConnectionError, T),
        (n.AuthorizationError, P), (n.BadSubjectError, V), (n.MaxPayloadError, V),
        (n.UnexpectedEOF, T), (n.FlushTimeoutError, TO),
    ]
    found = [Case("nats", lambda c=cls: c(), kind, f"nats {cls.__name__}")
             for cls, kind in classes]
    found += [
        Case("nats", lambda: n.SlowConsumerError("jobs", "", 1, None), T,
             "slow consumer: messages dropped for now"),
        Case("nats", lambda: js.NotFoundError(code=404, err_code=10059,
                                              description="stream not found"), P,
             "JetStream 404"),
        Case("nats", lambda: js.ServiceUnavailableError(code=503, description="unavailable"), T,
             "JetStream 503"),
        Case("nats", lambda: js.BadRequestError(code=400, err_code=10058,
                                                description="stream name already in use"), V,
             "JetStream 400"),
        Case("nats", lambda: js.APIError(code=500, description="server error"), T,
             "JetStream 500 on the base class: its code"),
        Case("nats", lambda: js.NoStreamResponseError(), T, "JetStream not answering"),
        Case("nats", lambda: js.KeyNotFoundError(), P, "KV key not found"),
        Case("nats", lambda: js.KeyWrongLastSequenceError(description="wrong last sequence"),
             T, "KV optimistic concurrency"),
    ]
    return found
