#!/usr/bin/env python3
"""Segment refreshes on the job queue: a round over SEGMENTS segments, by one and by two instances.

Generates, on PostgreSQL, one organisation with CONTACTS contacts (default 20,000) and SEGMENTS
saved segments (default 1,000) of varied audiences (each two or three conditions on language,
consent, status, sign-up window and groups: a few percent of the contacts each, about a million
memberships in all), refreshes them all once, then changes a slice of the contacts before
each timed round (so that contacts enter and leave) and times:

  ceiling   `herald segments refresh`: every segment one after the other in one process, the way
            every instance refreshed every segment before the job queue;
  queue ×1  one job per segment on the queue, run by one `herald jobs run` (4 at a time);
  queue ×2  the same jobs shared by two `herald jobs run` processes (two instances).

Prints the three times and the ratios against the ceiling, and checks that both queue rounds ran
every segment exactly once (no job left, every segment refreshed in the round).
Usage: bench/segments.py [CONTACTS] [SEGMENTS]. Needs target/release/herald, psql and
PostgreSQL at $PG (postgres://postgres@127.0.0.1:5432).
"""
import json, os, random, subprocess, sys, tempfile, time

CONTACTS = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
SEGMENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
PG = os.environ.get("PG", "postgres://postgres@127.0.0.1:5432")
DB = "herald_bench_segments"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERALD = os.path.join(ROOT, "target", "release", "herald")


def psql(sql, db=DB):
    return subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"], input=sql,
                          check=True, capture_output=True, text=True).stdout.strip()


def audience(rng, groups):
    window = lambda: {"direction": "last", "amount": rng.choice([7, 30, 90, 365]), "unit": "days"}
    parts = [
        lambda: {"filter": "language", "code": rng.choice(["en", "fr", "de", "es"])},
        lambda: {"filter": "consent", "message_type": rng.choice(["marketing", "newsletter"])},
        lambda: {"filter": "active_contact"},
        lambda: {"filter": "created", "within": window()},
        lambda: {"filter": "in_group", "group_id": rng.choice(groups)},
        lambda: {"filter": "not", "not": {"filter": "in_group", "group_id": rng.choice(groups)}},
    ]
    of = [rng.choice(parts)() for _ in range(rng.choice([2, 3]))]
    return {"filter": "all", "of": of}


def timed(cmds, env):
    started = time.time()
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for c in cmds]
    outs = [p.communicate()[0] for p in procs]
    for p, out in zip(procs, outs):
        if p.returncode != 0:
            sys.exit(f"failed: {out}")
    return time.time() - started, outs


def main():
    if not os.path.exists(HERALD):
        sys.exit("build first: bin/build --production")
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    data = tempfile.mkdtemp(prefix="herald-bench-")
    env = dict(os.environ, HERALD_DATABASE_URL=f"{PG}/{DB}", HERALD_DATA_DIR=data, HERALD_LOG="error")
    subprocess.run([HERALD, "user", "add", "--org", "bench", "--email", "bench@bench.test", "--role", "admin",
                    "--password", "bench-password-1"], env=env, check=True, capture_output=True)
    t = time.time()
    psql(f"""
      INSERT INTO contact (org_id, email, first_name, last_name, language, time_zone, status, created_at, updated_at,
                           marketing_consent, newsletter_consent, attributes)
      SELECT 1, 'c' || g || '@example.org', 'C', 'N' || g, (ARRAY['en','fr','de','es'])[g % 4 + 1], 'UTC',
             CASE WHEN g % 10 = 0 THEN 'inactive' ELSE 'active' END, now() - (g % 730) * interval '1 day',
             now(), g % 3 = 0, g % 5 = 0, '{{}}'
      FROM generate_series(1, {CONTACTS}) g;
      INSERT INTO contact_group (org_id, name, created_at) SELECT 1, 'Group ' || g, now() FROM generate_series(1, 20) g;
      INSERT INTO contact_group_member (group_id, contact_id)
      SELECT (c.id % 20) + (SELECT min(id) FROM contact_group), c.id FROM contact c WHERE c.id % 3 <> 0;
      ANALYZE;
    """)
    groups = [int(g) for g in psql("SELECT id FROM contact_group").split()]
    rng = random.Random(11)
    rows = ",".join(
        "(1, 'Segment {}', '{}', now(), now())".format(i, json.dumps(audience(rng, groups)).replace("'", "''"))
        for i in range(SEGMENTS))
    psql(f"INSERT INTO segment (org_id, name, filter, created_at, updated_at) VALUES {rows};")
    print(f"generated {CONTACTS:,} contacts and {SEGMENTS:,} segments in {time.time() - t:.0f} s")
    # The first refresh takes every member in: not what a round costs afterwards.
    timed([[HERALD, "segments", "refresh", "--org", "bench"]], env)

    def churn(round_):
        # About 1 % of the contacts change language and consent: some enter, some leave.
        psql(f"""UPDATE contact SET language = (ARRAY['en','fr','de','es'])[(id + {round_}) % 4 + 1],
                   marketing_consent = NOT marketing_consent WHERE id % 97 = {round_ % 97}; ANALYZE contact;""")

    def queue_round():
        # The round is queued by hand here; the minute's periodic round must not join in.
        psql("""INSERT INTO job_schedule (name, next_run_at) VALUES ('segments.refresh', now() + interval '1 day')
                ON CONFLICT (name) DO UPDATE SET next_run_at = excluded.next_run_at;""")
        psql("""INSERT INTO job (kind, payload, org_id, priority, state, run_at, attempts, max_attempts, dedup_key, created_at)
                SELECT 'segments.refresh_one', json_build_object('segment_id', id, 'org_id', org_id)::text, org_id, 0,
                       'pending', now() - interval '1 second', 0, 5, id::text, now() FROM segment;""")
        return psql("SELECT now()")

    churn(1)
    ceiling, _ = timed([[HERALD, "segments", "refresh", "--org", "bench"]], env)
    results = {}
    for name, instances, round_ in [("queue ×1", 1, 2), ("queue ×2", 2, 3)]:
        churn(round_)
        since = queue_round()
        elapsed, outs = timed([[HERALD, "jobs", "run"] for _ in range(instances)], env)
        left = int(psql("SELECT count(*) FROM job WHERE kind = 'segments.refresh_one'"))
        refreshed = int(psql(f"SELECT count(*) FROM segment WHERE refreshed_at >= '{since}'"))
        ran = sum(int(o.split()[1]) for o in outs)
        if left or refreshed != SEGMENTS or ran != SEGMENTS:
            sys.exit(f"{name}: {ran} jobs ran, {refreshed} segments refreshed, {left} jobs left")
        results[name] = (elapsed, [int(o.split()[1]) for o in outs])
    print(f"\n{SEGMENTS:,} segments over {CONTACTS:,} contacts, one round:")
    print(f"  ceiling: every segment in turn, one process   {ceiling:7.2f} s")
    for name, (elapsed, split) in results.items():
        print(f"  {name}: jobs on the queue, split {split}  {elapsed:7.2f} s   ratio {elapsed / ceiling:.2f}×")
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")


if __name__ == "__main__":
    main()
