#!/usr/bin/env python3
"""CSV import throughput: Herald's import of ROWS contacts against a hand-written bulk load.

Generates a CSV of ROWS contacts (a tenth of them with an invalid address, a group column and a
custom attribute), starts the release `herald` on a fresh PostgreSQL database, signs in, uploads
the file through the import form, confirms the guessed mapping and times until the background
import reports done (every row validated, normalised and merged by email, in transactions of
250 rows with progress and per-row errors). The ceiling is what a person would write by hand
for the same end state, without validation or a report: `\\copy` into a temporary table and
one `INSERT ... ON CONFLICT (org_id, email) DO UPDATE`, in psql. Then the file is imported
again, which must change nothing.

Usage: bench/import.py [ROWS] (default 50,000).
Needs: target/release/herald (bin/build --production), psql, PostgreSQL at $PG (postgres://postgres@127.0.0.1:5432).
"""
import http.cookiejar, json, os, random, re, shutil, subprocess, sys, tempfile, time, urllib.request

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
PG = os.environ.get("PG", "postgres://postgres@127.0.0.1:5432")
DB = "herald_bench_import"
PORT = 3198
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERALD = os.path.join(ROOT, "target", "release", "herald")


def psql(sql, db=DB):
    return subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def main():
    if not os.path.exists(HERALD):
        sys.exit("build first: bin/build --production")
    rng = random.Random(7)
    lines = ["Email,First name,Last name,Language,Newsletter,Groups,Plan"]
    for i in range(ROWS):
        email = f"person{i}@example.org" if i % 10 else f"person{i}.example.org"
        lines.append(f"{email},First{i},Last{i % 997},{rng.choice(['en', 'de', 'fr'])},"
                     f"{rng.choice(['yes', 'no'])},{rng.choice(['Alumni', 'Staff', 'Alumni;Staff'])},"
                     f"{rng.choice(['gold', 'silver'])}")
    csv = ("\n".join(lines) + "\n").encode()

    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    data = tempfile.mkdtemp(prefix="herald-bench-")
    env = dict(os.environ, HERALD_DATABASE_URL=f"{PG}/{DB}", HERALD_DATA_DIR=data,
               HERALD_LISTEN=f"127.0.0.1:{PORT}", HERALD_LOG=os.environ.get("HERALD_LOG", "warn"))
    password = "bench-password-1"
    subprocess.run([HERALD, "user", "add", "--org", "bench", "--email", "bench@bench.test", "--role",
                    "admin", "--password", password], env=env, check=True, capture_output=True)
    server = subprocess.Popen([HERALD, "serve"], env=env, stdout=open("/tmp/import-bench.log", "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{PORT}"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def post(path, data, ctype):
        req = urllib.request.Request(f"{base}{path}", data=data, method="POST",
                                     headers={"content-type": ctype, "origin": base})
        try:
            return opener.open(req)
        except urllib.error.HTTPError as e:
            return e

    def call(name, form=""):
        return json.loads(post(f"/api/{name}", form.encode(), "application/x-www-form-urlencoded").read())

    def run_import():
        boundary = "----herald-bench"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\n"
                f"Content-Type: text/csv\r\n\r\n").encode() + csv + f"\r\n--{boundary}--\r\n".encode()
        res = post("/contacts/import/upload", body, f"multipart/form-data; boundary={boundary}")
        page = res.headers["location"]
        job = page.rsplit("/", 1)[1]
        status = call("get_import", f"id={job}")
        mapping = "&".join(f"col{i}={urllib.parse.quote(target_form(c[1]))}" for i, c in enumerate(status["columns"]))
        t = time.perf_counter()
        res = post(f"{page}/start", mapping.encode(), "application/x-www-form-urlencoded")
        assert "error" not in res.headers["location"], res.headers["location"]
        while True:
            status = call("get_import", f"id={job}")
            if status["status"] in ("done", "failed"):
                break
            time.sleep(0.25)
        return time.perf_counter() - t, status

    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        call("login", f"email=bench@bench.test&password={password}")
        first, s1 = run_import()
        assert s1["status"] == "done" and s1["error_rows"] == ROWS // 10, s1
        again, s2 = run_import()
        assert s2["created_rows"] == 0 and s2["updated_rows"] == 0, s2
    finally:
        server.terminate()
        server.wait()

    # The ceiling: a bulk load of the valid rows, written by hand, no validation or report.
    csv_path = os.path.join(data, "people.csv")
    with open(csv_path, "wb") as f:
        f.write(csv)
    script = f"""\\timing on
CREATE TEMP TABLE raw (email text, first text, last text, lang text, news text, groups text, plan text);
\\copy raw FROM '{csv_path}' WITH (FORMAT csv, HEADER true)
INSERT INTO contact (org_id, email, first_name, last_name, language, time_zone, status, created_at, updated_at,
                     marketing_consent, newsletter_consent, attributes, newsletter_consent_at, newsletter_consent_source)
SELECT 1, lower(email), first, last, lang, 'UTC', 'active', now(), now(), false, news = 'yes',
       json_build_object('plan', plan)::text, now(), 'import'
FROM raw WHERE email LIKE '%@%'
ON CONFLICT (org_id, email) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
       language = excluded.language, newsletter_consent = excluded.newsletter_consent, attributes = excluded.attributes;
"""
    psql("DELETE FROM contact_group_member; DELETE FROM contact;")
    out = subprocess.run(["psql", f"{PG}/{DB}", "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"], input=script,
                         check=True, capture_output=True, text=True).stdout
    ceiling = sum(float(x) for x in re.findall(r"Time: ([\d.]+) ms", out)) / 1000

    print(f"herald  import of {ROWS:,} rows ({s1['created_rows']:,} created, {s1['error_rows']:,} refused)"
          f"  {first:6.2f} s  ({ROWS / first:,.0f} rows/s)")
    print(f"herald  the same file again (all unchanged)          {again:6.2f} s  ({ROWS / again:,.0f} rows/s)")
    print(f"ceiling \\copy + one INSERT ... ON CONFLICT in psql   {ceiling:6.2f} s")
    print(f"ratio   {first / ceiling:.1f}x")
    if not os.environ.get("KEEP"):
        psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    shutil.rmtree(data, ignore_errors=True)


def target_form(target):
    if target["to"] == "attribute":
        return f"attribute:{target['name']}"
    return target["to"]


if __name__ == "__main__":
    main()
