#!/usr/bin/python3
"""tinytorch_serve against hostile and careless clients (ctest serve.limits): bytes that are not
UTF-8, oversized request lines and headers, header floods, bad and oversized Content-Length,
chunked bodies past the limit, slow clients, methods a path does not take, inputs the model
cannot compute with, models that must not load, and SIGTERM with more clients than threads.
Every client error must be a 4xx JSON body, and the server must keep serving."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from serve_client import check, failures, is_json_error, raw, read_response, request, rss_kib
import serve_client

args, expected, model = serve_client.prepare()
row = expected["inputs"][0]
good_body = json.dumps({"inputs": [row]}).encode()


def start(path, *extra):
    return serve_client.start(args.server, os.path.join(args.workdir, path), *extra)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=20)
    return code, proc.stdout.read()


def post(path, body, extra_headers=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: t\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n" + extra_headers + b"\r\n" + body)


def flood(base, head, block, limit_bytes):
    """Sends `head`, then `block` again and again (at most limit_bytes) while another thread
    waits for the response; returns (status, body, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", serve_client.port_of(base)), timeout=10)
    answer = []
    reader = threading.Thread(target=lambda: answer.append(read_response(sock, 10)))
    reader.start()
    sent = 0
    try:
        sock.sendall(head)
        while sent < limit_bytes and reader.is_alive():
            sock.sendall(block)
            sent += len(block)
    except OSError:
        pass
    reader.join()
    sock.close()
    return answer[0][0], answer[0][1], sent


# ── one server, many bad requests ──
proc, base = start("model.ttm", "--max-body-bytes", "4096", "--receive-timeout-ms", "2000",
                   "--threads", "64", "--batch-window-ms", "1")

status, text, _ = request(base, "/%ff")  # decoding the body as UTF-8 raises if it is not
check(status == 404 and "\ufffd" in json.loads(text)["error"],
      f"GET /%ff: 404 whose JSON is valid UTF-8, the byte replaced (got {status})")
check(request(base, "/healthz")[0] == 200, "still serving after GET /%ff")

status, text, _ = request(base, "/v1/predict", json.dumps({"inputs": [["é" * 40] * 12]}))
check(status == 400 and "inputs[0][0]" in json.loads(text)["error"],
      f"a non-ASCII string value: 400 naming inputs[0][0] (got {status})")

for method in ["PATCH", "OPTIONS", "PUT", "DELETE"]:
    status, text, headers = request(base, "/v1/predict", b"{}", method=method)
    check(status == 405 and headers.get("Allow") == "POST" and is_json_error(text),
          f"{method} /v1/predict: 405, Allow: POST (got {status}, {headers.get('Allow')})")

status, text, _ = request(base, "/v1/predict", json.dumps({"inputs": [expected["overflow_row"]]}))
check(status == 422 and "not finite" in text,
      f"a row whose outputs overflow: 422 naming non-finite outputs, no label (got {status})")

request(base, "/metrics")
status, text, _ = request(base, "/metrics")
check('tinytorch_requests_total{path="/metrics",code="200"} 2' in text and 'code="-1"' not in text,
      "/metrics: each scrape counts as code 200 (never -1)")

status, text = raw(base, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
check(status == 414 and is_json_error(text), f"a 9000-byte request line: 414 (got {status})")
many = b"".join(b"X-%d: 1\r\n" % i for i in range(150))
status, text = raw(base, b"GET /healthz HTTP/1.1\r\n" + many + b"\r\n")
check(status == 431 and "header lines" in text, f"150 header lines: 431 (got {status})")
status, text = raw(base, b"GET /healthz HTTP/1.1\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n")
check(status == 431, f"a 9000-byte header line: 431 (got {status})")
wide = b"".join(b"X-%d: %s\r\n" % (i, b"a" * 1000) for i in range(40))
status, text = raw(base, b"GET /healthz HTTP/1.1\r\n" + wide + b"\r\n")
check(status == 431 and "in all" in text, f"40 KB of headers in all: 431 (got {status})")

rss_before = rss_kib(proc)
status, text, sent = flood(base, b"GET /healthz HTTP/1.1\r\n", b"X-Flood: " + b"a" * 80 + b"\r\n",
                           200 << 20)
grown = rss_kib(proc) - rss_before
check(status == 431 and sent < (200 << 20) and grown < 16 << 10,
      f"a header flood: 431 long before 200 MiB, server grew {grown} KiB (sent {sent >> 10} KiB)")

for length in [b"-1", b"99999999999999999999", b"12abc", b"1e3"]:
    status, text = raw(base, b"POST /v1/predict HTTP/1.1\r\nHost: t\r\nContent-Length: " + length
                       + b"\r\n\r\n{}")
    check(status == 400 and "Content-Length" in text,
          f"Content-Length {length.decode()}: 400 (got {status})")
status, text = raw(base, b"POST /v1/predict HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
check(status == 413 and is_json_error(text),
      f"Content-Length over --max-body-bytes: 413 before the body is sent (got {status})")
# (the last chunk, "0\r\n\r\n", is never sent: an answer cannot have waited for it)
status, text, _ = flood(base, b"POST /v1/predict HTTP/1.1\r\nHost: t\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n",
                        b"3e8\r\n" + b" " * 1000 + b"\r\n", 1 << 20)
check(status == 413 and is_json_error(text),
      f"a chunked body past --max-body-bytes: 413 before its end (got {status})")
status, text = raw(base, b"POST /v1/predict HTTP/1.1\r\nHost: t\r\n\r\n")
check(status == 411 and is_json_error(text), f"POST without a length: 411 (got {status})")
status, text = raw(base, post(b"/v1/predict", b"\x1f\x8b", b"Content-Encoding: gzip\r\n"))
check(status == 415 and is_json_error(text), f"a gzip body: 415 (got {status})")
status, text = raw(base, b"GET /healthz HTTP/1.1\nHost: t\n\n")
check(status == 400 and "CRLF" in text, f"bare LF line ends: 400 (got {status})")
with socket.create_connection(("127.0.0.1", serve_client.port_of(base))) as s:
    s.sendall(b"GET /healthz HTTP/1.1 extra\r\nHost: t\r\n\r\n" + post(b"/v1/predict", good_body)
              + post(b"/v1/predict", b"{}"))
    answers = [read_response(s)[0] for _ in range(3)]
check(answers == [400, 200, 400],
      f"one connection, three pipelined requests (bad request line, good, bad JSON): each "
      f"answered in turn ({answers})")
ss = subprocess.run(["ss", "-ltnH", f"sport = :{serve_client.port_of(base)}"],
                    capture_output=True, text=True)
if ss.returncode == 0 and ss.stdout.split():
    backlog = int(ss.stdout.split()[2])  # a listening socket's Send-Q is its backlog
    check(backlog >= 128, f"the listen backlog holds bursts: {backlog} connections")

# Slow clients: 40 connections that stop after half a head, one that sends a byte every 0.1 s.
stalled = []
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", serve_client.port_of(base)))
    s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: t\r\n")
    stalled.append(s)
dribble_result = []


def dribble():
    s = socket.create_connection(("127.0.0.1", serve_client.port_of(base)))
    t0 = time.monotonic()
    try:
        for byte in post(b"/v1/predict", good_body):
            s.send(bytes([byte]))
            time.sleep(0.1)
    except OSError:
        pass
    dribble_result.append((read_response(s, 5)[0], time.monotonic() - t0))
    s.close()


def still_open(s):
    """Nothing received yet: the server has neither answered nor closed the connection."""
    s.setblocking(False)
    try:
        s.recv(1, socket.MSG_PEEK)  # bytes, or b"" for a close: either way not open and silent
        return False
    except BlockingIOError:
        return True
    finally:
        s.setblocking(True)


dribbler = threading.Thread(target=dribble)
dribbler.start()
time.sleep(0.2)
status, _, _ = request(base, "/v1/predict", good_body, timeout=5)
check(status == 200 and all(still_open(s) for s in stalled),
      "41 slow connections held open: a real request is answered meanwhile")
statuses = [read_response(s, 5)[0] for s in stalled]
for s in stalled:
    s.close()
check(statuses == [408] * 40, f"40 stalled heads: 408 at --receive-timeout-ms ({statuses[:3]}...)")
dribbler.join()
full_time = len(post(b"/v1/predict", good_body)) * 0.1
check(dribble_result and dribble_result[0][0] == 408 and dribble_result[0][1] < full_time,
      f"one byte per 0.1 s: 408 before it could finish ({dribble_result}, {full_time:.0f} s)")
check(request(base, "/healthz")[0] == 200, "still serving after every attack")
code, log = stop(proc)
check(code == 0, f"SIGTERM: exit 0 (got {code})")

# ── options and models the server refuses at startup ──
def refused_start(path, *extra):
    r = subprocess.run([args.server, os.path.join(args.workdir, path), "--port", "0", *extra],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stderr


code, err = refused_start("model.ttm", "--batch-window-ms", "50", "--timeout-ms", "20")
check(code == 2 and "--batch-window-ms" in err and "--timeout-ms" in err,
      f"--batch-window-ms longer than --timeout-ms: refused at startup ({code})")
code, err = refused_start("nan.ttm")
check(code == 1 and "non-finite" in err, f"a model with a NaN weight: refused at load ({code})")
code, err = refused_start("bad_drift.ttm")
check(code == 1 and "13 features" in err and "12 values" in err,
      f"drift statistics of the wrong feature count: refused at load ({code})")

# ── a GPT: a context longer than block_size ──
proc, base = start("gpt.ttm")
status, text, _ = request(base, "/v1/predict", json.dumps({"inputs": [[1] * 9]}))
check(status == 400 and "block_size" in text, f"9 tokens for block_size 8: 400 (got {status})")
status, _, _ = request(base, "/v1/predict", json.dumps({"inputs": [[1] * 8]}))
check(status == 200, f"8 tokens: 200 (got {status})")
stop(proc)


# ── SIGTERM with more clients than threads ──
def drain_run(clients, *extra):
    """Starts the server with 2 threads and a 300 ms batch window, sends `clients` requests
    at once, SIGTERMs it while most wait for a thread; returns (statuses, exit code, log)."""
    proc, base = start("model.ttm", "--threads", "2", "--batch-window-ms", "300",
                       "--receive-timeout-ms", "1000", *extra)
    results = []

    def client():
        try:
            results.append(request(base, "/v1/predict", good_body, timeout=20)[0])
        except OSError as e:
            results.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    slow = socket.create_connection(("127.0.0.1", serve_client.port_of(base)))
    slow.sendall(b"POST /v1/predict HTTP/1.1\r\n")  # never finished
    time.sleep(0.2)  # every request sent and its connection accepted
    code, log = stop(proc)
    for t in threads:
        t.join()
    slow.close()
    counts = re.search(r"(\d+) requests answered, (\d+) refused with 503.*?(\d+) cut off", log)
    return results, code, [int(g) for g in counts.groups()] if counts else None


results, code, counts = drain_run(12)
check(results == [200] * 12 and code == 0,
      f"SIGTERM, 12 clients on 2 threads: all answered 200, exit 0 ({results}, {code})")
check(counts == [12, 0, 1], f"the log counts 12 answered, 0 refused, 1 cut off ({counts})")
results, code, counts = drain_run(12, "--drain-timeout-ms", "0")
ok = all(r in (200, 503) for r in results) and 503 in results
check(ok and code == 0, f"drain deadline 0: every request 200 or 503, never dropped ({results})")
check(counts is not None and counts[0] == results.count(200) and counts[1] == results.count(503),
      f"the log's answered/refused counts equal the clients' ({counts})")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
