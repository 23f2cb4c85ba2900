#!/usr/bin/env python3
"""Campaign list at scale: Herald's `list_campaigns` against a hand-written SQL query.

Builds a PostgreSQL database with one organisation, CAMPAIGNS campaigns and MESSAGES message
rows (generated in SQL), starts the release `herald` on it, signs in, and times:

  herald   POST /api/list_campaigns over HTTP (session lookup, campaign query, statistics
           query, JSON), median of RUNS calls;
  ceiling  the same numbers from the best hand-written SQL query (aggregate, then join) run in
           psql in the same session, median of RUNS runs (\\timing, no connection set-up).

Prints both and their ratio. Usage: bench/campaign_list.py [MESSAGES] (default 1,000,000).
Needs: target/release/herald (bin/build --production), psql, PostgreSQL at $PG (postgres://postgres@127.0.0.1:5432).
"""
import http.cookiejar, json, os, re, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
CAMPAIGNS = 60
RUNS = 15
PG = os.environ.get("PG", "postgres://postgres@127.0.0.1:5432")
DB = "herald_bench"
PORT = 3199
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERALD = os.path.join(ROOT, "target", "release", "herald")


def psql(sql, db=DB, capture=False):
    return subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                          check=True, capture_output=capture, text=True).stdout


def main():
    if not os.path.exists(HERALD):
        sys.exit("build first: bin/build --production")
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    data = tempfile.mkdtemp(prefix="herald-bench-")
    env = dict(os.environ, HERALD_DATABASE_URL=f"{PG}/{DB}", HERALD_DATA_DIR=data,
               HERALD_LISTEN=f"127.0.0.1:{PORT}", HERALD_LOG="warn")
    password = "bench-password-1"
    subprocess.run([HERALD, "user", "add", "--org", "bench", "--email", "bench@bench.test", "--role",
                    "admin", "--password", password], env=env, check=True, capture_output=True)

    t = time.time()
    psql(f"""
      INSERT INTO campaign (org_id, name, description, goal, kind, message_type, channel, status,
                            created_at, updated_at, last_sent_at)
      SELECT 1, 'Campaign ' || g, '', '', 'one_time', 'marketing', 'email',
             CASE WHEN g % 3 = 0 THEN 'active' ELSE 'completed' END, now(), now(), now() - g * interval '1 day'
      FROM generate_series(1, {CAMPAIGNS}) g;
      INSERT INTO campaign_send (org_id, campaign_id, started_at) SELECT 1, id, now() FROM campaign;
      INSERT INTO contact (org_id, email, first_name, last_name, language, time_zone, status, created_at, updated_at)
      SELECT 1, 'c' || g || '@example.org', 'C', 'N', 'en', 'UTC', 'active', now(), now()
      FROM generate_series(1, 100000) g;
      INSERT INTO message (org_id, campaign_id, send_id, contact_id, channel, recipient, state, attempts,
                           queued_at, sent_at, delivered_at, bounced_at, opens, first_opened_at, clicks, first_clicked_at)
      SELECT 1, s.campaign_id, s.id, (g / {CAMPAIGNS}) % 100000 + 1, 'email', 'x@example.org', 'delivered', 1, now(),
             CASE WHEN g % 50 <> 0 THEN now() END,
             CASE WHEN g % 50 <> 0 AND g % 40 <> 0 THEN now() END,
             CASE WHEN g % 40 = 0 THEN now() END,
             CASE WHEN g % 3 = 0 THEN 1 ELSE 0 END, CASE WHEN g % 3 = 0 THEN now() END,
             CASE WHEN g % 15 = 0 THEN 1 ELSE 0 END, CASE WHEN g % 15 = 0 THEN now() END
      FROM generate_series(0, {MESSAGES} - 1) g
      JOIN campaign_send s ON s.campaign_id = (g % {CAMPAIGNS}) + 1;
      ANALYZE;
    """)
    print(f"generated {MESSAGES:,} messages in {CAMPAIGNS} campaigns in {time.time() - t:.1f} s")

    server = subprocess.Popen([HERALD, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        assert len(rows) == CAMPAIGNS and sum(r["stats"]["recipients"] for r in rows) == MESSAGES
        call("list_campaigns")  # warm
        herald = []
        for _ in range(RUNS):
            t = time.perf_counter()
            call("list_campaigns")
            herald.append((time.perf_counter() - t) * 1000)
    finally:
        server.terminate()
        server.wait()

    # The best a person would write by hand: aggregate the messages once, then join the campaigns.
    query = """SELECT c.id, c.name, c.status, c.last_sent_at, s.recipients, s.sent, s.delivered, s.bounced, s.opened, s.clicked
               FROM campaign c
               LEFT JOIN (SELECT campaign_id, count(*) AS recipients, count(sent_at) AS sent,
                                 count(delivered_at) AS delivered, count(bounced_at) AS bounced,
                                 count(first_opened_at) AS opened, count(first_clicked_at) AS clicked
                          FROM message WHERE org_id = 1 GROUP BY campaign_id) s ON s.campaign_id = c.id
               WHERE c.org_id = 1
               ORDER BY c.last_sent_at DESC NULLS LAST, c.created_at DESC;"""
    script = "\\timing on\n" + "\n".join([query] * (RUNS + 1))
    out = subprocess.run(["psql", f"{PG}/{DB}", "-qAt", "-f", "-"], input=script, check=True,
                         capture_output=True, text=True).stdout
    ceiling = [float(x) for x in re.findall(r"Time: ([\d.]+) ms", out)][1:]

    h, c = statistics.median(herald), statistics.median(ceiling)
    print(f"herald  list_campaigns over HTTP   median {h:8.1f} ms  (min {min(herald):.1f})")
    print(f"ceiling hand-written SQL in psql   median {c:8.1f} ms  (min {min(ceiling):.1f})")
    print(f"ratio   {h / c:.2f}x")
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
