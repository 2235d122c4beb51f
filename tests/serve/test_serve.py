#!/usr/bin/python3
"""tinytorch_serve end to end (ctest serve.e2e): predictions equal in-process inference; every
error gets its status and a JSON {"error": ...}; bearer-token auth; SIGTERM with requests in
flight answers them all and exits 0. Standard library only (urllib, threads)."""
import json
import os
import signal
import sys
import threading

from serve_client import check, failures, is_json_error
import serve_client

args, expected, model = serve_client.prepare()


def start(*extra):
    return serve_client.start(args.server, model, *extra)


def request(*a, **k):
    return serve_client.request(*a, **k)[:2]


# ── predictions and errors ──
proc, base = start("--batch-window-ms", "5", "--max-batch", "8", "--max-body-bytes", "4096")
status, text = request(base, "/v1/predict", json.dumps({"inputs": expected["inputs"]}))
check(status == 200, "POST /v1/predict answers 200")
answer = json.loads(text)
worst = max(abs(a - b) for row_a, row_b in zip(answer["outputs"], expected["logits"])
            for a, b in zip(row_a, row_b))
check(worst <= 1e-5, f"served logits equal in-process forward (max diff {worst:.2e})")
check(answer["labels"][0] in ["north", "east", "south", "west"], "labels name the classes")
check(answer["model_version"] == expected["version"], "the answer names the model version")

row = expected["inputs"][0]
cases = [
    ("malformed JSON", "/v1/predict", '{"inputs": [[1, 2', None, 400),
    ("no inputs", "/v1/predict", '{"rows": []}', None, 400),
    ("short row", "/v1/predict", json.dumps({"inputs": [row[:5]]}), None, 400),
    ("string value", "/v1/predict", json.dumps({"inputs": [["a"] * 12]}), None, 400),
    ("too many rows", "/v1/predict", json.dumps({"inputs": [row] * 9}), None, 400),
    ("body too large", "/v1/predict", " " * 5000, None, 413),
    ("unknown path", "/v2/x", "{}", None, 404),
    ("wrong method", "/v1/predict", None, "GET", 405),
]
for what, path, body, method, want in cases:
    status, text = request(base, path, body, method)
    check(status == want and is_json_error(text), f"{what}: {want} with a JSON error (got {status})")
status, text = request(base, "/v1/predict", json.dumps({"inputs": [row]}))
check(status == 200, "still serving after the bad requests")
status, text = request(base, "/healthz")
check(status == 200 and json.loads(text)["status"] == "ok", "GET /healthz")
status, text = request(base, "/metrics")
check(status == 200 and 'tinytorch_requests_total{path="/v1/predict",code="400"}' in text
      and "tinytorch_request_duration_seconds_bucket" in text and "tinytorch_model_info" in text,
      "GET /metrics: counts by status, latency histogram, model info")
status, text = request(base, "/v1/monitor")
check(status == 200 and json.loads(text)["drift"]["samples"] >= 7, "GET /v1/monitor: drift samples")

# ── SIGTERM with requests in flight: a 300 ms window holds them in the queue ──
proc.terminate()
proc.wait(timeout=10)
proc, base = start("--batch-window-ms", "300", "--max-batch", "64")
results = []
def client():
    results.append(request(base, "/v1/predict", json.dumps({"inputs": [row]}))[0])
threads = [threading.Thread(target=client) for _ in range(6)]
for t in threads:
    t.start()
threading.Event().wait(0.1)  # the requests are read and queued, their window still open
proc.send_signal(signal.SIGTERM)
for t in threads:
    t.join(timeout=10)
code = proc.wait(timeout=10)
check(results == [200] * 6, f"SIGTERM: every in-flight request answered 200 ({results})")
check(code == 0, f"SIGTERM: exit status 0 (got {code})")

# ── bearer token ──
token_file = os.path.join(args.workdir, "token")
with open(token_file, "w") as f:
    f.write("s3cret-token\n")
proc, base = start("--token-file", token_file)
status, text = request(base, "/v1/predict", json.dumps({"inputs": [row]}))
check(status == 401 and is_json_error(text), "no token: 401 with a JSON error")
status, _ = request(base, "/v1/predict", json.dumps({"inputs": [row]}),
                    headers={"Authorization": "Bearer wrong"})
check(status == 401, "wrong token: 401")
status, _ = request(base, "/v1/predict", json.dumps({"inputs": [row]}),
                    headers={"Authorization": "Bearer s3cret-token"})
check(status == 200, "right token: 200")
check(request(base, "/healthz")[0] == 200, "/healthz needs no token")
proc.terminate()
proc.wait(timeout=10)

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
