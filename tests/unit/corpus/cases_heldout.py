"""Held out: libraries no knowledge module was written for (most of them come with Prefect),
with expectations written from the libraries' own documentation before they were first run
(see the report of issue 14 for the first run's figures)."""

from __future__ import annotations

from . import P, T, V, Case, raised


def cases() -> list[Case]:
    import anyio
    import cryptography.fernet
    import dateutil.parser
    import h11
    import jinja2
    import orjson
    import starlette.exceptions
    import websockets.exceptions as ws
    import websockets.frames as frames
    import yaml
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    def status(code: int):
        return lambda: ws.InvalidStatus(Response(code, "reason", Headers()))

    env = jinja2.Environment(loader=jinja2.DictLoader({}), undefined=jinja2.StrictUndefined)
    return [
        Case("other:websockets", lambda: ws.ConnectionClosedError(
            frames.Close(1011, "internal error"), None), T,
             "closed abnormally (1011): the peer failed"),
        Case("other:websockets", status(503), T, "handshake answered 503"),
        Case("other:websockets", status(403), P, "handshake answered 403"),
        Case("other:websockets", lambda: ws.InvalidURI("htp://x", "scheme isn't ws or wss"), V,
             "a URI that is not ws:// or wss://"),
        Case("other:anyio", lambda: anyio.BrokenResourceError(), T,
             "the other end broke the stream"),
        Case("other:anyio", lambda: anyio.ClosedResourceError(), P,
             "our own code used a closed resource",
             known_miss="no table knows anyio, and 'closed' alone says nothing: UNKNOWN"),
        Case("other:h11", lambda: h11.RemoteProtocolError("peer sent garbage"), T,
             "the peer broke the protocol (as httpx's RemoteProtocolError)",
             known_miss="no table knows h11; the name says whose fault only by 'Remote'"),
        Case("other:h11", lambda: h11.LocalProtocolError("can't send data"), P, "our misuse",
             known_miss="no table knows h11: UNKNOWN"),
        Case("other:yaml", lambda: raised(yaml.safe_load, "a: [1, 2"), V, "YAML parse error"),
        Case("other:orjson", lambda: raised(orjson.loads, b"{bad"), V, "JSON parse error"),
        Case("other:jinja2", lambda: raised(env.get_template, "missing.sql"), P,
             "TemplateNotFound"),
        Case("other:jinja2", lambda: raised(env.from_string("{{ x.y }}").render), P,
             "UndefinedError: the template or its context is wrong"),
        Case("other:jinja2", lambda: raised(env.from_string, "{% if %}"), P,
             "TemplateSyntaxError"),
        Case("other:dateutil", lambda: raised(dateutil.parser.parse, "not a date"), V,
             "ParserError (a ValueError)"),
        Case("other:starlette", lambda: starlette.exceptions.HTTPException(status_code=503), T,
             "HTTPException status_code 503"),
        Case("other:starlette", lambda: starlette.exceptions.HTTPException(status_code=404), P,
             "HTTPException status_code 404"),
        Case("other:cryptography", lambda: raised(
            cryptography.fernet.Fernet(cryptography.fernet.Fernet.generate_key()).decrypt,
            b"not a token"), V, "InvalidToken: the data is not what it should be"),
    ]
