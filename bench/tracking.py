#!/usr/bin/env python3
"""Tracking endpoints under load: the open pixel and click redirects against a trivial handler.

Loads the demo into a fresh SQLite data directory (the embedded default) with a known secret
key, signs pixel and click tokens for real sent messages and their campaigns' links (as the
sender does), starts the release `herald serve` (no background workers) and loads it with wrk
over loopback, DURATION seconds each, CONNECTIONS connections, 2 threads:

  ceiling  GET /livez            a trivial handler in the same server (no database)
  forged   GET /o/{token}        tokens whose signature does not verify: the pixel's request
                                 path alone (decode, HMAC, answer), nothing to record
  pixel    GET /o/{token}        random messages: verify, queue the hit, answer the GIF
  click    GET /c/{token}        random messages and links: verify, find the link, queue, 302

Prints requests per second, p99 latency and the ratio to the ceiling (goal >= 0.8), how many
hits a second the recorder wrote meanwhile, how many it dropped (queue full) and how long it
took to write the rest after the load stopped (each endpoint starts with an empty queue); then
accounts for every request: the open and click events in the database must equal the hits the server accepted onto its queue (its /metrics), none lost; hits
the full queue refused are counted as dropped (answered all the same), and accepted + dropped
covers every request wrk completed (wrk does not count those cut off when it stops).

Usage: bench/tracking.py [DURATION] [CONNECTIONS]   (defaults 10 s, 32)
Needs: target/release/herald (bin/build --production); wrk (installed from Debian when missing).
"""
import base64, hashlib, hmac, os, random, re, shutil, sqlite3, struct, subprocess, sys, tempfile, time, urllib.request

DURATION = int(sys.argv[1]) if len(sys.argv) > 1 else 10
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 32
PORT = 3197
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERALD = os.path.join(ROOT, "target", "release", "herald")
KEY = b"bench-secret-key-bench-secret-key-0123456789"


def token(kind: bytes, message_id: int, link_id=None) -> str:
    """A tracking token as Herald signs it (core/src/tracking/mod.rs)."""
    kid = hmac.new(KEY, b"herald key id v1", hashlib.sha256).digest()[:2]
    body = kid + kind + struct.pack(">q", message_id)
    if link_id is not None:
        body += struct.pack(">q", link_id)
    tag = hmac.new(KEY, b"herald.track.v1:" + body, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(body + tag).decode().rstrip("=")


def wrk(url: str, script: str):
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "-s", script, url],
                         check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if errors or socket_errors:
        sys.exit(f"wrk reported errors for {url}:\n{out}")
    return rps, p99_ms, requests


def metrics(base: str) -> dict:
    text = urllib.request.urlopen(f"{base}/metrics").read().decode()
    out = {m.group(1): int(m.group(2)) for m in re.finditer(r'outcome="(\w+)"\} (\d+)', text)}
    out["queue"] = int(re.search(r"^herald_tracking_queue (\d+)", text, re.M).group(1))
    return out


def main():
    if not os.path.exists(HERALD):
        sys.exit("build first: bin/build --production")
    if not shutil.which("wrk"):
        print("installing wrk from Debian")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    data = tempfile.mkdtemp(prefix="herald-bench-tracking-")
    env = dict(os.environ, HERALD_DATA_DIR=data, HERALD_LISTEN=f"127.0.0.1:{PORT}", HERALD_LOG="warn",
               HERALD_SECRET_KEY=KEY.decode(), HERALD_WORKERS="0")
    t = time.time()
    subprocess.run([HERALD, "demo"], env=env, check=True, capture_output=True)
    print(f"demo loaded in {time.time() - t:.1f} s")
    db = sqlite3.connect(os.path.join(data, "herald.db"))
    pairs = db.execute("""SELECT m.id, l.id FROM message m JOIN link l ON l.campaign_id = m.campaign_id
                          WHERE m.sent_at IS NOT NULL LIMIT 20000""").fetchall()
    messages = sorted({m for m, _ in pairs})
    if not pairs:
        sys.exit("the demo has no sent message with a link")
    random.seed(7)
    lists = {}
    forged = []
    for m in messages:
        t = token(b'o', m)
        forged.append(f"/o/{t[:-2]}{'AB' if t[-2:] != 'AB' else 'BA'}")
    for name, lines in [("pixel", [f"/o/{token(b'o', m)}" for m in messages]),
                        ("forged", forged),
                        ("click", [f"/c/{token(b'c', m, l)}" for m, l in pairs]),
                        ("ceiling", ["/livez"])]:
        path = os.path.join(data, f"{name}.txt")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        lists[name] = path
    script = os.path.join(data, "random.lua")
    with open(script, "w") as f:
        f.write("""
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function() return wrk.format("GET", paths[math.random(#paths)], {["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"}) end
""")
    events_before = db.execute("SELECT count(*) FROM tracking_event").fetchone()[0]

    server = subprocess.Popen([HERALD, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{PORT}"
    results = {}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/livez", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        def drained():
            for _ in range(1200):
                m = metrics(base)
                if m["queue"] == 0 and m["written"] + m["ignored"] + m["lost"] >= m["accepted"]:
                    return m
                time.sleep(0.1)
            return metrics(base)

        written, dropped, drain = {}, {}, {}
        for name in ["ceiling", "forged", "pixel", "click"]:
            os.environ["PATHS"] = lists[name]
            before = metrics(base)
            results[name] = wrk(base, script)
            after = metrics(base)
            written[name] = (after["written"] - before["written"]) / DURATION
            dropped[name] = after["dropped"] - before["dropped"]
            # Each endpoint starts with an empty queue: the writer finishes the last one's first.
            t = time.time()
            drained()
            drain[name] = time.time() - t
        m = drained()
    finally:
        server.terminate()
        server.wait()

    events = db.execute("SELECT count(*) FROM tracking_event").fetchone()[0] - events_before
    ceiling = results["ceiling"][0]
    print(f"{'':8} {'requests/s':>11} {'p99':>9} {'ratio':>6} {'written/s':>10} {'dropped':>8} {'drained in':>10}")
    for name, (rps, p99, _) in results.items():
        print(f"{name:8} {rps:11.0f} {p99:7.2f}ms {rps / ceiling:6.2f} {written[name]:10.0f} "
              f"{dropped[name]:8} {drain[name]:9.1f}s")
    sent = results["pixel"][2] + results["click"][2]
    print(f"recorded: {events} events in the database; the server accepted {m['accepted']} hits, "
          f"dropped {m['dropped']}, lost {m['lost']}; wrk completed {sent} requests")
    ok = events == m["accepted"] and m["lost"] == 0 and m["accepted"] + m["dropped"] >= sent
    if not ok:
        print("NOT every accepted hit was recorded")
    elif m["dropped"]:
        print(f"every accepted hit recorded; {m['dropped']} hits beyond the queue were answered and dropped")
    else:
        print("every request recorded")
    shutil.rmtree(data, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
