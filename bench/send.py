#!/usr/bin/env python3
"""Sending at scale, and the latency from an event to its message.

For each size (default 10,000 and 100,000 recipients), on a fresh PostgreSQL database:

  Herald    the release `herald serve` (HERALD_SMTP_POOL=16) sends an immediate campaign to
            every contact through a local SMTP sink (tools/smtp-sink); timed from the activation
            request to the last message at the sink; the server's peak memory (VmHWM) is read
            at the end.
  ceiling   the sink's own capacity, measured by an independent load generator: Postfix's
            smtp-source with the same 16 connections, each kept open (-d), sending the same
            number of messages of the size Herald's were. smtp-source comes from Debian's
            postfix package, unpacked into target/tools/postfix (nothing is installed or
            started: no mail system on the machine).

Then the event latency: an event-triggered campaign is active, 1,000 events are posted to
`POST /api/v1/events` (one every 20 ms, each for another contact), and each message's arrival at
the sink (its file's time) is compared with its event's POST; prints the median and p95.

Usage: bench/send.py [RECIPIENTS ...]. Needs target/release/herald (bin/build --production),
.venv with aiosmtpd (bin/setup --test), psql, PostgreSQL at $PG, and apt-get to fetch postfix.
"""
import json, os, re, shutil, signal, subprocess, sys, tempfile, time, urllib.request

SIZES = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
PG = os.environ.get("PG", "postgres://postgres@127.0.0.1:5432")
DB = "herald_bench_send"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERALD = os.path.join(ROOT, "target", "release", "herald")
POSTFIX = os.path.join(ROOT, "target", "tools", "postfix")
SMTP_SOURCE = os.path.join(POSTFIX, "usr", "sbin", "smtp-source")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
CONNECTIONS = 16


def smtp_source():
    """Debian's postfix package unpacked (not installed) once; answers the smtp-source path."""
    if not os.path.exists(SMTP_SOURCE):
        work = tempfile.mkdtemp(prefix="herald-postfix-")
        subprocess.run(["apt-get", "download", "postfix"], cwd=work, check=True, capture_output=True)
        deb = next(n for n in os.listdir(work) if n.endswith(".deb"))
        os.makedirs(POSTFIX, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", os.path.join(work, deb), POSTFIX], check=True)
        shutil.rmtree(work, ignore_errors=True)
    return SMTP_SOURCE


def psql(sql, db=DB):
    return subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"], input=sql,
                          check=True, capture_output=True, text=True).stdout.strip()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="herald-sink-")
        self.port = free_port()
        self.proc = subprocess.Popen([PYTHON, os.path.join(ROOT, "tools", "smtp-sink"), "--port", str(self.port),
                                      "--dir", self.dir], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def count(self):
        return sum(1 for n in os.listdir(self.dir) if n.endswith(".eml"))

    def mean_size(self):
        sizes = [os.path.getsize(os.path.join(self.dir, n)) for n in os.listdir(self.dir)[:500] if n.endswith(".eml")]
        return sum(sizes) // max(len(sizes), 1)

    def clear(self):
        for n in os.listdir(self.dir):
            os.remove(os.path.join(self.dir, n))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def api(base, key, method, path, body=None):
    req = urllib.request.Request(f"{base}/api/v1{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def prepare(n):
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    data = tempfile.mkdtemp(prefix="herald-bench-")
    env = dict(os.environ, HERALD_DATABASE_URL=f"{PG}/{DB}", HERALD_DATA_DIR=data, HERALD_LOG="error",
               HERALD_SECRET_KEY="bench-secret-key-bench-secret-key-0123")
    subprocess.run([HERALD, "user", "add", "--org", "bench", "--email", "bench@bench.test", "--role", "admin",
                    "--password", "bench-password-1"], env=env, check=True, capture_output=True)
    out = subprocess.run([HERALD, "api-key", "create", "--org", "bench", "--name", "bench"], env=env, check=True,
                         capture_output=True, text=True).stdout
    key = re.search(r"hk_[A-Za-z0-9_-]+", out).group(0)
    psql(f"""
      INSERT INTO contact (org_id, email, first_name, last_name, language, time_zone, status, created_at, updated_at,
                           marketing_consent, newsletter_consent, attributes)
      SELECT 1, 'p' || g || '@example.org', 'P' || g, 'N', 'en', 'UTC', 'active', now(), now(), true, false, '{{}}'
      FROM generate_series(1, {n}) g;
      ANALYZE;
    """)
    return env, key, data


def start(env, sink):
    port = free_port()
    run_env = dict(env, HERALD_LISTEN=f"127.0.0.1:{port}", HERALD_SMTP_URL=f"smtp://127.0.0.1:{sink.port}",
                   HERALD_DEFAULT_FROM="noreply@bench.example",
                   HERALD_SMTP_POOL=str(CONNECTIONS), HERALD_WORKERS="4")
    proc = subprocess.Popen([HERALD, "serve"], env=run_env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return proc, base
        except Exception:
            time.sleep(0.1)
    sys.exit("herald did not start")


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))


def template(base, key):
    return api(base, key, "POST", "/templates", {
        "name": "Hello", "subject": "Hello {{ contact.first_name }}",
        "html": "<p>Hello {{ contact.first_name }}</p>", "text": "Hello {{ contact.first_name }}"})["id"]


def send(n, sink):
    env, key, data = prepare(n)
    proc, base = start(env, sink)
    t = template(base, key)
    c = api(base, key, "POST", "/campaigns", {
        "name": "Everyone", "message_type": "marketing", "template_id": t,
        "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "immediately"},
        "settings": {"from_email": "news@acme.example", "from_name": "Acme"}})["id"]
    started = time.time()
    api(base, key, "POST", f"/campaigns/{c}/activate", {})
    while sink.count() < n:
        if time.time() - started > 3600:
            sys.exit(f"stalled at {sink.count()} of {n}")
        time.sleep(0.2)
    elapsed = time.time() - started
    peak = peak_kib(proc.pid)
    numbers = api(base, key, "GET", f"/campaigns/{c}")["messages"]
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    if numbers["sent"] != n:
        sys.exit(f"{numbers}")
    return elapsed, peak, (env, key, data)


def ceiling(n, sink, size):
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(POSTFIX, "usr", "lib", "postfix"))
    started = time.time()
    subprocess.run([smtp_source(), "-d", "-s", str(CONNECTIONS), "-m", str(n), "-l", str(size),
                    "-f", "news@acme.example", "-t", "p1@example.org", f"127.0.0.1:{sink.port}"],
                   env=env, check=True, capture_output=True)
    while sink.count() < n:
        if time.time() - started > 3600:
            sys.exit(f"smtp-source stalled at {sink.count()} of {n}")
        time.sleep(0.05)
    return n / (time.time() - started)


def events(setup, sink, count=1000):
    env, key, _ = setup
    sink.clear()
    proc, base = start(env, sink)
    t = template(base, key)
    c = api(base, key, "POST", "/campaigns", {
        "name": "Welcome", "message_type": "operational", "template_id": t,
        "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "event", "name": "signup"},
        "settings": {"from_email": "news@acme.example", "frequency": {"frequency": "every_time"}}})["id"]
    api(base, key, "POST", f"/campaigns/{c}/activate", {})
    posted = {}
    for i in range(1, count + 1):
        posted[f"p{i}@example.org"] = time.time()
        api(base, key, "POST", "/events", {"events": [{"email": f"p{i}@example.org", "name": "signup",
                                                        "external_id": f"e{i}"}]})
        time.sleep(0.02)
    deadline = time.time() + 120
    while sink.count() < count and time.time() < deadline:
        time.sleep(0.1)
    latencies = []
    for name in os.listdir(sink.dir):
        path = os.path.join(sink.dir, name)
        with open(path, errors="replace") as f:
            to = re.search(r"^To: (\S+)", f.read(), re.M).group(1)
        latencies.append(os.stat(path).st_mtime - posted[to])
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    latencies.sort()
    if len(latencies) != count:
        sys.exit(f"{len(latencies)} of {count} event messages arrived")
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95) - 1]


def main():
    for path, how in [(HERALD, "bin/build --production"), (PYTHON, "bin/setup --test")]:
        if not os.path.exists(path):
            sys.exit(f"missing {path}: {how}")
    sink = Sink()
    rows = []
    setup = None
    try:
        for n in SIZES:
            sink.clear()
            elapsed, peak, s = send(n, sink)
            setup = setup or s
            size = sink.mean_size()
            sink.clear()
            ceil = ceiling(n, sink, size)
            sink.clear()
            rows.append((n, n / elapsed, ceil, peak))
            print(f"{n:>9,} recipients: Herald {n / elapsed:7.1f}/s   smtp-source ({CONNECTIONS} connections, "
                  f"{size} B messages) {ceil:7.1f}/s   ratio {n / elapsed / ceil:.2f}   "
                  f"Herald's peak memory {peak / 1024:.0f} MiB", flush=True)
        # Events against the first size's database (its contacts exist).
        env, key, data = prepare(SIZES[0])
        median, p95 = events((env, key, data), sink)
        print(f"event to message at the sink, 1,000 events: median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    finally:
        sink.stop()
        psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")


if __name__ == "__main__":
    main()
