#!/usr/bin/env python3
"""Audience counts at scale: Herald's audience engine against hand-written SQL.

Generates, on PostgreSQL, one organisation with CONTACTS contacts, about 3 records per 1,000,000
contacts x 3 (credentials, enrollments, bookings, passes, subscriptions, orders) and 5 events per
contact, then for five realistic audiences times:

  herald   `herald audience count` (the engine's compiled query through sea-orm), median of RUNS;
  ceiling  the same count written by hand in SQL, run in one psql session, median of RUNS.

Prints the counts (which must agree), both times and the ratio per audience.

Then reach: for the same audiences and for everyone, `herald audience count --reach marketing`
times who a marketing email would reach and why not the others (one grouped query over the
standing checks: inactive, no address, suppressed against a 20,000-address suppression list,
unsubscribed, no consent) beside the plain count, median of RUNS each; the ratio is reach over
count.
Usage: bench/audience.py [CONTACTS] (default 1,000,000). Needs target/release/herald, psql and
PostgreSQL at $PG (postgres://postgres@127.0.0.1:5432).
"""
import json, os, re, shutil, statistics, subprocess, sys, tempfile, time

CONTACTS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
RUNS = 5
PG = os.environ.get("PG", "postgres://postgres@127.0.0.1:5432")
DB = "herald_bench_audience"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERALD = os.path.join(ROOT, "target", "release", "herald")

AUDIENCES = [
    ("credential expiring in 30 days, active contacts",
     {"filter": "all", "of": [{"filter": "active_contact"},
                              {"filter": "credential", "collection": "First aid",
                               "date": ["expires", {"direction": "next", "amount": 30, "unit": "days"}]}]},
     """SELECT count(*) FROM contact c WHERE c.org_id = 1 AND c.status = 'active' AND EXISTS (
          SELECT 1 FROM credential r WHERE r.contact_id = c.id AND r.org_id = 1 AND r.collection = 'First aid'
          AND r.expires_at BETWEEN now() AND now() + interval '30 days')"""),
    ("ordered in 6 months, no active subscription, marketing consent",
     {"filter": "all", "of": [{"filter": "ordered", "within": {"direction": "last", "amount": 6, "unit": "months"}},
                              {"filter": "not", "not": {"filter": "active_subscription"}},
                              {"filter": "consent", "message_type": "marketing"}]},
     """SELECT count(*) FROM contact c WHERE c.org_id = 1 AND c.marketing_consent
          AND EXISTS (SELECT 1 FROM purchase p WHERE p.contact_id = c.id AND p.org_id = 1
                      AND p.ordered_at BETWEEN now() - interval '6 months' AND now())
          AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.contact_id = c.id AND s.org_id = 1
                          AND s.status = 'active' AND (s.period_end IS NULL OR s.period_end > now()))"""),
    ("ended Safety course (not remote) and completed an event in 90 days",
     {"filter": "all", "of": [{"filter": "enrollment", "state": "ended", "online": None, "exclude_remote": True,
                               "trainer": None, "category": "Safety"},
                              {"filter": "event", "name": "course_completed",
                               "within": {"direction": "last", "amount": 90, "unit": "days"}}]},
     """SELECT count(*) FROM contact c WHERE c.org_id = 1
          AND EXISTS (SELECT 1 FROM enrollment e WHERE e.contact_id = c.id AND e.org_id = 1 AND e.ends_at <= now()
                      AND NOT e.remote AND e.category = 'Safety')
          AND EXISTS (SELECT 1 FROM contact_event v WHERE v.contact_id = c.id AND v.org_id = 1
                      AND v.name = 'course_completed' AND v.occurred_at BETWEEN now() - interval '90 days' AND now())"""),
    ("French newsletter readers with a valid pass or a booking in 14 days",
     {"filter": "all", "of": [{"filter": "language", "code": "fr"}, {"filter": "consent", "message_type": "newsletter"},
                              {"filter": "any", "of": [{"filter": "valid_pass"},
                                                       {"filter": "booking", "within": {"direction": "next", "amount": 14, "unit": "days"}}]}]},
     """SELECT count(*) FROM contact c WHERE c.org_id = 1 AND c.language = 'fr' AND c.newsletter_consent
          AND (EXISTS (SELECT 1 FROM pass p WHERE p.contact_id = c.id AND p.org_id = 1 AND p.valid_from <= now() AND p.valid_to > now())
               OR EXISTS (SELECT 1 FROM booking b WHERE b.contact_id = c.id AND b.org_id = 1
                          AND b.starts_at BETWEEN now() AND now() + interval '14 days'))"""),
    ("signed up in 30 days without any credential",
     {"filter": "all", "of": [{"filter": "created", "within": {"direction": "last", "amount": 30, "unit": "days"}},
                              {"filter": "not", "not": {"filter": "credential", "collection": None, "date": None}}]},
     """SELECT count(*) FROM contact c WHERE c.org_id = 1 AND c.created_at BETWEEN now() - interval '30 days' AND now()
          AND NOT EXISTS (SELECT 1 FROM credential r WHERE r.contact_id = c.id AND r.org_id = 1)"""),
]


def psql(sql, db=DB, capture=False):
    return subprocess.run(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"], input=sql,
                          check=True, capture_output=capture, text=True).stdout


def generate():
    n = CONTACTS
    k = lambda share: int(n * share)  # records in proportion to contacts
    t = time.time()
    psql(f"""
      INSERT INTO contact (org_id, email, first_name, last_name, language, time_zone, status, created_at, updated_at,
                           marketing_consent, newsletter_consent, attributes)
      SELECT 1, 'c' || g || '@example.org', 'C', 'N' || g, (ARRAY['en','fr','de','es'])[g % 4 + 1], 'UTC',
             CASE WHEN g % 10 = 0 THEN 'inactive' ELSE 'active' END, now() - (g % 730) * interval '1 day',
             now(), g % 2 = 0, g % 3 = 0, '{{}}'
      FROM generate_series(1, {n}) g;
      INSERT INTO credential (org_id, contact_id, collection, name, published_at, renewed_at, expires_at)
      SELECT 1, (g::bigint * 7919) % ({n} * 6 / 10) + 1, (ARRAY['First aid','Forklift','Welding','Fire safety','Hygiene'])[g % 5 + 1], 'Cert',
             now() - (g % 1000) * interval '1 day', NULL,
             CASE WHEN g % 4 = 0 THEN NULL ELSE now() - (g % 1000) * interval '1 day' + interval '730 days' END
      FROM generate_series(1, {k(1.2)}) g;
      INSERT INTO enrollment (org_id, contact_id, course, category, trainer, online, remote, starts_at, ends_at)
      SELECT 1, (g::bigint * 104729) % {n} + 1, 'Course', (ARRAY['Safety','Languages','IT','Management','Health','Arts'])[g % 6 + 1],
             'Trainer ' || (g % 20), g % 2 = 0, g % 5 = 0,
             now() + ((g % 400) - 300) * interval '1 day', now() + ((g % 400) - 300 + g % 90 + 1) * interval '1 day'
      FROM generate_series(1, {k(0.8)}) g;
      INSERT INTO booking (org_id, contact_id, starts_at)
      SELECT 1, (g::bigint * 15485863) % {n} + 1, now() + ((g % 200) - 100) * interval '1 day' FROM generate_series(1, {k(0.3)}) g;
      INSERT INTO pass (org_id, contact_id, valid_from, valid_to)
      SELECT 1, (g::bigint * 32452843) % {n} + 1, now() - (g % 300) * interval '1 day', now() - (g % 300) * interval '1 day' + interval '180 days'
      FROM generate_series(1, {k(0.2)}) g;
      INSERT INTO subscription (org_id, contact_id, status, period_start, period_end)
      SELECT 1, (g::bigint * 49979687) % {n} + 1, CASE WHEN g % 3 = 0 THEN 'cancelled' ELSE 'active' END, now() - interval '1 year',
             CASE WHEN g % 7 = 0 THEN NULL ELSE now() + ((g % 400) - 200) * interval '1 day' END
      FROM generate_series(1, {k(0.2)}) g;
      INSERT INTO purchase (org_id, contact_id, ordered_at, amount_cents)
      SELECT 1, (g::bigint * 67867967) % {n} + 1, now() - (g % 720) * interval '1 day', 1000 + g % 9000 FROM generate_series(1, {k(0.3)}) g;
      INSERT INTO contact_event (org_id, contact_id, name, occurred_at, properties)
      SELECT 1, (g::bigint * 86028121) % {n} + 1,
             (ARRAY['course_completed','invoice_paid','login','page_view','quiz_passed','profile_updated','badge_shared','feedback_sent'])[g % 8 + 1],
             now() - (g % 365) * interval '1 day' - (g % 1440) * interval '1 minute', '{{}}'
      FROM generate_series(1, {k(5)}) g;
      -- Consent that was withdrawn (set, then off) for a tenth of the contacts, and a global
      -- suppression list of 20,000 of their addresses.
      UPDATE contact SET marketing_consent_at = now() - interval '1 day' WHERE id % 10 = 3;
      INSERT INTO address_list (org_id, kind, name, global, created_at)
      VALUES (1, 'suppression', 'Global suppression list', true, now());
      INSERT INTO address_list_entry (list_id, email, created_at)
      SELECT (SELECT id FROM address_list WHERE org_id = 1 AND global), 'c' || (g * 47) || '@example.org', now()
      FROM generate_series(1, 20000) g;
      VACUUM ANALYZE;
    """)
    counts = psql("SELECT (SELECT count(*) FROM contact), (SELECT count(*) FROM credential) + (SELECT count(*) FROM enrollment) + "
                  "(SELECT count(*) FROM booking) + (SELECT count(*) FROM pass) + (SELECT count(*) FROM subscription) + "
                  "(SELECT count(*) FROM purchase), (SELECT count(*) FROM contact_event)", capture=True).strip().split("|")
    print(f"generated {int(counts[0]):,} contacts, {int(counts[1]):,} records, {int(counts[2]):,} events in {time.time() - t:.0f} s")


def main():
    if not os.path.exists(HERALD):
        sys.exit("build first: bin/build --production")
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    data = tempfile.mkdtemp(prefix="herald-bench-")
    env = dict(os.environ, HERALD_DATABASE_URL=f"{PG}/{DB}", HERALD_DATA_DIR=data, HERALD_LOG="warn")
    subprocess.run([HERALD, "user", "add", "--org", "bench", "--email", "bench@bench.test", "--role", "admin"],
                   env=env, check=True, capture_output=True)
    generate()
    print(f"{'audience':<66} {'count':>8} {'herald':>9} {'by hand':>9} {'ratio':>6}")
    worst = 0.0
    for name, tree, sql in AUDIENCES:
        out = subprocess.run([HERALD, "audience", "count", "--org", "bench", "--filter", json.dumps(tree), "--repeat", str(RUNS)],
                             env=env, check=True, capture_output=True, text=True).stdout
        m = re.match(r"(\d+) contacts \(([\d.]+) ms", out)
        count, herald_ms = int(m.group(1)), float(m.group(2))
        timed = psql("\\timing on\n" + "\n".join([sql + ";"] * (RUNS + 1)), capture=True)
        by_hand = statistics.median([float(x) for x in re.findall(r"Time: ([\d.]+) ms", timed)][1:])
        hand_count = int(timed.strip().splitlines()[0])
        assert hand_count == count, f"{name}: herald counted {count}, the hand-written query {hand_count}"
        worst = max(worst, herald_ms / by_hand)
        print(f"{name:<66} {count:>8,} {herald_ms:>7.1f}ms {by_hand:>7.1f}ms {herald_ms / by_hand:>5.2f}x")
    print(f"worst ratio {worst:.2f}x")

    # Reach beside the plain count, the same audiences and everyone.
    print()
    print(f"{'reach (marketing email)':<66} {'reached':>8} {'count':>9} {'reach':>9} {'ratio':>6}")
    worst_reach = 0.0
    for name, tree, _ in AUDIENCES + [("everyone", {"filter": "all", "of": []}, None)]:
        out = subprocess.run([HERALD, "audience", "count", "--org", "bench", "--filter", json.dumps(tree),
                              "--repeat", str(RUNS), "--reach", "marketing"],
                             env=env, check=True, capture_output=True, text=True).stdout
        count_ms = float(re.match(r"\d+ contacts \(([\d.]+) ms", out).group(1))
        m = re.search(r"^(\d+) reached of (\d+) \(([\d.]+) ms", out, re.M)
        reached, matched, reach_ms = int(m.group(1)), int(m.group(2)), float(m.group(3))
        assert matched == int(re.match(r"(\d+) contacts", out).group(1)), out
        worst_reach = max(worst_reach, reach_ms / count_ms)
        print(f"{name:<66} {reached:>8,} {count_ms:>7.1f}ms {reach_ms:>7.1f}ms {reach_ms / count_ms:>5.2f}x")
        for line in out.splitlines():
            if line.startswith("  ") and not "@" in line:
                print(f"    {line.strip()}")
    print(f"worst reach ratio {worst_reach:.2f}x")
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
