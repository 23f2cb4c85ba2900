//! Crash tests: the real `herald` binary is killed (SIGKILL, no shutdown) in the middle of
//! background work and started again; the work must finish exactly once.

use crate::common;
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Instance {
    child: Child,
    base: String,
}

fn start(url: &str, dir: &std::path::Path, port: u16) -> Instance {
    let child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HERALD_DATABASE_URL", url)
        .env("HERALD_DATA_DIR", dir)
        .env("HERALD_LISTEN", format!("127.0.0.1:{port}"))
        .env("HERALD_LOG", "error")
        .env("HERALD_JOB_LEASE_SECONDS", "2")
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

async fn ready(base: &str) {
    let started = Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
/// over when its lease expires and finishes from the last committed chunk: every row counted
/// once, every contact stored once.
#[tokio::test]
async fn an_import_killed_half_way_finishes_once_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("herald-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let database = common::Database::fresh(&dir, 9_000).await;
    let herald = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .env("HERALD_DATABASE_URL", &database.url)
            .env("HERALD_DATA_DIR", &dir)
            .env("HERALD_LOG", "error")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
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
    let s = loop {
        let s = import_status(&client, &second.base, &id).await;
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
