"""remote:URL models against a real HTTP model server on 127.0.0.1 that misbehaves."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest
from beam_ml.errors import BeamMLError
from beam_ml.inference import parse_model_spec, preview_inference
from beam_ml.inference.frameworks import RemoteModel

from .data import FEATURES


class ModelServer:
    """A scikit-learn model behind POST /predict, and /down that always answers 503.

    On /predict: every third request gets 503, every seventh (not a third) 429 with
    Retry-After: 0, and the fifth answers after a delay longer than the client's timeout.
    """

    def __init__(self, model, slow_seconds: float) -> None:
        self.model = model
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.requests = 0
        self.failures = 0  # 503s, 429s and the slow answer: what the client must retry
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests += 1
                    n = server.requests
                if self.path == "/down":
                    return self.answer(503, {"error": "down for maintenance"})
                if n % 3 == 0:
                    with server.lock:
                        server.failures += 1
                    return self.answer(503, {"error": "busy"})
                if n % 7 == 0:
                    with server.lock:
                        server.failures += 1
                    return self.answer(429, {"error": "slow down"}, {"Retry-After": "0"})
                if n == 5:
                    with server.lock:
                        server.failures += 1
                    time.sleep(server.slow_seconds)
                rows = pd.DataFrame(body["instances"])[FEATURES]
                self.answer(200, {"predictions": server.model.predict(rows).tolist()})

            def answer(self, code, payload, headers=None):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self.lock:
            self.requests = self.failures = 0


@pytest.fixture(scope="module")
def server(models):
    served = ModelServer(models["lr"], slow_seconds=0.6)
    yield served
    served.httpd.shutdown()
    served.httpd.server_close()


def _spec(url: str, **options) -> RemoteModel:
    return RemoteModel(
        url=url,
        features=FEATURES,
        batch_rows=16,
        timeout=0.3,
        retries=4,
        backoff=0.01,
        max_backoff=0.05,
        throttle_delay=0.01,
        **options,
    )


def test_every_row_is_predicted_through_503s_429s_and_a_timeout(server, models):
    server.reset()
    data = models["clean"].head(150)
    start = time.perf_counter()
    result = preview_inference(data, _spec(server.url + "/predict"), sample=150, device="cpu")
    assert time.perf_counter() - start < 60  # bounded: a hang would fail here, not stall CI
    assert len(result.predictions) + len(result.errors) == 150
    assert len(result.errors) == 0
    expected = models["lr"].predict(data[FEATURES])
    assert list(result.predictions["prediction"]) == list(expected)
    m = result.metrics
    assert m["remote_failed_requests"] == server.failures >= 4
    assert m["remote_retries"] == server.failures  # each failure was retried, none gave up
    assert m["remote_requests"] == server.requests
    assert m["num_inferences"] == 150 and m["batch_size_max"] <= 16
    assert result.device == "cpu"


def test_rows_of_an_endpoint_that_stays_down_go_to_errors_with_the_last_error(server, models):
    server.reset()
    data = models["clean"].head(40)
    result = preview_inference(
        data,
        _spec(
            server.url + "/down",
        ),
        sample=40,
        device="cpu",
    )
    assert len(result.predictions) == 0 and len(result.errors) == 40
    assert set(result.errors["error_type"]) == {"RemoteUnavailable"}
    assert result.errors["error"].str.contains("after 5 attempts; last error: HTTP 503").all()
    m = result.metrics
    batches = int(np.ceil(40 / 16))
    assert m["remote_gave_up_batches"] == batches  # not bisected: one give-up per batch
    assert m["remote_requests"] == server.requests == batches * 5
    assert m["remote_retries"] == batches * 4


def test_remote_spec_is_parsed_and_checked():
    spec = parse_model_spec("remote:http://127.0.0.1:9/predict", features="a,b")
    assert spec.kind == "remote" and spec.features == ("a", "b") and spec.path is None
    assert "RemoteModel(url='http://127.0.0.1:9/predict'" in spec.to_code()
    with pytest.raises(BeamMLError, match="http:// or https:// URL"):
        RemoteModel(url="ftp://host/model")
    with pytest.raises(BeamMLError, match="options that a remote model takes"):
        parse_model_spec("remote:http://h/p", model_class="x:Y")
