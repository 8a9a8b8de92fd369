"""Brokers, with real errors from the services of this machine: RabbitMQ (pika, aio-pika),
NATS with JetStream (nats-py), Mosquitto (paho-mqtt); Kafka from closed ports and the
clients' own error objects. Expected classes follow each client's retry semantics
(knowledge/amqp.py, nats.py, kafka.py)."""

from __future__ import annotations

import asyncio

import pytest

from prefect_failtrack import ErrorType, classify
from tests.unit.knowledge_helpers import decision as decided, closed_port, needs_service, raised

pika = pytest.importorskip("pika")
aio_pika = pytest.importorskip("aio_pika")
nats = pytest.importorskip("nats")
confluent_kafka = pytest.importorskip("confluent_kafka")
kafka_errors = pytest.importorskip("kafka.errors")

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def araised(coro):
    try:
        await coro
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an exception")


@needs_service(5672, "RabbitMQ")
class TestRabbitMQ:
    def test_passive_declare_of_a_missing_queue_is_permanent(self):
        connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1"))
        try:
            exc = raised(connection.channel().queue_declare, "failtrack-14-missing", passive=True)
        finally:
            if connection.is_open:
                connection.close()
        assert type(exc).__name__ == "ChannelClosedByBroker" and exc.reply_code == 404
        assert decided(exc) == (P, "amqp code 404")  # reply_code 404 is no HTTP status

    def test_redeclared_with_other_arguments_is_permanent(self):
        connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1"))
        try:
            channel = connection.channel()
            channel.queue_declare("failtrack-14-q", durable=False, auto_delete=True)
            exc = raised(channel.queue_declare, "failtrack-14-q", durable=True)
        finally:
            if connection.is_open:
                connection.close()
        assert exc.reply_code == 406 and decided(exc) == (P, "amqp code 406")

    def test_bad_credentials_and_closed_port(self):
        bad = pika.ConnectionParameters(
            "127.0.0.1", credentials=pika.PlainCredentials("guest", "wrong-14"),
            connection_attempts=1)
        assert classify(raised(pika.BlockingConnection, bad)).error_type is P
        refused = pika.ConnectionParameters("127.0.0.1", port=closed_port(),
                                            connection_attempts=1)
        assert classify(raised(pika.BlockingConnection, refused)).error_type is T

    def test_aio_pika_missing_queue_is_permanent(self):
        async def declare():
            connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1/")
            async with connection:
                channel = await connection.channel()
                return await araised(channel.declare_queue("failtrack-14-missing", passive=True))

        exc = run(declare())
        assert type(exc).__name__ == "ChannelNotFoundEntity"
        assert decided(exc) == (P, "type aiormq.exceptions.ChannelNotFoundEntity")


@needs_service(4222, "NATS")
class TestNats:
    def test_request_nobody_answers_is_transient(self):
        async def request():
            client = await nats.connect("nats://127.0.0.1:4222")
            try:
                return await araised(client.request("failtrack.14.nobody", b"x", timeout=1))
            finally:
                await client.close()

        exc = run(request())
        assert type(exc).__name__ == "NoRespondersError" and classify(exc).error_type is T

    def test_missing_stream_is_permanent(self):
        async def info():
            client = await nats.connect("nats://127.0.0.1:4222")
            try:
                return await araised(client.jetstream().stream_info("FAILTRACK_14_NONE"))
            finally:
                await client.close()

        exc = run(info())
        assert type(exc).__name__ == "NotFoundError" and classify(exc).error_type is P

    def test_no_servers_is_transient(self):
        async def connect():
            return await araised(nats.connect(
                f"nats://127.0.0.1:{closed_port()}", connect_timeout=1,
                max_reconnect_attempts=1, reconnect_time_wait=0.1))

        exc = run(connect())
        assert type(exc).__name__ == "NoServersError" and classify(exc).error_type is T


@needs_service(1883, "Mosquitto")
def test_mqtt_refused_connection_is_transient():
    paho = pytest.importorskip("paho.mqtt.client")
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    exc = raised(client.connect, "127.0.0.1", closed_port())
    assert isinstance(exc, ConnectionRefusedError) and classify(exc).error_type is T


class TestKafka:
    """No broker here: a closed port for the real thing, the clients' own error objects else."""

    def test_confluent_admin_against_no_broker(self):
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(
            {"bootstrap.servers": f"127.0.0.1:{closed_port()}", "socket.timeout.ms": 500})
        exc = raised(admin.list_topics, timeout=1)
        code = exc.args[0].code()
        local = confluent_kafka.KafkaError
        assert code in (local._TRANSPORT, local._TIMED_OUT)
        assert classify(exc).error_type in (T, TO)

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            (confluent_kafka.KafkaError._ALL_BROKERS_DOWN, T),
            (confluent_kafka.KafkaError._MSG_TIMED_OUT, TO),
            (confluent_kafka.KafkaError.NOT_LEADER_FOR_PARTITION, T),  # Java: retriable
            (confluent_kafka.KafkaError.REQUEST_TIMED_OUT, TO),
            (confluent_kafka.KafkaError.TOPIC_AUTHORIZATION_FAILED, P),
            (confluent_kafka.KafkaError.MSG_SIZE_TOO_LARGE, V),
        ],
    )
    def test_confluent_codes(self, code, expected):
        exc = confluent_kafka.KafkaException(confluent_kafka.KafkaError(code))
        assert classify(exc).error_type is expected
        assert classify(exc).facts.code == code

    def test_confluent_retriable_verdict_decides_an_unlisted_code(self):
        error = confluent_kafka.KafkaError(4242, "new broker error", retriable=True)
        assert decided(confluent_kafka.KafkaException(error)) == (T, "args[0].retriable()=True")

    @pytest.mark.parametrize(
        ("cls", "expected"),
        [
            ("NotLeaderForPartitionError", T),  # errno 6, retriable = True
            ("RequestTimedOutError", TO),  # errno 7
            ("TopicAuthorizationFailedError", P),  # errno 29
            ("KafkaTimeoutError", TO),
            ("KafkaConnectionError", T),
        ],
    )
    def test_kafka_python_classes(self, cls, expected):
        assert classify(getattr(kafka_errors, cls)()).error_type is expected
