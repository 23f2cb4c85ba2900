//! Crash tests: the real `herald` binary is killed (SIGKILL, no shutdown) in the middle of
//! background work and started again; the work must finish exactly once.

use crate::common::{self, free_port, ready};
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Instance {
    child: Child,
    base: String,
}

impl Drop for Instance {
    /// A test that fails leaves no server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(url: &str, dir: &std::path::Path, port: u16) -> Instance {
    start_with(url, dir, port, &[])
}

fn start_with(url: &str, dir: &std::path::Path, port: u16, env: &[(&str, String)]) -> Instance {
    let child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("serve")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HERALD_DATABASE_URL", url)
        .env("HERALD_DATA_DIR", dir)
        .env("HERALD_LISTEN", format!("127.0.0.1:{port}"))
        .env("HERALD_LOG", "error")
        // A real SMTP relay needs a sender domain (the public URL is an IP address).
        .env("HERALD_DEFAULT_FROM", "noreply@herald.test")
        .env(
            "HERALD_SECRET_KEY",
            "crash-test-secret-key-crash-test-secret-key",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Instance {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// Runs a `herald` command against `database`; it must succeed.
fn cli(database: &common::Database, dir: &std::path::Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env("HERALD_DATABASE_URL", &database.url)
        .env("HERALD_DATA_DIR", dir)
        .env("HERALD_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

async fn import_status(client: &reqwest::Client, base: &str, id: &str) -> serde_json::Value {
    let r = client
        .post(format!("{base}/api/get_import"))
        .header("origin", base)
        .form(&[("id", id)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// An import is killed with the process half way; started again, the instance takes the job
/// over at once (not when its 60-second lease expires) and finishes from the last committed
/// chunk: every row counted once, every contact stored once.
#[tokio::test]
async fn an_import_killed_half_way_finishes_once_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("herald-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let database = common::Database::fresh(&dir, 9_000).await;
    let herald = |args: &[&str]| cli(&database, &dir, args);
    herald(&[
        "user",
        "add",
        "--org",
        "acme",
        "--email",
        "ops@acme.test",
        "--role",
        "admin",
        "--password",
        common::PASSWORD,
    ]);
    // 12,000 rows, every 20th address invalid, each address twice (the second time an update).
    let rows = 12_000;
    let mut csv = String::from("Email,First name,Plan\n");
    for i in 0..rows {
        let n = i % (rows / 2);
        if n % 20 == 0 {
            csv.push_str(&format!("broken{n}.example.org,B{n},x\n"));
        } else {
            csv.push_str(&format!("p{n}@example.org,P{n},{}\n", i / (rows / 2)));
        }
    }
    let valid_addresses = (0..rows / 2).filter(|n| n % 20 != 0).count() as i64;

    let port = free_port();
    let mut first = start(&database.url, &dir, port);
    ready(&first.base).await;
    let client = common::browser();
    let r = client
        .post(format!("{}/api/login", first.base))
        .header("origin", &first.base)
        .form(&[("email", "ops@acme.test"), ("password", common::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("people.csv"),
    );
    let r = client
        .post(format!("{}/contacts/import/upload", first.base))
        .header("origin", &first.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let page = r.headers()["location"].to_str().unwrap().to_owned();
    let id = page.rsplit('/').next().unwrap().to_owned();
    let r = client
        .post(format!("{}{page}/start", first.base))
        .header("origin", &first.base)
        .form(&[
            ("col0", "email"),
            ("col1", "first_name"),
            ("col2", "attribute:plan"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), page);

    // Kill it once some chunks are in and many are not.
    let started = Instant::now();
    loop {
        let s = import_status(&client, &first.base, &id).await;
        let done = s["processed_rows"].as_i64().unwrap();
        if done >= 500 {
            assert!(
                done < rows as i64,
                "the import finished before it could be killed"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the import did not start: {s}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    let at_kill = database
        .count(&format!(
            "SELECT processed_rows FROM import_job WHERE id = {id}"
        ))
        .await;
    let spawned = Instant::now();
    let mut second = start(&database.url, &dir, free_port());
    ready(&second.base).await;
    let client = common::browser();
    client
        .post(format!("{}/api/login", second.base))
        .header("origin", &second.base)
        .form(&[("email", "ops@acme.test"), ("password", common::PASSWORD)])
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let mut resumed = None;
    let s = loop {
        let s = import_status(&client, &second.base, &id).await;
        if resumed.is_none() && s["processed_rows"].as_i64().unwrap() > at_kill {
            resumed = Some(spawned.elapsed());
        }
        if s["status"] == "done" || s["status"] == "failed" {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "not finished: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    second.child.kill().unwrap();
    second.child.wait().unwrap();
    let resumed = resumed.expect("the import went on after the restart");
    assert!(
        resumed < Duration::from_secs(5),
        "the import resumed {resumed:?} after the restart"
    );

    assert_eq!(s["status"], "done", "{s}");
    assert_eq!(s["processed_rows"], rows, "{s}");
    assert_eq!(s["created_rows"], valid_addresses, "{s}");
    assert_eq!(s["updated_rows"], valid_addresses, "{s}");
    assert_eq!(s["error_rows"], (rows / 20) as i64, "{s}");
    let contacts = database.count("SELECT COUNT(*) FROM contact").await;
    assert_eq!(contacts, valid_addresses, "every contact stored once");
    let errors = database.count("SELECT COUNT(*) FROM import_error").await;
    assert_eq!(
        errors,
        (rows / 20) as i64,
        "every refused row reported once"
    );
    let jobs = database
        .count("SELECT COUNT(*) FROM job WHERE kind = 'contacts.import'")
        .await;
    assert_eq!(jobs, 0, "the job is done and gone");
    database.drop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// An organisation `acme` with `recipients` contacts and an active immediate campaign to all
/// of them (its send started, nothing sent yet); answers the campaign's id.
async fn prepared_send(
    database: &common::Database,
    dir: &std::path::Path,
    recipients: usize,
) -> i64 {
    use herald_core::campaigns::builder;
    use herald_core::domain::access::Actor;
    use herald_core::domain::campaign::{Draft, Settings};
    use herald_core::domain::template::{Content, TemplateInput};
    use herald_core::domain::trigger::Trigger;
    use herald_core::domain::{ContactStatus, MessageType};
    use herald_core::entity::contact;
    use sea_orm::{EntityTrait, Set};

    cli(
        database,
        dir,
        &[
            "user",
            "add",
            "--org",
            "acme",
            "--email",
            "ops@acme.test",
            "--role",
            "admin",
        ],
    );
    let db = herald_core::db::connect(&database.url).await.unwrap();
    let org = herald_core::auth::accounts::find_org(&db, "acme")
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    for chunk in (0..recipients).collect::<Vec<_>>().chunks(1_000) {
        contact::Entity::insert_many(chunk.iter().map(|i| contact::ActiveModel {
            org_id: Set(org.id),
            email: Set(Some(format!("p{i}@example.org"))),
            first_name: Set(format!("P{i}")),
            last_name: Set(String::new()),
            language: Set("en".into()),
            time_zone: Set("UTC".into()),
            status: Set(ContactStatus::Active),
            created_at: Set(now),
            updated_at: Set(now),
            marketing_consent: Set(true),
            newsletter_consent: Set(false),
            ..Default::default()
        }))
        .exec_without_returning(&db)
        .await
        .unwrap();
    }
    let system = Actor::system(org.id);
    let template = herald_core::templates::save(
        &db,
        &system,
        None,
        &TemplateInput {
            name: "Hello".into(),
            kind: "news".into(),
            description: String::new(),
            language: "en".into(),
            content: Content {
                subject: "Hello {{ contact.first_name }}".into(),
                preheader: String::new(),
                html: "<p>Hello {{ contact.first_name }}</p>".into(),
                text: "Hello {{ contact.first_name }}".into(),
            },
            variants: Default::default(),
        },
    )
    .await
    .unwrap()
    .id;
    let draft = Draft {
        name: "Everyone".into(),
        message_type: MessageType::Marketing,
        trigger: Some(Trigger::Immediately),
        template_id: Some(template),
        settings: Settings {
            from_email: "news@acme.example".into(),
            ..Settings::default()
        },
        ..Draft::default()
    };
    let campaign = builder::save(&db, &system, None, &draft, now)
        .await
        .unwrap()
        .id;
    builder::activate(&db, &system, campaign, now)
        .await
        .unwrap();
    db.close().await.unwrap();

    campaign
}

/// A 10,000-recipient campaign to a real SMTP server, with the process killed (SIGKILL) three
/// times at random moments and started again each time: everyone receives the message, and
/// duplicates are no more than the messages that were in flight (`sending`) at the kills.
#[tokio::test]
async fn a_send_killed_three_times_reaches_everyone_once_but_for_what_was_in_flight() {
    let dir = std::env::temp_dir().join(format!("herald-crash-send-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let database = common::Database::fresh(&dir, 9_001).await;
    let recipients = 10_000;
    let campaign = prepared_send(&database, &dir, recipients).await;
    let sink = crate::delivery::SmtpSink::start(&dir.join("sink"), &[]);
    let env = [
        ("HERALD_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port)),
        ("HERALD_SMTP_POOL", "4".into()),
    ];
    let in_flight = "SELECT COUNT(*) FROM message WHERE state = 'sending'";
    let mut bound = 0;
    let mut kills = Vec::new();
    // How long each restarted instance took from its start to its first new message: the jobs
    // the killed one held are taken over at once, not after their 60-second leases.
    let mut resumed = Vec::new();
    for k in 1..=3 {
        let before = sink.received_count();
        let spawned = Instant::now();
        let mut instance = start_with(&database.url, &dir, free_port(), &env);
        ready(&instance.base).await;
        if k > 1 {
            resumed.push(first_new_message(&sink, before, spawned).await);
        }
        // A random moment in this third of the send.
        let target = (k - 1) * recipients / 3 + rand::random::<usize>() % (recipients / 4);
        let started = Instant::now();
        while sink.received_count() < target {
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "the send stalled at {} of {target}",
                sink.received_count()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        instance.child.kill().unwrap();
        instance.child.wait().unwrap();
        let flying = database.count(in_flight).await;
        bound += flying;
        kills.push((sink.received_count(), flying));
    }
    let before = sink.received_count();
    let spawned = Instant::now();
    let mut last = start_with(&database.url, &dir, free_port(), &env);
    ready(&last.base).await;
    resumed.push(first_new_message(&sink, before, spawned).await);
    assert!(
        resumed.iter().all(|d| *d < Duration::from_secs(5)),
        "sending resumed only after {resumed:?} (kills at {kills:?})"
    );
    let open = format!(
        "SELECT COUNT(*) FROM message WHERE campaign_id = {campaign} \
         AND state IN ('queued', 'sending')"
    );
    let started = Instant::now();
    while database.count(&open).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "not finished after the kills {kills:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    last.child.kill().unwrap();
    last.child.wait().unwrap();

    let received = sink.recipients();
    let distinct: std::collections::HashSet<&String> = received.iter().collect();
    assert_eq!(
        distinct.len(),
        recipients,
        "nobody missing (kills at {kills:?})"
    );
    let duplicates = received.len() - distinct.len();
    assert!(
        duplicates as i64 <= bound,
        "{duplicates} duplicates, more than the {bound} in flight at the kills {kills:?}"
    );
    eprintln!(
        "send crash test: kills at (received, in flight) {kills:?}; {duplicates} duplicates; \
         sending resumed {resumed:?} after each restart"
    );
    let sent = database
        .count(&format!(
            "SELECT COUNT(*) FROM message WHERE campaign_id = {campaign} AND state = 'sent'"
        ))
        .await;
    assert_eq!(sent, recipients as i64);
    database.drop().await;
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits for the sink to receive more than `before` messages; answers how long after
/// `since` the first arrived.
async fn first_new_message(
    sink: &crate::delivery::SmtpSink,
    before: usize,
    since: Instant,
) -> Duration {
    while sink.received_count() <= before {
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "nothing sent after the restart"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    since.elapsed()
}

/// Two instances against one PostgreSQL send one 4,000-recipient campaign together: both take
/// sender jobs, and every recipient receives the message exactly once.
#[tokio::test]
async fn two_instances_on_postgresql_share_a_send_and_send_each_message_once() {
    if std::env::var("HERALD_TEST_DATABASE_URL").map_or(true, |u| u.trim().is_empty()) {
        // One instance works an SQLite file; the suite runs this test on PostgreSQL.
        eprintln!("two instances: PostgreSQL only (bin/test runs it there)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("herald-two-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let database = common::Database::fresh(&dir, 9_002).await;
    let recipients = 4_000;
    let campaign = prepared_send(&database, &dir, recipients).await;
    let sink = crate::delivery::SmtpSink::start(&dir.join("sink"), &[]);
    let env = [
        ("HERALD_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port)),
        ("HERALD_SMTP_POOL", "2".into()),
        // Two jobs at a time each: the four sender shards cannot all go to one instance.
        ("HERALD_WORKERS", "2".into()),
    ];
    let mut a = start_with(&database.url, &dir, free_port(), &env);
    let mut b = start_with(&database.url, &dir, free_port(), &env);
    ready(&a.base).await;
    ready(&b.base).await;
    // Until the send is complete: every row written and none left queued or sending.
    let open = format!(
        "SELECT COUNT(*) FROM campaign_send WHERE campaign_id = {campaign} \
         AND completed_at IS NULL"
    );
    // Which workers hold sender jobs while the send runs.
    let holders = "SELECT COUNT(DISTINCT lease_owner) FROM job \
                   WHERE kind = 'delivery.send' AND lease_owner IS NOT NULL";
    let mut most_holders = 0;
    let started = Instant::now();
    while database.count(&open).await > 0 {
        most_holders = most_holders.max(database.count(holders).await);
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "the send did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in [&mut a, &mut b] {
        i.child.kill().unwrap();
        i.child.wait().unwrap();
    }
    let received = sink.recipients();
    let distinct: std::collections::HashSet<&String> = received.iter().collect();
    assert_eq!(distinct.len(), recipients, "nobody missing");
    assert_eq!(received.len(), recipients, "nobody twice");
    assert_eq!(most_holders, 2, "both instances sent");
    database.drop().await;
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A workflow of three messages (first, a one-minute wait, second, a wait for the event `go`,
/// third) with 2,000 runs, the process killed three times while runs are at several steps:
/// while overdue runs are being advanced, while the runs an event woke are being sent, and
/// again. Afterwards every run is where its log says, every contact got each message, and
/// nobody got one twice beyond what was in flight at the kills.
#[tokio::test]
async fn a_workflow_killed_three_times_sends_each_step_once_and_loses_no_one() {
    use herald_core::campaigns::builder;
    use herald_core::domain::access::{Actor, KeyScopes};
    use herald_core::domain::campaign::{Draft, Frequency, Settings};
    use herald_core::domain::ingest::EventInput;
    use herald_core::domain::template::{Content, TemplateInput};
    use herald_core::domain::trigger::Trigger;
    use herald_core::domain::workflow::{Span, SpanUnit, Step, StepKind, Workflow};
    use herald_core::domain::{CampaignKind, Channel, ContactStatus, MessageType};
    use herald_core::entity::contact;
    use sea_orm::{EntityTrait, Set};

    let dir = std::env::temp_dir().join(format!("herald-crash-flow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let database = common::Database::fresh(&dir, 9_003).await;
    let n = 2_000usize;
    cli(
        &database,
        &dir,
        &[
            "user",
            "add",
            "--org",
            "acme",
            "--email",
            "ops@acme.test",
            "--role",
            "admin",
        ],
    );
    let db = herald_core::db::connect(&database.url).await.unwrap();
    let org = herald_core::auth::accounts::find_org(&db, "acme")
        .await
        .unwrap()
        .unwrap();
    let system = Actor::system(org.id);
    // Entered five minutes ago (the first wait is over when the instance starts).
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        contact::Entity::insert_many(chunk.iter().map(|i| contact::ActiveModel {
            org_id: Set(org.id),
            email: Set(Some(format!("p{i}@example.org"))),
            first_name: Set(format!("P{i}")),
            last_name: Set(String::new()),
            language: Set("en".into()),
            time_zone: Set("UTC".into()),
            status: Set(ContactStatus::Active),
            created_at: Set(past),
            updated_at: Set(past),
            marketing_consent: Set(true),
            newsletter_consent: Set(false),
            ..Default::default()
        }))
        .exec_without_returning(&db)
        .await
        .unwrap();
    }
    let mut templates = Vec::new();
    for name in ["first", "second", "third"] {
        let t = herald_core::templates::save(
            &db,
            &system,
            None,
            &TemplateInput {
                name: name.into(),
                kind: "news".into(),
                description: String::new(),
                language: "en".into(),
                content: Content {
                    subject: name.into(),
                    preheader: String::new(),
                    html: "<p>Hello {{ contact.first_name }}</p>".into(),
                    text: "Hello {{ contact.first_name }}".into(),
                },
                variants: Default::default(),
            },
        )
        .await
        .unwrap();
        templates.push(t.id);
    }
    let step = |id: &str, kind| Step {
        id: id.into(),
        kind,
    };
    let send = |id: &str, t: i64, next: Option<&str>| {
        step(
            id,
            StepKind::Send {
                channel: Channel::Email,
                template_id: t,
                next: next.map(Into::into),
            },
        )
    };
    let wf = Workflow {
        entry: "first".into(),
        steps: vec![
            send("first", templates[0], Some("wait")),
            step(
                "wait",
                StepKind::Wait {
                    span: Span {
                        amount: 1,
                        unit: SpanUnit::Minutes,
                    },
                    next: Some("second".into()),
                },
            ),
            send("second", templates[1], Some("go?")),
            step(
                "go?",
                StepKind::WaitForEvent {
                    event: "go".into(),
                    timeout: Span {
                        amount: 1,
                        unit: SpanUnit::Days,
                    },
                    next: Some("third".into()),
                    on_timeout: None,
                },
            ),
            send("third", templates[2], None),
        ],
        ..Workflow::default()
    };
    let draft = Draft {
        name: "Series".into(),
        kind: CampaignKind::EventTriggered,
        message_type: MessageType::Marketing,
        trigger: Some(Trigger::Event {
            name: "start".into(),
        }),
        settings: Settings {
            from_email: "news@acme.example".into(),
            frequency: Frequency::Once,
            ..Settings::default()
        },
        ..Draft::default()
    };
    let campaign = builder::save(&db, &system, None, &draft, past)
        .await
        .unwrap()
        .id;
    herald_core::workflows::manage::save(&db, &system, campaign, wf, past)
        .await
        .unwrap();
    builder::activate(&db, &system, campaign, past)
        .await
        .unwrap();
    let event = |i: usize, name: &str| EventInput {
        email: format!("p{i}@example.org"),
        name: name.into(),
        occurred_at: None,
        external_id: Some(format!("{name}-{i}")),
        properties: Default::default(),
    };
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let events: Vec<EventInput> = chunk.iter().map(|i| event(*i, "start")).collect();
        herald_core::ingest::add_events(&db, &system, &events, past)
            .await
            .unwrap();
    }
    let (_, key) = herald_core::auth::api_keys::create(&db, &system, "crash", KeyScopes::all())
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(
        database
            .count("SELECT COUNT(*) FROM workflow_run WHERE step_id = 'wait'")
            .await,
        n as i64,
        "every run waits at the first wait"
    );

    let sink = crate::delivery::SmtpSink::start(&dir.join("sink"), &[]);
    let env = [
        ("HERALD_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port)),
        ("HERALD_SMTP_POOL", "4".into()),
    ];
    let in_flight = "SELECT COUNT(*) FROM message WHERE state = 'sending'";
    let at_go = "SELECT COUNT(*) FROM workflow_run WHERE step_id = 'go?'";
    let before_go = "SELECT COUNT(*) FROM workflow_run WHERE seq < 4";
    let http = reqwest::Client::new();
    let go = |base: String, from: usize, to: usize| {
        let (http, key) = (http.clone(), key.clone());
        async move {
            let events: Vec<_> = (from..to)
                .map(|i| serde_json::json!({"email": format!("p{i}@example.org"), "name": "go", "external_id": format!("go-{i}")}))
                .collect();
            let r = http
                .post(format!("{base}/api/v1/events"))
                .bearer_auth(&key)
                .json(&serde_json::json!({ "events": events }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        }
    };
    let mut bound = 0;
    let mut kills = Vec::new();
    for k in 1..=3usize {
        let mut instance = start_with(&database.url, &dir, free_port(), &env);
        ready(&instance.base).await;
        match k {
            // Killed while the overdue runs are advanced and their messages sent.
            1 => {}
            // The first half, then the second, goes on at an event (once all are there).
            _ => {
                let started = Instant::now();
                while database.count(before_go).await > 0 {
                    assert!(
                        started.elapsed() < Duration::from_secs(180),
                        "runs did not reach the event wait"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let (from, to) = if k == 2 { (0, n / 2) } else { (n / 2, n) };
                go(instance.base.clone(), from, to).await;
            }
        }
        let started = Instant::now();
        if k == 1 {
            // As soon as the first batch of overdue runs has moved on (the others are still
            // being advanced, or waiting to be).
            while database.count(at_go).await == 0 {
                assert!(
                    started.elapsed() < Duration::from_secs(180),
                    "no run was advanced"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        let target = (k - 1) * n + n / 4 + rand::random::<usize>() % (n / 2);
        while k > 1 && sink.received_count() < target {
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "stalled at {} of {target} (kills at {kills:?})",
                sink.received_count()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        instance.child.kill().unwrap();
        instance.child.wait().unwrap();
        let flying = database.count(in_flight).await;
        bound += flying;
        kills.push((sink.received_count(), flying, database.count(at_go).await));
    }
    let mut last = start_with(&database.url, &dir, free_port(), &env);
    ready(&last.base).await;
    let open = format!(
        "SELECT COUNT(*) FROM message WHERE campaign_id = {campaign} AND state IN ('queued', 'sending')"
    );
    let active = "SELECT COUNT(*) FROM workflow_run WHERE status = 'active'";
    let started = Instant::now();
    while database.count(&open).await > 0 || database.count(active).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "not finished after the kills {kills:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    last.child.kill().unwrap();
    last.child.wait().unwrap();

    // Everyone got each message; duplicates only of what was in flight at the kills.
    let mut got: std::collections::HashMap<(String, String), usize> = Default::default();
    for m in sink.received() {
        let field = |name: &str| {
            m.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|t| t.trim().to_owned())
                .unwrap_or_default()
        };
        *got.entry((field("To: "), field("Subject: "))).or_default() += 1;
    }
    assert_eq!(
        got.len(),
        3 * n,
        "each contact got each message (kills at {kills:?})"
    );
    let duplicates: usize = got.values().map(|c| c - 1).sum();
    assert!(
        duplicates as i64 <= bound,
        "{duplicates} duplicates, more than the {bound} in flight at the kills {kills:?}"
    );
    // Every run completed at its fifth step, where its log says; one message per position.
    let count = |sql: String| {
        let database = &database;
        async move { database.count(&sql).await }
    };
    assert_eq!(
        count(format!("SELECT COUNT(*) FROM workflow_run WHERE campaign_id = {campaign} AND status = 'completed' AND step_id = 'third' AND seq = 5")).await,
        n as i64
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM workflow_run r WHERE NOT EXISTS (SELECT 1 FROM workflow_log l \
               WHERE l.run_id = r.id AND l.status = 'active' AND l.seq = r.seq AND l.step_id = r.step_id)".into()).await,
        0,
        "a run is not where its log says"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM workflow_log WHERE status = 'active'".into()).await,
        5 * n as i64
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM workflow_log WHERE status = 'completed'".into()).await,
        n as i64
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM message WHERE campaign_id = {campaign} AND state = 'sent'"
        ))
        .await,
        3 * n as i64
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT run_id, run_seq FROM message GROUP BY run_id, run_seq HAVING COUNT(*) > 1) d".into()).await,
        0
    );
    // The counters agree: all completed, nobody anywhere.
    assert_eq!(
        count(format!("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM workflow_counter WHERE campaign_id = {campaign} AND step_id = '' AND name = 'completed'")).await,
        n as i64
    );
    assert_eq!(
        count(format!("SELECT COUNT(*) FROM workflow_counter WHERE campaign_id = {campaign} AND name = 'here' AND n <> 0")).await,
        0
    );
    eprintln!(
        "workflow crash test: kills at (received, in flight, at the event wait) {kills:?}; {duplicates} duplicates"
    );
    database.drop().await;
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
}
