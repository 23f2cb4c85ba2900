#!/usr/bin/env python3
"""Reports at scale: the campaign list and one campaign's report with 1,000,000 recipients.

Builds a PostgreSQL database with one organisation, one campaign of RECIPIENTS message rows and
59 campaigns of 10,000, generated in SQL with the counter triggers switched off and the counters
then summed once from the rows, as the migration does (the integration tests hold the triggers
equal to such a recount; firing them row by row would make generating a million rows take
many minutes), starts the release `herald` on it, signs in, and times over
HTTP (median of RUNS calls after a warm-up; session lookup and JSON included):

  list      POST /api/list_campaigns           the campaign list with every campaign's numbers
  cards     POST /api/get_campaign             the big campaign's header and summary cards
  details   POST /api/campaign_report          its links, chart and runs
  page 1    POST /api/campaign_recipients      the first page of its per-recipient table
  opened    ... filtered to opened, sorted by opens (largest first)

against the baseline: what the same numbers cost when counted from the message rows (the way
Herald did before the counters), as hand-written SQL in one psql session: the list's aggregate
over all messages, and the one campaign's counts.

Usage: bench/reports.py [RECIPIENTS] (default 1,000,000).
Needs: target/release/herald (bin/build --production), psql, PostgreSQL at $PG (postgres://postgres@127.0.0.1:5432).
"""
import http.cookiejar, json, os, re, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

RECIPIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SMALL = 10_000
CAMPAIGNS = 60
RUNS = 15
PG = os.environ.get("PG", "postgres://postgres@127.0.0.1:5432")
DB = "herald_bench_reports"
PORT = 3198
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERALD = os.path.join(ROOT, "target", "release", "herald")


def psql(sql, db=DB, capture=False):
    return subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                          check=True, capture_output=capture, text=True).stdout


def main():
    if not os.path.exists(HERALD):
        sys.exit("build first: bin/build --production")
    # (A run cut short may still hold the database.)
    psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{DB}'", db="postgres", capture=True)
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    data = tempfile.mkdtemp(prefix="herald-bench-")
    env = dict(os.environ, HERALD_DATABASE_URL=f"{PG}/{DB}", HERALD_DATA_DIR=data,
               HERALD_LISTEN=f"127.0.0.1:{PORT}", HERALD_LOG="warn", HERALD_WORKERS="0")
    password = "bench-password-1"
    subprocess.run([HERALD, "user", "add", "--org", "bench", "--email", "bench@bench.test", "--role",
                    "admin", "--password", password], env=env, check=True, capture_output=True)

    t = time.time()
    psql(f"""
      INSERT INTO campaign (org_id, name, description, goal, kind, message_type, channel, status,
                            created_at, updated_at, last_sent_at)
      SELECT 1, 'Campaign ' || g, '', '', 'one_time', 'marketing', 'email', 'completed', now(), now(),
             now() - g * interval '1 hour'
      FROM generate_series(1, {CAMPAIGNS}) g;
      INSERT INTO campaign_send (org_id, campaign_id, started_at) SELECT 1, id, now() FROM campaign;
      INSERT INTO contact (org_id, email, first_name, last_name, language, time_zone, status, created_at, updated_at)
      SELECT 1, 'c' || g || '@example.org', 'First' || g, 'Last', 'en', 'UTC', 'active', now(), now()
      FROM generate_series(1, {RECIPIENTS}) g;
      INSERT INTO link (org_id, campaign_id, url, url_key, clicks, unique_clicks, human_clicks)
      SELECT 1, 1, 'https://shop.example/p/' || g, md5(g::text), 0, 0, 0 FROM generate_series(1, 5) g;
    """)
    psql("ALTER TABLE message DISABLE TRIGGER message_stats")
    # Campaign 1 reaches every contact; the others 10,000 each. Rows in a spread of states.
    for campaign, n in [(1, RECIPIENTS)] + [(c, SMALL) for c in range(2, CAMPAIGNS + 1)]:
        psql(f"""
          INSERT INTO message (org_id, campaign_id, send_id, contact_id, channel, recipient, state, attempts,
                               queued_at, sent_at, delivered_at, bounced_at, bounce_type,
                               opens, first_opened_at, last_opened_at, human_opened_at,
                               clicks, first_clicked_at, last_clicked_at, human_clicked_at, seed)
          SELECT 1, {campaign}, {campaign}, g, 'email', 'c' || g || '@example.org',
                 CASE WHEN g % 40 = 0 THEN 'bounced' WHEN g % 50 = 0 THEN 'sent' ELSE 'delivered' END, 1,
                 now(), now() - interval '2 hours',
                 CASE WHEN g % 40 <> 0 AND g % 50 <> 0 THEN now() - interval '2 hours' END,
                 CASE WHEN g % 40 = 0 THEN now() END,
                 CASE WHEN g % 40 = 0 THEN (CASE WHEN g % 80 = 0 THEN 'transient' ELSE 'permanent' END) END,
                 CASE WHEN g % 3 = 0 THEN g % 7 + 1 ELSE 0 END,
                 CASE WHEN g % 3 = 0 THEN now() - (g % 100) * interval '1 minute' END,
                 CASE WHEN g % 3 = 0 THEN now() END,
                 CASE WHEN g % 6 = 0 THEN now() END,
                 CASE WHEN g % 15 = 0 THEN g % 3 + 1 ELSE 0 END,
                 CASE WHEN g % 15 = 0 THEN now() END,
                 CASE WHEN g % 15 = 0 THEN now() END,
                 CASE WHEN g % 30 = 0 THEN now() END, false
          FROM generate_series(1, {n}) g;
        """)
    counters = [
        ("recipients", "1"), ("waiting", "CASE WHEN state IN ('queued','sending') THEN 1 ELSE 0 END"),
        ("skipped", "CASE WHEN state = 'skipped' THEN 1 ELSE 0 END"),
        ("sent", "CASE WHEN sent_at IS NULL THEN 0 ELSE 1 END"),
        ("pending", "CASE WHEN state = 'sent' THEN 1 ELSE 0 END"),
        ("delivered", "CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END"),
        ("bounced", "CASE WHEN bounced_at IS NULL THEN 0 ELSE 1 END"),
        ("soft_bounced", "CASE WHEN bounced_at IS NOT NULL AND bounce_type = 'transient' THEN 1 ELSE 0 END"),
        ("complained", "CASE WHEN complained_at IS NULL THEN 0 ELSE 1 END"),
        ("failed", "CASE WHEN failed_at IS NULL THEN 0 ELSE 1 END"),
        ("unsubscribed", "CASE WHEN unsubscribed_at IS NULL THEN 0 ELSE 1 END"),
        ("opened", "CASE WHEN first_opened_at IS NULL THEN 0 ELSE 1 END"),
        ("human_opened", "CASE WHEN human_opened_at IS NULL THEN 0 ELSE 1 END"),
        ("clicked", "CASE WHEN first_clicked_at IS NULL THEN 0 ELSE 1 END"),
        ("human_clicked", "CASE WHEN human_clicked_at IS NULL THEN 0 ELSE 1 END"),
        ("opens", "opens"), ("clicks", "clicks"),
    ]
    names = ", ".join(n for n, _ in counters)
    sums = ", ".join(f"SUM({e})" for _, e in counters)
    psql(f"""
      INSERT INTO campaign_stats (campaign_id, org_id, {names})
        SELECT campaign_id, 1, {sums} FROM message WHERE NOT seed GROUP BY campaign_id;
      INSERT INTO send_stats (send_id, campaign_id, org_id, {names})
        SELECT send_id, MIN(campaign_id), 1, {sums} FROM message WHERE NOT seed GROUP BY send_id;
      ALTER TABLE message ENABLE TRIGGER message_stats;
    """)
    psql("""
      INSERT INTO campaign_hour (campaign_id, hour, org_id, opens, human_opens, clicks, human_clicks)
      SELECT 1, date_trunc('hour', now()) - g * interval '1 hour', 1, 1000 + g, 500 + g, 100 + g, 50 + g
      FROM generate_series(0, 47) g;
      ANALYZE;
    """)
    total = RECIPIENTS + SMALL * (CAMPAIGNS - 1)
    print(f"generated {total:,} messages ({RECIPIENTS:,} in one campaign) in {time.time() - t:.1f} s")

    server = subprocess.Popen([HERALD, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = {}
    try:
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

        def call(name, form=b""):
            req = urllib.request.Request(f"{base}/api/{name}", data=form, method="POST",
                                         headers={"content-type": "application/x-www-form-urlencoded"})
            return opener.open(req).read()

        call("login", f"email=bench@bench.test&password={password}".encode())
        rows = json.loads(call("list_campaigns"))
        assert len(rows) == CAMPAIGNS, rows
        assert sum(r["stats"]["recipients"] for r in rows) == total
        big = json.loads(call("get_campaign", b"id=1"))
        assert big["summary"]["stats"]["recipients"] == RECIPIENTS, big["summary"]["stats"]
        calls = {
            "list": ("list_campaigns", b""),
            "cards": ("get_campaign", b"id=1"),
            "details": ("campaign_report", b"id=1"),
            "page 1": ("campaign_recipients", b"id=1&query[page]=1"),
            "opened": ("campaign_recipients", b"id=1&query[filter]=opened&query[sort]=opens&query[desc]=true&query[page]=1"),
        }
        for label, (name, form) in calls.items():
            call(name, form)  # warm
            samples = []
            for _ in range(RUNS):
                t = time.perf_counter()
                call(name, form)
                samples.append((time.perf_counter() - t) * 1000)
            times[label] = samples
    finally:
        server.terminate()
        server.wait()

    counts = """count(*), count(sent_at), count(delivered_at), count(bounced_at),
                count(first_opened_at), count(first_clicked_at)"""
    baseline = {
        "list": f"SELECT campaign_id, {counts} FROM message WHERE org_id = 1 GROUP BY campaign_id;",
        "cards": f"SELECT {counts} FROM message WHERE campaign_id = 1;",
    }
    ceiling = {}
    for label, query in baseline.items():
        script = "\\timing on\n" + "\n".join([query] * (RUNS + 1))
        out = subprocess.run(["psql", f"{PG}/{DB}", "-qAt", "-f", "-"], input=script, check=True,
                             capture_output=True, text=True).stdout
        ceiling[label] = [float(x) for x in re.findall(r"Time: ([\d.]+) ms", out)][1:]

    print(f"{'':8} {'Herald (HTTP)':>14} {'counting rows':>14} {'ratio':>7}")
    for label, samples in times.items():
        h = statistics.median(samples)
        if label in ceiling:
            c = statistics.median(ceiling[label])
            print(f"{label:8} {h:11.1f} ms {c:11.1f} ms {h / c:6.2f}x")
        else:
            print(f"{label:8} {h:11.1f} ms {'':>14}")
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
