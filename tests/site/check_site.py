#!/usr/bin/python3
"""The course website in a real browser (ctest: site.browser, label site).

  check_site.py --tito build/release/bin/tito --out build/release/site \
                --screenshots build/release/site-screenshots

1. Runs `tito site --out OUT` (the repository is found from the working directory).
2. Parses every generated page (html.parser) and checks every internal href and src: the file
   exists and, for "#anchor", the target page has that id. Every heading of the text has an id
   and a "#" link to itself, and the pages show highlighted C++.
3. Loads every page in headless Chromium (Debian's `chromium`) and fails on console errors,
   uncaught exceptions and failed loads (a missing image or style sheet), on <pre> blocks that
   wrap, and on pages wider than a phone's screen (390 px: only code and tables may scroll).
4. Screenshots the contents page and chapter 05 at desktop (1280x900) and phone (390x844) widths
   into --screenshots and prints their paths (CI keeps them as artifacts).

How the browser is driven. Debian's Chromium 156 in --headless=new mode, with
--enable-logging=stderr --v=0, does print console messages ("INFO:CONSOLE:1] "text", source:
..."), but every level as INFO — console.error and console.log look the same — and a failed load
(an <img> whose file is missing) is not printed at all. So the script speaks the DevTools protocol
instead, over --remote-debugging-pipe (JSON messages ending in a NUL byte on file descriptors 3
and 4; Python's standard library is enough): Runtime.consoleAPICalled (type error/assert),
Runtime.exceptionThrown and Log.entryAdded (level error: "Failed to load resource:
net::ERR_FILE_NOT_FOUND") are the errors. One browser loads every page, which keeps the test to
seconds, and before the real pages it loads a page with a console.error and a missing image, and
fails if either goes unnoticed: the check cannot silently stop working with a later Chromium.

Exit status: 0 passed, 1 failed, 77 skipped (pandoc or chromium not installed; CI installs both).
Standard library only.
"""

import argparse
import base64
import html.parser
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

SKIP = 77
DESKTOP = (1280, 900)
PHONE = (390, 844)
SCREENSHOT_CHAPTER = "modules/05_autograd/index.html"


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


# ---- 1. static checks ---------------------------------------------------------------------------


class PageParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (tag, attribute, url)
        self.headings = []  # (tag, id, has a self link) inside <main>
        self._in_main = 0
        self._open_heading = None
        self.cpp_tokens = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        for attr in ("href", "src"):
            if attr in a and a[attr] is not None:
                self.links.append((tag, attr, a[attr]))
        if tag == "main":
            self._in_main += 1
        if self._in_main and tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._open_heading = [tag, a.get("id"), False]
        if self._open_heading and tag == "a" and "anchor" in (a.get("class") or "").split():
            if a.get("href") == "#" + (self._open_heading[1] or ""):
                self._open_heading[2] = True
        if tag == "code" and "cpp" in (a.get("class") or "").split():
            self.cpp_tokens += 1

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main -= 1
        if self._open_heading and tag == self._open_heading[0]:
            self.headings.append(tuple(self._open_heading))
            self._open_heading = None


def static_checks(out):
    pages = sorted(out.rglob("*.html"))
    parsed = {}
    for page in pages:
        parser = PageParser()
        parser.feed(page.read_text(encoding="utf-8"))
        parsed[page.resolve()] = parser
    problems = []
    links = 0
    for page, parser in parsed.items():
        rel = page.relative_to(out.resolve())
        for tag, attr, url in parser.links:
            split = urllib.parse.urlsplit(url)
            if split.scheme or url.startswith("//"):
                continue  # leaves the site (https:, mailto:)
            links += 1
            target = page if not split.path else (page.parent / urllib.parse.unquote(split.path))
            target = Path(os.path.normpath(target))
            if out.resolve() not in target.parents and target != out.resolve():
                problems.append(f"{rel}: <{tag} {attr}={url!r}> leaves the site folder")
                continue
            if not target.is_file():
                problems.append(f"{rel}: <{tag} {attr}={url!r}>: no file {target}")
                continue
            if split.fragment:
                ids = parsed.get(target)
                if ids is None:
                    problems.append(f"{rel}: <{tag} {attr}={url!r}>: #anchor into a non-page")
                elif urllib.parse.unquote(split.fragment) not in ids.ids:
                    problems.append(f"{rel}: <{tag} {attr}={url!r}>: no id "
                                    f"{split.fragment!r} in {target.relative_to(out.resolve())}")
        for tag, ident, linked in parser.headings:
            if not ident:
                problems.append(f"{rel}: a <{tag}> without an id")
            elif not linked:
                problems.append(f"{rel}: <{tag} id={ident!r}> has no '#' link to itself")
    # Chapter 05 shows the autograd graph of a real run, or says how to draw it.
    text = (out / SCREENSHOT_CHAPTER).read_text(encoding="utf-8")
    if ('src="../../runs/lab05/autograd_graph.svg"' not in text and
            "<code>./tito lab 05</code>" not in text):
        problems.append(f"{SCREENSHOT_CHAPTER}: neither the autograd graph of runs/lab05 nor how "
                        "to draw it")
    chapter = parsed.get((out / "modules/01_tensor/index.html").resolve())
    if chapter is None or chapter.cpp_tokens == 0:
        problems.append("modules/01_tensor/index.html: no highlighted C++ (<code class=cpp>)")
    return pages, links, problems


# ---- 2. the browser ------------------------------------------------------------------------------


class Browser:
    """Headless Chromium driven through the DevTools protocol over --remote-debugging-pipe."""

    def __init__(self, chromium, log_path):
        self.profile = tempfile.mkdtemp(prefix="tito-site-chromium-")
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()

        def child_fds():  # the browser reads commands on fd 3 and writes replies to fd 4
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--hide-scrollbars", "--mute-audio", "--allow-file-access-from-files",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            pass_fds=(3, 4), preexec_fn=child_fds)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.w, self.r = to_chrome_w, from_chrome_r
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.errors = []  # (page, text) collected from events
        self.page = "?"
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=self.session)

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a browser that does not close is killed
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)
        os.close(self.r)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.w, json.dumps(message).encode() + b"\0")
        return self.next_id

    def _read(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.r], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                fail("chromium closed the DevTools pipe (crashed?); see its log "
                     f"{self.log.name}")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(message)
        if "method" in message:
            self._event(message)
        return message

    def _event(self, message):
        method, params = message["method"], message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", "")))
                            for a in params.get("args", []))
            self.errors.append((self.page, f"console.{params['type']}: {text}"))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append((self.page, f"uncaught exception: {text}"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append((self.page, f"{entry.get('source')}: {entry.get('text')} "
                                           f"{entry.get('url', '')}".rstrip()))
        self.events.append(message)

    def call(self, method, params=None, session=None, timeout=30):
        ident = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message is None:
                fail(f"chromium did not answer {method} within {timeout}s")
            if message.get("id") == ident:
                if "error" in message:
                    fail(f"chromium: {method}: {message['error']}")
                return message.get("result", {})

    def wait_event(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method and event.get("sessionId") == self.session:
                    del self.events[: i + 1]
                    return event
            self.events.clear()
            if self._read(deadline) is None:
                return None

    def settle(self, seconds=0.05):
        """Reads what arrives for a moment (late console messages)."""
        deadline = time.monotonic() + seconds
        while self._read(deadline) is not None:
            pass

    def viewport(self, width, height, mobile):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
                  session=self.session)

    def load(self, path, label):
        self.page = label
        self.events.clear()
        result = self.call("Page.navigate", {"url": path.resolve().as_uri()}, session=self.session)
        if result.get("errorText"):
            self.errors.append((label, f"navigation failed: {result['errorText']}"))
            return
        if self.wait_event("Page.loadEventFired") is None:
            self.errors.append((label, "the page did not finish loading within 30 s"))
        self.settle()

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           session=self.session)
        if "exceptionDetails" in result:
            fail(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=self.session)
        path.write_bytes(base64.b64decode(data["data"]))


WRAPPING_PRE = """Array.from(document.querySelectorAll('pre, pre > code'))
  .filter(e => getComputedStyle(e).whiteSpace !== 'pre').length"""
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def browser_checks(chromium, out, pages, shots, work):
    browser = Browser(chromium, work / "chromium.log")
    problems = []
    try:
        # The control: a console.error and a missing image must both be caught.
        control = work / "control.html"
        control.write_text('<!DOCTYPE html><html><head><title>control</title></head><body>'
                           '<img src="no-such-figure.svg" alt="x">'
                           '<script>console.error("control-error")</script></body></html>')
        browser.viewport(*DESKTOP, mobile=False)
        browser.load(control, "control")
        texts = " ".join(text for _, text in browser.errors)
        if "control-error" not in texts or "no-such-figure.svg" not in texts:
            fail("the console-error check no longer notices a console.error and a missing image "
                 f"with this Chromium (it saw: {browser.errors!r}); fix check_site.py")
        browser.errors.clear()

        for size, mobile in ((DESKTOP, False), (PHONE, True)):
            browser.viewport(*size, mobile=mobile)
            for page in pages:
                label = f"{page.relative_to(out)} at {size[0]}x{size[1]}"
                browser.load(page, label)
                if browser.evaluate(WRAPPING_PRE):
                    problems.append(f"{label}: a <pre> block wraps its lines")
                if mobile:
                    overflow = browser.evaluate(OVERFLOW)
                    if overflow > 0:
                        problems.append(f"{label}: the page is {overflow}px wider than the "
                                        "screen (only code blocks and tables may scroll)")
        problems += [f"{page}: {text}" for page, text in browser.errors]

        shots.mkdir(parents=True, exist_ok=True)
        written = []
        for name, page in (("contents", out / "index.html"), ("chapter05", out / SCREENSHOT_CHAPTER)):
            for kind, size, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
                browser.viewport(*size, mobile=mobile)
                browser.load(page, f"screenshot of {page.name}")
                path = shots / f"{name}-{kind}-{size[0]}x{size[1]}.png"
                browser.screenshot(path)
                written.append(path)
    finally:
        browser.close()
    return problems, written


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tito", required=True, help="the tito program")
    parser.add_argument("--out", required=True, type=Path, help="folder for the site")
    parser.add_argument("--screenshots", required=True, type=Path, help="folder for the PNGs")
    args = parser.parse_args()

    missing = [name for name, found in (("pandoc", shutil.which("pandoc")),
                                        ("chromium", find_chromium())) if not found]
    if missing:
        print(f"SKIP: {' and '.join(missing)} not installed (Debian: sudo apt-get install -y "
              f"--no-install-recommends {' '.join(missing)}); the site test needs both")
        return SKIP
    chromium = find_chromium()

    for stale in args.screenshots.glob("*.png"):  # a skipped run must not leave old ones behind
        stale.unlink()
    start = time.monotonic()
    run = subprocess.run([args.tito, "site", "--out", str(args.out)], capture_output=True,
                         text=True, check=False)
    print(run.stdout, end="")
    print(run.stderr, end="", file=sys.stderr)
    if run.returncode != 0:
        fail(f"tito site exited with status {run.returncode}")
    if "warning" in run.stderr:
        fail("tito site warned about the Markdown sources (see above)")
    built = time.monotonic() - start

    out = args.out.resolve()
    for needed in ("index.html", "site.css", "readme.html", "modules/01_tensor/index.html",
                   SCREENSHOT_CHAPTER, "docs/LEARNER_GUIDE.html"):
        if not (out / needed).is_file():
            fail(f"tito site did not write {needed}")
    pages, links, problems = static_checks(out)
    if problems:
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        fail(f"{len(problems)} broken link(s) or heading(s) in the site")
    print(f"static checks: {len(pages)} pages, {links} internal links and images resolve")

    start_browser = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tito-site-check-") as work:
        problems, shots = browser_checks(chromium, out, pages, args.screenshots.resolve(),
                                         Path(work))
    if problems:
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        fail(f"{len(problems)} problem(s) in the browser")
    print(f"browser: {len(pages)} pages loaded at {DESKTOP[0]} and {PHONE[0]} px wide, no console "
          f"errors ({time.monotonic() - start_browser:.1f}s; tito site took {built:.1f}s)")
    print("screenshots:")
    for path in shots:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
