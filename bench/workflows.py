#!/usr/bin/env python3
"""Workflows at scale: many runs waking at once, against the plain delivery engine.

For each size (default 10,000 and 100,000 contacts), on a fresh PostgreSQL database:

  workflow  a workflow campaign (wait a day, then send) has admitted every contact; its
            runs all wait at the wait. The release `herald serve` is stopped, every run is made
            due at once (its day of waiting moved into the past), and a fresh instance is started: timed
            from its start to the last message at the local SMTP sink (tools/smtp-sink). So it
            covers claiming the due runs, advancing them, enqueueing their messages in the same
            transactions, and the delivery engine sending them.
  ceiling   the plain delivery engine in the same run, on the same database and sink: an
            immediate one-message campaign to the same contacts, timed from activation to the
            last message (as bench/send.py).

Prints the ratio (goal: at least 0.7) and the workflow instance's peak memory (VmHWM) at each
size (goal: flat between 10,000 and 100,000 runs: the runs are advanced a batch at a time).

Usage: bench/workflows.py [CONTACTS ...]. Needs target/release/herald (bin/build --production),
.venv with aiosmtpd (bin/setup --test), psql and PostgreSQL at $PG.
"""
import os, signal, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import send as common  # noqa: E402  (the sink, the database and the API helpers)

SIZES = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]


def wait_until(what, done, limit=3600):
    print(f"  waiting for {what}", file=sys.stderr, flush=True)
    started = time.time()
    while not done():
        if time.time() - started > limit:
            sys.exit(f"stalled: {what}")
        time.sleep(0.2)


def workflow(n, sink):
    env, key, _ = common.prepare(n)
    proc, base = common.start(env, sink)
    t = common.template(base, key)
    flow = {"entry": "wait", "steps": [
        {"id": "wait", "type": "wait", "span": {"amount": 1, "unit": "days"}, "next": "hello"},
        {"id": "hello", "type": "send", "channel": "email", "template_id": t, "next": None}]}
    c = common.api(base, key, "POST", "/workflows", {
        "name": "Series", "message_type": "marketing", "workflow": flow,
        "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "immediately"},
        "settings": {"from_email": "news@acme.example", "from_name": "Acme"}})["id"]
    admitted = time.time()
    common.api(base, key, "POST", f"/workflows/{c}/start", {})
    wait_until("admission", lambda: common.psql(
        "SELECT COUNT(*) FROM workflow_run WHERE step_id = 'wait'") == str(n))
    admitted = time.time() - admitted
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    # Every run due at once: its day of waiting over (a wait counts from the arrival).
    common.psql("UPDATE workflow_run SET arrived_at = arrived_at - interval '1 day', wake_at = now() "
                "WHERE status = 'active'; ANALYZE;")
    sink.clear()
    started = time.time()
    proc, base = common.start(env, sink)
    wait_until("the workflow's messages", lambda: sink.count() >= n)
    elapsed = time.time() - started
    peak = common.peak_kib(proc.pid)
    stats = common.api(base, key, "GET", f"/workflows/{c}/stats")
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    if stats["whole"]["completed"] != n or stats["steps"][1]["messages"]["sent"] != n:
        sys.exit(f"not all completed and sent: {stats['whole']}")
    # The plain engine on the same database: the same contacts, one immediate campaign.
    sink.clear()
    proc, base = common.start(env, sink)
    plain = common.api(base, key, "POST", "/campaigns", {
        "name": "Everyone", "message_type": "marketing", "template_id": t,
        "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "immediately"},
        "settings": {"from_email": "news@acme.example", "from_name": "Acme"}})["id"]
    plain_started = time.time()
    common.api(base, key, "POST", f"/campaigns/{plain}/activate", {})
    wait_until("the plain campaign", lambda: sink.count() >= n)
    plain_elapsed = time.time() - plain_started
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    return admitted, elapsed, plain_elapsed, peak


def main():
    for path, how in [(common.HERALD, "bin/build --production"), (common.PYTHON, "bin/setup --test")]:
        if not os.path.exists(path):
            sys.exit(f"missing {path}: {how}")
    sink = common.Sink()
    peaks = []
    try:
        for n in SIZES:
            admitted, elapsed, plain, peak = workflow(n, sink)
            peaks.append(peak)
            print(f"{n:>9,} runs: admitted in {admitted:6.1f} s; due at once, advanced and sent "
                  f"{n / elapsed:7.1f}/s; plain engine {n / plain:7.1f}/s; ratio {plain / elapsed:.2f} "
                  f"(goal 0.7); peak memory {peak / 1024:.0f} MiB", flush=True)
        if len(peaks) > 1:
            print(f"peak memory, largest over smallest size: {peaks[-1] / peaks[0]:.2f}")
    finally:
        sink.stop()
        common.psql(f"DROP DATABASE IF EXISTS {common.DB}", db="postgres")


if __name__ == "__main__":
    main()
