"""What the server tests share (tests/serve/test_serve*.py): starting tinytorch_serve on a free
port of 127.0.0.1, HTTP requests through urllib and as raw bytes, and a tally of checks.
Standard library only."""
import argparse
import atexit
import http.client
import json
import os
import socket
import subprocess
import urllib.error
import urllib.request
import weakref

failures = []
servers = []  # every server started, killed at exit if a test left it running


@atexit.register
def _kill_servers():
    for proc in servers:
        if proc.poll() is None:
            proc.kill()


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def start(server, model, *extra):
    """Starts the server with --port 0; returns (process, base URL)."""
    proc = subprocess.Popen([server, model, "--port", "0", *extra],
                            stdout=subprocess.PIPE, text=True)
    servers.append(proc)
    for line in proc.stdout:
        if line.startswith("listening on http://127.0.0.1:"):
            return proc, "http://127.0.0.1:" + line.strip().rsplit(":", 1)[1]
    raise SystemExit("the server did not start")


def port_of(base):
    return int(base.rsplit(":", 1)[1])


def request(base, path, body=None, method=None, headers=None, timeout=10):
    """(status, body text, headers); the body must be UTF-8 (decoding raises otherwise).
    (None, "", {}) when the connection closed without an answer."""
    data = body if isinstance(body, (bytes, type(None))) else body.encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError):
        return None, "", {}


def is_json_error(text):
    try:
        return "error" in json.loads(text)
    except ValueError:
        return False


# Bytes received past the end of a response, per socket: pipelined responses can arrive in one
# recv(), and the next read_response on that socket must start with them.
_leftover = weakref.WeakKeyDictionary()


def read_response(sock, timeout=10):
    """(status, body text) of the next response on `sock`, (None, "") if it closed without one."""
    sock.settimeout(timeout)
    data = _leftover.pop(sock, b"")
    try:
        while True:
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(body) >= length:
                    if len(body) > length:
                        _leftover[sock] = body[length:]
                    return int(head.split(b" ")[1]), body[:length].decode()
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return None, ""


def raw(base, data, timeout=10):
    """Sends `data` on a fresh connection and reads the response."""
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_response(s, timeout)


def rss_kib(proc):
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def prepare():
    """The server tests' common start: parses --server, --make-model and --workdir, writes the
    test models into the work folder; returns (args, the expected answers, the model's path)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--make-model", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    subprocess.run([args.make_model, args.workdir], check=True)
    with open(os.path.join(args.workdir, "expected.json")) as f:
        expected = json.load(f)
    return args, expected, os.path.join(args.workdir, "model.ttm")
