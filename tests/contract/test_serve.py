"""The real `serve` process (gunicorn + Flask) on 127.0.0.1 with a model trained on the Adult data."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from tests.conftest import MlTree, Server, start_server

pytestmark = pytest.mark.adult

ROWS = 50


@pytest.fixture(scope="module")
def test_rows(adult_dir: Path) -> np.ndarray:
    data = np.loadtxt(adult_dir / "adult_data_processed_test.csv", delimiter=",", dtype=np.float32)
    return data[:ROWS, 1:]


@pytest.fixture(scope="module")
def booster(adult_model: MlTree) -> xgb.Booster:
    model = xgb.Booster()
    model.load_model(bytearray((adult_model.model_dir / "xgboost-model").read_bytes()))
    return model


def csv_body(rows: np.ndarray) -> bytes:
    return ("\n".join(",".join(f"{v:.9g}" for v in row) for row in rows) + "\n").encode()


def libsvm_body(rows: np.ndarray) -> bytes:
    """Every feature written, zeros too: in libsvm (as in XGBoost) an absent feature is a MISSING value."""
    return "".join("0 " + " ".join(f"{j}:{v:.9g}" for j, v in enumerate(row)) + "\n" for row in rows).encode()


def npy_body(rows: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, rows)
    return buffer.getvalue()


def npz_body(rows: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, rows=rows)
    return buffer.getvalue()


def csv_values(body: bytes) -> np.ndarray:
    return np.array([[float(v) for v in line.split(",")] for line in body.decode().splitlines()]).squeeze()


BODIES = {
    "text/csv": csv_body,
    "application/json": lambda rows: json.dumps({"instances": rows.tolist()}).encode(),
    "application/jsonlines": lambda rows: ("\n".join(json.dumps(r) for r in rows.tolist()) + "\n").encode(),
    "text/libsvm": libsvm_body,
    "application/x-npy": npy_body,
}


@pytest.mark.parametrize("content_type", list(BODIES))
def test_predictions_equal_in_process_predict(
    served_model: Server, booster: xgb.Booster, test_rows: np.ndarray, content_type: str
) -> None:
    response = served_model.invoke(BODIES[content_type](test_rows), content_type)
    assert response.status == 200, response.body
    assert response.headers["content-type"].startswith("text/csv")
    expected = booster.predict(xgb.DMatrix(test_rows))
    np.testing.assert_allclose(csv_values(response.body), expected, atol=1e-6)


def test_absent_libsvm_features_are_missing_values(
    served_model: Server, booster: xgb.Booster, test_rows: np.ndarray
) -> None:
    sparse = "".join("0 " + " ".join(f"{j}:{v:.9g}" for j, v in enumerate(row) if v != 0) + "\n" for row in test_rows)
    response = served_model.invoke(sparse.encode(), "text/libsvm")
    with_nan = np.where(test_rows == 0, np.nan, test_rows)
    np.testing.assert_allclose(csv_values(response.body), booster.predict(xgb.DMatrix(with_nan)), atol=1e-6)


def test_json_bare_list_and_aws_record_forms(served_model: Server, booster: xgb.Booster, test_rows: np.ndarray) -> None:
    expected = booster.predict(xgb.DMatrix(test_rows[:3]))
    for body in (test_rows[:3].tolist(), {"instances": [{"features": r} for r in test_rows[:3].tolist()]}):
        response = served_model.invoke(json.dumps(body).encode(), "application/json", Accept="application/json")
        assert response.status == 200, response.body
        scores = [p["score"] for p in response.json()["predictions"]]  # type: ignore[index]
        np.testing.assert_allclose(scores, expected, atol=1e-6)


def test_jsonlines_response_has_one_object_per_row(served_model: Server, test_rows: np.ndarray) -> None:
    response = served_model.invoke(csv_body(test_rows), Accept="application/jsonlines")
    lines = response.body.decode().splitlines()
    assert response.status == 200 and len(lines) == ROWS
    assert set(json.loads(lines[0])) == {"score"}


def test_every_output_kind(
    served_model: Server, booster: xgb.Booster, adult_model: MlTree, test_rows: np.ndarray
) -> None:
    body = csv_body(test_rows)
    dmatrix = xgb.DMatrix(test_rows)
    prob = booster.predict(dmatrix)
    margin = booster.predict(dmatrix, output_margin=True)
    threshold = adult_model.manifest()["threshold"]["value"]  # type: ignore[index]

    def get(output: str) -> np.ndarray:
        response = served_model.invoke(body, X_Amzn_SageMaker_Custom_Attributes=f"output={output}")
        assert response.status == 200, (output, response.body)
        return csv_values(response.body)

    np.testing.assert_allclose(get("probability"), prob, atol=1e-6)
    np.testing.assert_array_equal(get("predicted_label"), (prob >= threshold).astype(int))
    probabilities = get("probabilities")
    assert probabilities.shape == (ROWS, 2)
    np.testing.assert_allclose(probabilities[:, 1], prob, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(get("raw_score"), margin, atol=1e-5)
    contributions = get("contributions")
    assert contributions.shape == (ROWS, test_rows.shape[1] + 1)  # one per feature, bias last
    np.testing.assert_allclose(contributions.sum(axis=1), margin, atol=1e-4)


def test_predicted_label_uses_the_manifest_threshold_not_one_half(
    served_model: Server, booster: xgb.Booster, adult_model: MlTree, test_rows: np.ndarray
) -> None:
    threshold = adult_model.manifest()["threshold"]["value"]  # type: ignore[index]
    assert threshold != 0.5
    prob = booster.predict(xgb.DMatrix(test_rows))
    between = test_rows[(prob - 0.5) * (prob - threshold) < 0]
    if len(between) == 0:
        pytest.skip("no test row lies between 0.5 and the chosen threshold")
    response = served_model.invoke(csv_body(between), X_Amzn_SageMaker_Custom_Attributes="output=predicted_label")
    expected = (booster.predict(xgb.DMatrix(between)) >= threshold).astype(int)
    np.testing.assert_array_equal(np.atleast_1d(csv_values(response.body)), expected)


def test_batch_output_has_one_line_per_input_line_in_order(
    served_model: Server, booster: xgb.Booster, adult_dir: Path
) -> None:
    data = np.loadtxt(adult_dir / "adult_data_processed_test.csv", delimiter=",", dtype=np.float32)[:, 1:]
    response = served_model.invoke(csv_body(data))
    lines = response.body.decode().splitlines()
    assert response.status == 200 and len(lines) == len(data) == 5047
    np.testing.assert_allclose([float(v) for v in lines], booster.predict(xgb.DMatrix(data)), atol=1e-6)


def test_missing_values_are_accepted(served_model: Server, test_rows: np.ndarray) -> None:
    row = ",".join(f"{v:g}" for v in test_rows[0]).split(",")
    row[3] = ""
    row[5] = "nan"
    response = served_model.invoke(",".join(row).encode())
    assert response.status == 200 and 0 <= float(response.body) <= 1


def test_missing_content_type_is_read_as_csv_and_says_so(served_model: Server, test_rows: np.ndarray) -> None:
    response = served_model.invoke(csv_body(test_rows[:1]), content_type=None)
    assert response.status == 200
    assert response.headers["x-xgb-byoc-assumed-content-type"] == "text/csv"


def row_text(rows: np.ndarray, drop: int = 0, add: int = 0, third: str | None = None) -> str:
    values = [f"{v:g}" for v in rows[0]]
    if third is not None:
        values[2] = third
    values = values[: len(values) - drop] + ["1"] * add
    return ",".join(values)


BAD = [
    (
        "12 features (one too few)",
        lambda r: row_text(r, drop=1).encode(),
        "text/csv",
        {},
        400,
        "each row needs 13 features",
    ),
    ("14 features (one too many)", lambda r: row_text(r, add=1).encode(), "text/csv", {}, 400, "this request has 14"),
    (
        "non-numeric cell",
        lambda r: row_text(r, third="forty").encode(),
        "text/csv",
        {},
        400,
        "line 1, column 3: 'forty' is not a number",
    ),
    (
        "ragged rows",
        lambda r: (row_text(r) + "\n" + row_text(r, drop=2)).encode(),
        "text/csv",
        {},
        400,
        "line 2 has 11 values but line 1 has 13",
    ),
    ("empty body", lambda r: b"", "text/csv", {}, 400, "the request body is empty"),
    ("blank line", lambda r: (row_text(r) + "\n\n" + row_text(r)).encode(), "text/csv", {}, 400, "line 2 is blank"),
    ("infinite value", lambda r: row_text(r, third="inf").encode(), "text/csv", {}, 400, "row 1, column 3 is infinite"),
    (
        "value beyond float32",
        lambda r: row_text(r, third="1e39").encode(),
        "text/csv",
        {},
        400,
        "row 1, column 3 is infinite or beyond float32's range (over 3.4e38 in magnitude)",
    ),
    (
        "unsupported content type",
        lambda r: b"<x/>",
        "application/xml",
        {},
        415,
        "Content-Type 'application/xml' is not supported",
    ),
    (
        "compressed body",
        lambda r: gzip.compress(row_text(r).encode()),
        "text/csv",
        {"Content-Encoding": "gzip"},
        415,
        "Content-Encoding 'gzip' is not supported; send the body uncompressed",
    ),
    (
        "unsupported accept",
        lambda r: row_text(r).encode(),
        "text/csv",
        {"Accept": "text/html"},
        406,
        "Accept 'text/html' is not supported",
    ),
    (
        "accept decided before the body is read",
        lambda r: b"garbage",
        "text/csv",
        {"Accept": "image/png"},
        406,
        "Accept 'image/png'",
    ),
    ("malformed JSON", lambda r: b'{"instances": [[1, 2,', "application/json", {}, 400, "is not valid JSON"),
    ("JSON without instances", lambda r: b'{"rows": [[1]]}', "application/json", {}, 400, 'needs an "instances" list'),
    (
        "JSON ragged rows",
        lambda r: json.dumps([r[0].tolist(), r[0].tolist()[:5]]).encode(),
        "application/json",
        {},
        400,
        "row 2 has 5 values but row 1 has 13",
    ),
    (
        "JSON string cell",
        lambda r: json.dumps([["x"] * 13]).encode(),
        "application/json",
        {},
        400,
        'row 1, column 1: "x" is not a number',
    ),
    (
        "json boolean",  # numpy.array alone would read it as 1.0 (and refuse it only beside a bad cell)
        lambda r: json.dumps({"instances": [[*r[0, :2].tolist(), True, *r[0, 3:].tolist()]]}).encode(),
        "application/json",
        {},
        400,
        "row 1, column 3: true is not a number (send 1 or 0)",
    ),
    (
        "libsvm value beyond float32",
        lambda r: b"0 0:1 3:-1e39\n",
        "text/libsvm",
        {},
        400,
        "the libsvm body holds an infinite value or one beyond float32's range",
    ),
    (
        "json value beyond float32",
        lambda r: json.dumps({"instances": [[*r[0, :2].tolist(), 1e39, *r[0, 3:].tolist()]]}).encode(),
        "application/json",
        {},
        400,
        "row 1, column 3 is infinite or beyond float32's range",
    ),
    (
        "libsvm index beyond the model",
        lambda r: b"0 20:1\n",
        "text/libsvm",
        {},
        400,
        "feature index 20 is out of range for 13 features",
    ),
    (
        "npy with objects",
        lambda r: npy_body(np.array([[{"a": 1}]], dtype=object)),
        "application/x-npy",
        {},
        400,
        "not a NumPy .npy array without objects",
    ),
    (
        "npy of strings",
        lambda r: npy_body(np.array([["a", "b"]])),
        "application/x-npy",
        {},
        400,
        "real numbers, not <U1",
    ),
    ("npy complex", lambda r: npy_body(r.astype(np.complex64)), "application/x-npy", {}, 400, "not complex64"),
    ("npz archive", npz_body, "application/x-npy", {}, 400, "the body is a .npz archive"),
    (
        "unknown output",
        lambda r: row_text(r).encode(),
        "text/csv",
        {"X-Amzn-SageMaker-Custom-Attributes": "output=everything"},
        400,
        "output='everything' is not one of",
    ),
    ("payload over the limit", lambda r: b"1," * (7 * 1024 * 1024 // 2), "text/csv", {}, 413, "larger than 6 MB"),
]


@pytest.mark.parametrize(("name", "make", "content_type", "headers", "status", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_a_4xx_with_a_one_line_json_error(
    served_model: Server,
    test_rows: np.ndarray,
    name: str,
    make,
    content_type: str,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    response = served_model.request("POST", "/invocations", make(test_rows), {"Content-Type": content_type, **headers})
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/json"
    text = response.body.decode()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert message in response.json()["error"]  # type: ignore[index]
    assert "Traceback" not in text


def raw_exchange(port: int, head: str, body: bytes) -> tuple[int, bytes]:
    """Send a request as bytes (head and body may disagree on its length), half-close, read to the close."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(1 << 16):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def post_head(extra: str) -> str:
    return f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n{extra}\r\n"


def test_a_body_cut_short_of_its_content_length_is_refused(served_model: Server, test_rows: np.ndarray) -> None:
    body = csv_body(test_rows[:2])
    whole = served_model.invoke(body)
    assert whole.status == 200 and whole.body.count(b"\n") == 2
    # cut by one byte: what arrives is a valid body on its own (a value shorter, or an empty cell read as
    # missing), so only the Content-Length tells that it is not the body that was sent
    cut = body.rstrip(b"\n")[:-1]
    assert served_model.invoke(cut).status == 200
    status, answer = raw_exchange(served_model.port, post_head(f"Content-Length: {len(body)}\r\n"), cut)
    assert status == 400, answer
    assert json.loads(answer) == {
        "error": f"the body ended after {len(cut)} of the {len(body)} bytes its Content-Length announced; send it whole"
    }


def chunked(body: bytes, size: int) -> bytes:
    """``body`` in chunks of ``size`` bytes, without the last (zero-length) chunk."""
    return b"".join(
        f"{len(body[i : i + size]):x}\r\n".encode() + body[i : i + size] + b"\r\n" for i in range(0, len(body), size)
    )


CHUNKED = post_head("Transfer-Encoding: chunked\r\n")


def test_a_chunked_body_is_read_whole_and_one_cut_short_is_refused(served_model: Server, test_rows: np.ndarray) -> None:
    body = csv_body(test_rows[:3])
    status, answer = raw_exchange(served_model.port, CHUNKED, chunked(body, 20) + b"0\r\n\r\n")
    assert status == 200, answer
    assert answer == served_model.invoke(body).body
    status, answer = raw_exchange(served_model.port, CHUNKED, chunked(body, 20))  # no last chunk
    assert status == 400, answer
    assert json.loads(answer) == {"error": "the chunked body ended before its last chunk; send it whole"}


@pytest.mark.parametrize(
    ("framing", "reason"),
    [(b"zz\r\n1,2\r\n0\r\n\r\n", "Invalid chunk size"), (b"3\r\n1,2XX0\r\n\r\n", "Invalid chunk terminator")],
    ids=["chunk size not hex", "chunk data not ended by CRLF"],
)
def test_broken_chunked_framing_is_a_400_not_a_500(served_model: Server, framing: bytes, reason: str) -> None:
    status, answer = raw_exchange(served_model.port, CHUNKED, framing)
    assert status == 400, answer
    message = json.loads(answer)["error"]
    assert message.startswith("the chunked body is malformed (") and reason in message


def test_a_chunked_body_over_the_limit_is_a_413_not_cut_at_the_limit(
    served_model: Server, test_rows: np.ndarray
) -> None:
    """A chunked body announces no length: one over 6 MB used to be read up to 6 MB, and the rows past
    it dropped without a word (or a row cut in two refused as ragged)."""
    body = csv_body(test_rows[:1]) * (7 * 1024 * 1024 // len(csv_body(test_rows[:1])))
    status, answer = raw_exchange(served_model.port, CHUNKED, chunked(body, 1 << 16) + b"0\r\n\r\n")
    assert status == 413, answer[:300]
    assert json.loads(answer) == {"error": "the request body is larger than 6 MB (SAGEMAKER_MAX_PAYLOAD_IN_MB)"}


@pytest.mark.parametrize(
    ("path", "headers", "status", "message"),
    [
        ("/invocations", "Content-Type: text/csv\r\nAccept: text/html\r\n", 406, "Accept 'text/html' is not supported"),
        ("/invocations", "Content-Type: application/xml\r\n", 415, "Content-Type 'application/xml' is not supported"),
        ("/predict", "Content-Type: text/csv\r\n", 404, "POST /predict is not served here"),
    ],
    ids=["406", "415", "404"],
)
def test_a_refusal_decided_before_the_body_is_read_still_reaches_a_client_sending_5_mb(
    served_model: Server, test_rows: np.ndarray, path: str, headers: str, status: int, message: str
) -> None:
    """The server reads what is left of the body before it answers: closing on 5 MB of unread input reset
    the connection, and the client got a broken pipe instead of the JSON error."""
    row = csv_body(test_rows[:1])
    body = row * (5 * 1024 * 1024 // len(row))
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
    got, answer = raw_exchange(served_model.port, head, body)
    assert got == status, answer[:300]
    assert message in json.loads(answer)["error"]


def test_content_encoding_identity_is_a_plain_body(served_model: Server, test_rows: np.ndarray) -> None:
    body = csv_body(test_rows[:2])
    assert served_model.invoke(body, Content_Encoding="identity").body == served_model.invoke(body).body


def test_unknown_path_is_a_json_404(served_model: Server) -> None:
    response = served_model.request("GET", "/predict")
    assert response.status == 404 and "error" in response.json()  # type: ignore[operator]


def test_ping_is_empty_200(served_model: Server) -> None:
    response = served_model.request("GET", "/ping")
    assert response.status == 200 and response.body == b""


def test_execution_parameters_for_batch_transform(served_model: Server) -> None:
    response = served_model.request("GET", "/execution-parameters")
    assert response.json() == {"MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}


# ------------------------------------------------------------------------------ other model folders


def copy_model(adult_model: MlTree, tmp_path: Path) -> Path:
    base = tmp_path / "opt_ml"
    shutil.copytree(adult_model.model_dir, base / "model")
    return base


def test_pickled_model_is_refused_without_opt_in(adult_model: MlTree, booster: xgb.Booster, tmp_path: Path) -> None:
    base = tmp_path / "opt_ml"
    (base / "model").mkdir(parents=True)
    (base / "model" / "xgboost-model").write_bytes(pickle.dumps(booster))
    server = start_server(base, tmp_path / "serve.log", wait=False)
    try:
        assert server.process.wait(timeout=60) == 1
    finally:
        server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "xgboost-model is a Python pickle" in log and "XGB_BYOC_ALLOW_PICKLE=true" in log


def test_pickled_model_serves_with_opt_in(booster: xgb.Booster, tmp_path: Path, test_rows: np.ndarray) -> None:
    base = tmp_path / "opt_ml"
    (base / "model").mkdir(parents=True)
    (base / "model" / "model.pkl").write_bytes(pickle.dumps(booster))
    server = start_server(base, tmp_path / "serve.log", env={"XGB_BYOC_ALLOW_PICKLE": "true"})
    try:
        response = server.invoke(csv_body(test_rows))
    finally:
        server.stop()
    assert response.status == 200
    np.testing.assert_allclose(csv_values(response.body), booster.predict(xgb.DMatrix(test_rows)), atol=1e-6)


def test_script_mode_json_model_serves_as_is(booster: xgb.Booster, tmp_path: Path, test_rows: np.ndarray) -> None:
    base = tmp_path / "opt_ml"
    (base / "model").mkdir(parents=True)
    booster.save_model(str(base / "model" / "model.json"))
    server = start_server(base, tmp_path / "serve.log", env={"SAGEMAKER_MODEL_SERVER_WORKERS": "1"})
    try:
        response = server.invoke(csv_body(test_rows))
    finally:
        server.stop()
    np.testing.assert_allclose(csv_values(response.body), booster.predict(xgb.DMatrix(test_rows)), atol=1e-6)


def test_corrupt_model_stops_the_server_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "opt_ml" / "model").mkdir(parents=True)
    (tmp_path / "opt_ml" / "model" / "xgboost-model").write_bytes(b"{not a model")
    server = start_server(tmp_path / "opt_ml", tmp_path / "serve.log", wait=False)
    try:
        assert server.process.wait(timeout=60) == 3
    finally:
        server.stop()
    assert "cannot start: xgboost-model is not an XGBoost model" in (tmp_path / "serve.log").read_text()


def test_missing_model_fails_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "opt_ml" / "model").mkdir(parents=True)
    server = start_server(tmp_path / "opt_ml", tmp_path / "serve.log", wait=False)
    try:
        assert server.process.wait(timeout=60) == 1
    finally:
        server.stop()
    assert "cannot start: no model in" in (tmp_path / "serve.log").read_text()


def test_ensemble_model_serves_the_average(adult_dir: Path, tmp_path: Path, test_rows: np.ndarray) -> None:
    from tests.conftest import LAB_BUILTIN_HP
    from xgboost_byoc.artifacts import load_model

    tree = MlTree(tmp_path / "opt_ml")
    tree.hyperparameters({**LAB_BUILTIN_HP, "num_round": "30", "kfold": "3", "kfold_model": "ensemble"})
    tree.channel("train", [adult_dir / "adult_data_processed_train.csv"])
    assert tree.run_train().returncode == 0
    server = start_server(tree.base, tmp_path / "serve.log", env={"SAGEMAKER_MODEL_SERVER_WORKERS": "1"})
    try:
        response = server.invoke(csv_body(test_rows), X_Amzn_SageMaker_Custom_Attributes="output=raw_score")
    finally:
        server.stop()
    boosters = load_model(tree.model_dir).boosters
    expected = np.mean([b.predict(xgb.DMatrix(test_rows), output_margin=True) for b in boosters], axis=0)
    np.testing.assert_allclose(csv_values(response.body), expected, atol=1e-5)


INFERENCE_PY = """
import json

import numpy as np
import xgboost as xgb


def input_fn(body, content_type):
    assert content_type == "application/json"
    return np.asarray(json.loads(body)["rows"], dtype=np.float32)


def predict_fn(data, model):
    return model.predict(xgb.DMatrix(data)) * 100


def output_fn(prediction, accept):
    return json.dumps({"percent": [round(float(p), 3) for p in prediction]}), "application/vnd.percent+json"
"""


def test_inference_py_hooks_replace_the_servers_steps(
    booster: xgb.Booster, tmp_path: Path, test_rows: np.ndarray
) -> None:
    base = tmp_path / "opt_ml"
    (base / "model" / "code").mkdir(parents=True)
    booster.save_model(str(base / "model" / "xgboost-model.ubj"))
    (base / "model" / "code" / "inference.py").write_text(INFERENCE_PY)
    server = start_server(base, tmp_path / "serve.log", env={"SAGEMAKER_MODEL_SERVER_WORKERS": "1"})
    try:
        response = server.invoke(json.dumps({"rows": test_rows[:3].tolist()}).encode(), "application/json")
        broken = server.invoke(b'{"no rows": 1}', "application/json")
    finally:
        server.stop()
    assert response.status == 200 and response.headers["content-type"] == "application/vnd.percent+json"
    expected = booster.predict(xgb.DMatrix(test_rows[:3])) * 100
    np.testing.assert_allclose(response.json()["percent"], expected, atol=1e-3)  # type: ignore[index]
    assert broken.status == 500 and broken.json() == {"error": "inference.py input_fn failed: KeyError: 'rows'"}


def test_inference_py_model_fn_loads_its_own_model(booster: xgb.Booster, tmp_path: Path, test_rows: np.ndarray) -> None:
    base = tmp_path / "opt_ml"
    (base / "model" / "code").mkdir(parents=True)
    booster.save_model(str(base / "model" / "custom-name.bin.json"))
    (base / "model" / "code" / "inference.py").write_text(
        "import os\nimport xgboost as xgb\n\n\ndef model_fn(model_dir):\n"
        "    booster = xgb.Booster()\n    booster.load_model(os.path.join(model_dir, 'custom-name.bin.json'))\n    return booster\n"
    )
    server = start_server(base, tmp_path / "serve.log", env={"SAGEMAKER_MODEL_SERVER_WORKERS": "1"})
    try:
        response = server.invoke(csv_body(test_rows), X_Amzn_SageMaker_Custom_Attributes="output=raw_score")
    finally:
        server.stop()
    assert response.status == 200
    np.testing.assert_allclose(
        csv_values(response.body), booster.predict(xgb.DMatrix(test_rows), output_margin=True), atol=1e-5
    )
