"""The Flask app: /ping, /invocations, /execution-parameters.

``/invocations`` is a short pipeline — choose the encoder (406 before any work), the output kind (400),
the decoder (415, and 415 for a compressed body), read the body (413 over the limit, 400 cut short),
decode and check the shape (400), predict, encode. A model's own ``input_fn`` takes the body as it came.
Every refusal is a 4xx with a one-line JSON body ``{"error": "..."}``; an unexpected failure is a 500
with no traceback in the response (the log has it).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from flask import Flask, Request, Response, request
from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from xgboost_byoc.errors import HttpError
from xgboost_byoc.serving.codecs import ENCODERS, decoder_for
from xgboost_byoc.serving.handlers import UserHandlers
from xgboost_byoc.serving.predictor import Predictor
from xgboost_byoc.serving.settings import OUTPUTS, Settings

log = logging.getLogger(__name__)
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
DEFAULT_ACCEPT = "text/csv"
DEFAULT_CONTENT_TYPE = "text/csv"
ASSUMED_HEADER = "X-Xgb-Byoc-Assumed-Content-Type"


def _error(status: int, message: str) -> Response:
    return Response(Response.json_module.dumps({"error": message}) + "\n", status=status, mimetype="application/json")


def choose_accept(req: Request) -> str:
    accept = req.headers.get("Accept", "").strip()
    if not accept or accept == "*/*":
        return DEFAULT_ACCEPT
    best = req.accept_mimetypes.best_match(list(ENCODERS))
    if best is None:
        raise HttpError(406, f"Accept {accept!r} is not supported; use one of {', '.join(ENCODERS)}")
    return str(best)


def choose_output(req: Request, default: str) -> str:
    """``output=...`` from SageMaker's custom attributes header (``k=v`` pairs, ``,`` or ``;`` separated)."""
    raw = req.headers.get(CUSTOM_ATTRIBUTES, "")
    for pair in raw.replace(";", ",").split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip() == "output":
            value = value.strip()
            if value not in OUTPUTS:
                raise HttpError(400, f"output={value!r} is not one of {', '.join(OUTPUTS)}")
            return value
    return default


def check_content_encoding(req: Request) -> None:
    """A compressed body (``Content-Encoding: gzip``, ...) is a 415: the decoders read plain text, and gzip
    bytes would be refused as "not a number" at best. SageMaker passes bodies as they were sent."""
    coding = req.headers.get("Content-Encoding", "").strip().lower()
    if coding and coding != "identity":
        raise HttpError(415, f"Content-Encoding {coding!r} is not supported; send the body uncompressed")


def read_body(req: Request, limit: int) -> bytes:
    """The whole body, read from gunicorn's input stream: a 413 over ``limit`` bytes, a 400 when it is cut
    short or its chunked framing is broken.

    Not werkzeug's ``get_data``: under gunicorn it hands over a body cut short of its Content-Length as if
    it were whole, stops a chunked body at the limit without a word (the rows past it lost), and lets a
    broken chunk header through as a 500. One read of Content-Length bytes is also cheaper than its 64 KB
    steps through two more layers.
    """
    length = req.content_length
    if length is not None and length > limit:
        raise RequestEntityTooLarge()
    stream = req.environ["wsgi.input"]
    try:
        body: bytes = stream.read(limit + 1 if length is None else length)
    except ParseException as exc:  # gunicorn's chunked reader: a bad chunk size or terminator
        raise HttpError(400, f"the chunked body is malformed ({exc}); send it whole") from None
    except NoMoreData:
        raise HttpError(400, "the chunked body ended before its last chunk; send it whole") from None
    if length is None and len(body) > limit:
        raise RequestEntityTooLarge()
    if length is not None and len(body) < length:
        raise HttpError(
            400, f"the body ended after {len(body)} of the {length} bytes its Content-Length announced; send it whole"
        )
    return body


def _drain(req: Request, cap: int) -> None:
    """Read and drop what is left of the body (up to ``cap`` bytes) so the client, still sending, gets the
    error answer (nothing to read when the body was read whole).

    Closing a socket with unread input makes the kernel reset the connection, and the client then
    sees a broken pipe instead of the JSON error. A chunked body is read to its end (or ``cap``).
    """
    remaining = cap if req.content_length is None else min(req.content_length, cap)
    stream = req.environ["wsgi.input"]
    while remaining > 0:
        try:
            chunk = stream.read(min(remaining, 1 << 20))
        except (ParseException, OSError):
            break
        if not chunk:
            break
        remaining -= len(chunk)


def create_app(
    predictor: Predictor | None,
    settings: Settings,
    handlers: UserHandlers | None = None,
    model: Any = None,
) -> Flask:
    """The app around ``predictor``; with ``handlers`` (a model's inference.py) its hooks replace steps.

    ``model`` is what ``predict_fn`` receives (the booster, or whatever ``model_fn`` returned);
    ``predictor`` may be None only when ``predict_fn`` is defined.
    """
    app = Flask("xgboost_byoc", static_folder=None)  # no /static route: nothing here is a file to serve
    app.config["MAX_CONTENT_LENGTH"] = settings.max_payload_bytes
    default_output = settings.default_output or (predictor.default_output if predictor else "prediction")
    n_features = predictor.n_features if predictor else 0

    @app.get("/ping")
    def ping() -> Response:
        return Response(status=200)

    @app.get("/execution-parameters")
    def execution_parameters() -> Response:
        return Response(
            Response.json_module.dumps(
                {
                    "MaxConcurrentTransforms": settings.workers,
                    "BatchStrategy": "MULTI_RECORD",
                    "MaxPayloadInMB": int(settings.max_payload_mb),
                }
            ),
            mimetype="application/json",
        )

    @app.post("/invocations")
    def invocations() -> Response:
        user_output = handlers is not None and handlers.output_fn is not None
        accept = (request.headers.get("Accept") or DEFAULT_ACCEPT) if user_output else choose_accept(request)
        output = choose_output(request, default_output)
        content_type = request.mimetype or DEFAULT_CONTENT_TYPE
        if handlers is not None and handlers.input_fn is not None:
            X = handlers.call("input_fn", read_body(request, settings.max_payload_bytes), content_type)
        else:
            decoder = decoder_for(content_type)
            check_content_encoding(request)
            X = decoder(read_body(request, settings.max_payload_bytes), n_features)
        if handlers is not None and handlers.predict_fn is not None:
            predictions = handlers.call("predict_fn", X, model)
        else:
            assert predictor is not None
            predictions = predictor.predict(X, output)
        if user_output:
            assert handlers is not None
            result = handlers.call("output_fn", predictions, accept)
            payload, mimetype = result if isinstance(result, tuple) else (result, accept)
            response = Response(payload, mimetype=mimetype)
        else:
            response = Response(ENCODERS[accept](np.asarray(predictions), output), mimetype=accept)
        if not request.mimetype:
            response.headers[ASSUMED_HEADER] = DEFAULT_CONTENT_TYPE
        return response

    # Every error answer first reads what is left of the body (406, 415 and 404 are decided before it is
    # read): closing on unread input resets the connection, and the client gets a broken pipe, not the JSON.
    drain_cap = 4 * settings.max_payload_bytes

    @app.errorhandler(HttpError)
    def refused(exc: HttpError) -> Response:
        log.info("refused (%d): %s", exc.status, exc.message)
        _drain(request, drain_cap)
        return _error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_exception(exc: HTTPException) -> Response:
        status = exc.code or 500
        _drain(request, drain_cap)
        if status == 413:
            message = f"the request body is larger than {settings.max_payload_mb:g} MB (SAGEMAKER_MAX_PAYLOAD_IN_MB)"
        elif status in (404, 405):
            message = f"{exc.name}: {request.method} {request.path} is not served here"
        else:
            message = str(exc.name)
        return _error(status, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        _drain(request, drain_cap)
        return _error(500, "internal error while predicting; the server log has the details")

    return app
