//! The `herald` binary's administration commands, run as an operator would.

use std::process::Command;

/// `herald` with nothing configured but its data directory (SQLite there).
fn command(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HERALD_DATA_DIR", dir)
        .env("HERALD_LOG", "error");
    command
}

fn herald(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = command(dir).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn user_add_creates_the_organisation_and_prints_a_password() {
    let dir = std::env::temp_dir().join(format!("herald-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let (ok, out) = herald(
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
    assert!(ok, "{out}");
    assert!(
        out.contains("Added ops@acme.test (Admin) to acme."),
        "{out}"
    );
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("a generated password")
        .trim();
    assert_eq!(password.len(), 20);

    let (ok, out) = herald(
        &dir,
        &[
            "user",
            "add",
            "--org",
            "acme",
            "--email",
            "m@acme.test",
            "--role",
            "marketer",
            "--password",
            "chosen-password",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        !out.contains("Password:"),
        "a chosen password is not printed: {out}"
    );

    let (ok, out) = herald(
        &dir,
        &[
            "user",
            "add",
            "--org",
            "acme",
            "--email",
            "x@acme.test",
            "--role",
            "owner",
        ],
    );
    assert!(!ok);
    assert!(
        out.contains("--role must be one of admin, marketer, member"),
        "{out}"
    );
    let (ok, out) = herald(
        &dir,
        &[
            "user",
            "add",
            "--org",
            "Bad Slug",
            "--email",
            "x@acme.test",
            "--role",
            "admin",
        ],
    );
    assert!(!ok);
    assert!(out.contains("Invalid organisation slug"), "{out}");

    assert!(
        dir.join("herald.db").exists(),
        "SQLite under the data directory by default"
    );
    assert!(
        dir.join("secret.key").exists(),
        "the secret key is generated into the data directory"
    );
    let (ok, out) = herald(&dir, &["migrate"]);
    assert!(ok && out.contains("Migrations applied."), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn serve_stops_gracefully_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = std::env::temp_dir().join(format!("herald-cli-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("serve")
        .env_clear()
        .env("HERALD_DATA_DIR", &dir)
        .env("HERALD_LISTEN", "127.0.0.1:0")
        .env("HERALD_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The log names the address it bound.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("listening on ")
                .nth(1)
                .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        })
        .expect("a listening line");
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `herald api-key create` gives every scope unless `--scopes` narrows them; `herald jobs`
/// prints the queue.
#[test]
fn api_keys_get_scopes_and_the_queue_prints() {
    let dir = std::env::temp_dir().join(format!("herald-cli-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (ok, out) = herald(
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
    assert!(ok, "{out}");
    let (ok, out) = herald(
        &dir,
        &["api-key", "create", "--org", "acme", "--name", "CRM"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("(read write send)"), "{out}");
    let (ok, out) = herald(
        &dir,
        &[
            "api-key", "create", "--org", "acme", "--name", "BI", "--scopes", "read",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("“BI” (read)"), "{out}");
    let (ok, out) = herald(
        &dir,
        &[
            "api-key", "create", "--org", "acme", "--name", "X", "--scopes", "admin",
        ],
    );
    assert!(!ok);
    assert!(
        out.contains("--scopes: Unknown API key scope “admin”"),
        "{out}"
    );

    let (ok, out) = herald(&dir, &["segments", "refresh", "--org", "acme"]);
    assert!(ok, "{out}");
    assert!(out.starts_with("Refreshed 0 segments"), "{out}");
    let (ok, out) = herald(&dir, &["jobs"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("kind") && out.contains("oldest pending"),
        "{out}"
    );
    let (ok, out) = herald(&dir, &["jobs", "run"]);
    assert!(ok, "{out}");
    assert!(out.starts_with("Ran "), "{out}");
    let (ok, out) = herald(&dir, &["jobs", "retry", "12345"]);
    assert!(!ok);
    assert!(out.contains("job not found"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sending_settings_are_set_from_the_command_line_and_secrets_never_shown() {
    let dir = std::env::temp_dir().join(format!("herald-cli-sending-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (ok, out) = herald(
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
    assert!(ok, "{out}");
    let set = |json: &str| herald(&dir, &["sending", "set", "--org", "acme", "--json", json]);
    let (ok, out) =
        set(r#"{"email_provider": "smtp", "smtp_url": "smtp://u:hunter22@127.0.0.1:2525"}"#);
    assert!(ok, "{out}");
    assert!(
        out.contains("Email goes to SMTP at smtp://127.0.0.1:2525"),
        "{out}"
    );
    for (bad, says) in [
        (r#"{"email_provider": "carrier-pigeon"}"#, "does not read"),
        (r#"{"smtp_url": "http://x"}"#, "smtp://"),
        (r#"{"email_provider": "ses"}"#, "SES region"),
        (r#"{"rate_per_second": 0}"#, "rate limit"),
    ] {
        let (ok, out) = set(bad);
        assert!(!ok && out.contains(says), "{bad}: {out}");
    }
    let (ok, out) = herald(
        &dir,
        &[
            "sending",
            "add-domain",
            "--org",
            "acme",
            "--domain",
            "acme.example",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("herald._domainkey.acme.example  TXT  \"v=DKIM1; k=rsa; p="),
        "{out}"
    );
    let (ok, out) = herald(
        &dir,
        &[
            "sending",
            "add-identity",
            "--org",
            "acme",
            "--email",
            "news@acme.example",
            "--name",
            "Acme",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = herald(&dir, &["sending", "show", "--org", "acme"]);
    assert!(ok, "{out}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["smtp"], "smtp://u@127.0.0.1:2525");
    assert_eq!(shown["identities"][0]["email"], "news@acme.example");
    assert_eq!(shown["identities"][0]["is_default"], true);
    assert_eq!(
        shown["domains"][0]["record_name"],
        "herald._domainkey.acme.example"
    );
    assert!(
        !out.contains("hunter22") && !out.contains("PRIVATE KEY"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Opens a server answered for are in the database after SIGTERM, even those still queued for
/// the recorder when the signal came: a graceful shutdown writes the queue before it exits.
#[tokio::test(flavor = "multi_thread")]
async fn tracking_hits_answered_before_sigterm_are_all_written() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = std::env::temp_dir().join(format!("herald-cli-hits-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("serve")
        .env_clear()
        .env("HERALD_DATA_DIR", &dir)
        .env("HERALD_LISTEN", "127.0.0.1:0")
        .env("HERALD_WORKERS", "0")
        .env("HERALD_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("listening on ")
                .nth(1)
                .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        })
        .expect("a listening line");
    // A sent message, written beside the running server.
    let db = herald_core::db::connect(&format!("sqlite://{}", dir.join("herald.db").display()))
        .await
        .unwrap();
    let org = herald_core::auth::accounts::ensure_org(&db, "acme", "Acme")
        .await
        .unwrap();
    let campaign = crate::common::campaign_with_id(&db, org.id).await;
    crate::common::message_for(&db, org.id, campaign, None, None, None).await;
    let m = herald_core::entity::message::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let key = herald_core::secret::SecretKey::load_or_create(&dir).unwrap();
    let token = herald_core::tracking::sign(&key, herald_core::domain::HitKind::Open, m.id, None);
    // 300 opens on one kept-alive connection, read back, then SIGTERM at once.
    const HITS: usize = 300;
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let request = format!("GET /o/{token} HTTP/1.1\r\nHost: x\r\nUser-Agent: Chrome\r\n\r\n");
    for _ in 0..HITS {
        stream.write_all(request.as_bytes()).unwrap();
    }
    let mut answered = 0;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    while answered < HITS {
        let n = stream.read(&mut chunk).unwrap();
        assert!(
            n > 0,
            "the server closed the connection after {answered} answers"
        );
        buf.extend_from_slice(&chunk[..n]);
        answered = buf.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
    }
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let written = herald_core::entity::tracking_event::Entity::find()
        .count(&db)
        .await
        .unwrap();
    assert_eq!(
        written, HITS as u64,
        "every answered open is in the database"
    );
    let opens = herald_core::entity::message::Entity::find_by_id(m.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .opens;
    assert_eq!(opens, HITS as i32);
    let _ = lines.count();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Started as a newcomer starts it (no `HERALD_DEFAULT_FROM`, the public URL an IP address),
/// Herald sends a campaign that names no sender from an address its own check accepts, into the
/// development mailbox; with a real provider and no domain to derive one from, it refuses to
/// start and says what to set.
#[tokio::test]
async fn a_campaign_without_a_sender_is_sent_from_the_derived_default_address() {
    use serde_json::{Value, json};
    let dir = std::env::temp_dir().join(format!("herald-cli-from-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (ok, out) = herald(
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
    assert!(ok, "{out}");
    let (ok, out) = herald(
        &dir,
        &["api-key", "create", "--org", "acme", "--name", "CRM"],
    );
    assert!(ok, "{out}");
    let key = out
        .split_whitespace()
        .find(|w| w.starts_with("hk_"))
        .expect("a key")
        .to_owned();

    let refused = command(&dir)
        .arg("serve")
        .env("HERALD_SMTP_URL", "smtp://127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("set HERALD_DEFAULT_FROM"), "{said}");

    let port = crate::common::free_port();
    let mut child = command(&dir)
        .arg("serve")
        .env("HERALD_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    crate::common::ready(&format!("http://127.0.0.1:{port}")).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let r = post(
        "/contacts",
        json!({"contacts": [{"email": "ada@example.org"}]}),
    )
    .await
    .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let t: Value = post(
        "/templates",
        json!({"name": "Hello", "subject": "Hello", "html": "<p>Hi</p>", "text": "Hi"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let c: Value = post(
        "/campaigns",
        json!({"name": "News", "message_type": "marketing", "template_id": t["id"],
               "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "immediately"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = c["id"].as_i64().expect("a campaign");
    let r = post(&format!("/campaigns/{id}/activate"), json!({}))
        .await
        .unwrap();
    let status = r.status();
    assert_eq!(
        status,
        reqwest::StatusCode::OK,
        "{}",
        r.text().await.unwrap()
    );
    let mut sent = Value::Null;
    for _ in 0..100 {
        sent = client
            .get(format!("{base}/campaigns/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if sent["messages"]["sent"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(sent["messages"]["sent"], 1, "{sent}");
    let db = herald_core::db::connect(&format!("sqlite://{}", dir.join("herald.db").display()))
        .await
        .unwrap();
    use sea_orm::EntityTrait;
    let mail = herald_core::entity::mailbox_message::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].sender, "noreply@herald.localhost");
    db.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
