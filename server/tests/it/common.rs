//! Black-box harness: each test gets the real server on 127.0.0.1:0 with a fresh database.
//!
//! `HERALD_TEST_DATABASE_URL` picks the backend: unset → a new SQLite file per test;
//! `postgres://user@host:port` → a new PostgreSQL database per test, created on that server.

use chrono::{Duration, Utc};
use herald_core::Herald;
use herald_core::auth::accounts::{self, NewUser};
use herald_core::domain::audience::Filter;
use herald_core::domain::{
    CampaignKind, CampaignStatus, Channel, ContactStatus, DeliveryState, MessageType, Role,
};
use herald_core::entity::{campaign, campaign_send, message};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use sea_orm::ConnectionTrait;
use sea_orm::{ActiveModelTrait, Set};
use server::Config;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PASSWORD: &str = "correct-horse-battery";
static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct TestApp {
    pub base: String,
    pub herald: Herald,
    pub backend: &'static str,
    pub database_url: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    dir: PathBuf,
    /// The PostgreSQL server and the database this test created on it.
    postgres: Option<(String, String)>,
}

impl Drop for TestApp {
    /// The test's files go, and so does its PostgreSQL database: dropped here (with the
    /// server's connections ended), from a thread of its own because the test's runtime may be
    /// the one running this.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((server, name)) = self.postgres.take() {
            let database = name.clone();
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let admin = sea_orm::Database::connect(format!("{server}/postgres")).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                        ))
                        .await?;
                    admin.close().await
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop the test database {name}: {dropped:?}");
            }
        }
    }
}

/// A fresh database URL for one test, and for PostgreSQL the server and database to drop.
async fn fresh_database(
    dir: &std::path::Path,
    n: usize,
) -> (String, &'static str, Option<(String, String)>) {
    match std::env::var("HERALD_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        None => (
            format!("sqlite://{}/herald.db", dir.display()),
            "sqlite",
            None,
        ),
        Some(base) if base.starts_with("postgres") => {
            let base = base.trim_end_matches('/');
            // The server part of the URL, whatever database it names.
            let server = match base.rsplit_once('/') {
                Some((s, db)) if !s.ends_with('/') && !db.contains('@') => s.to_owned(),
                _ => base.to_owned(),
            };
            let name = format!("herald_test_{}_{n}", std::process::id());
            let admin = sea_orm::Database::connect(format!("{server}/postgres"))
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.unwrap();
            (format!("{server}/{name}"), "postgres", Some((server, name)))
        }
        Some(other) => {
            panic!("HERALD_TEST_DATABASE_URL must be empty or postgres://…, not {other}")
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with the configuration adjusted first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("herald-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (database_url, backend, postgres) = fresh_database(&dir, n).await;
    let mut config = Config {
        database_url: database_url.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: "http://127.0.0.1".into(),
        data_dir: dir.clone(),
        secret_key: Some("test-secret-key-test-secret-key-0123456789".into()),
        site_root: dir.join("site"),
        // A worker, as in production; tests that drive jobs by hand set 0.
        workers: 2,
        job_lease_seconds: 60,
        trusted_proxies: Default::default(),
        smtp_url: None,
        smtp_limits: herald_core::delivery::provider::SmtpLimits::pool(4),
        default_from: "noreply@herald.test".into(),
        daily_run_at: chrono::NaiveTime::from_hms_opt(16, 0, 0).expect("a time"),
        ses_region: None,
        ses_configuration_set: None,
        ses_endpoint: None,
        sms_url: None,
        sms_from: String::new(),
        previous_secret_keys: Vec::new(),
        ses_topic_arns: Vec::new(),
        sns_cert_dir: None,
        tracking_queue: 100_000,
        // Nothing answers there: tests that check domains start tools/dns-double.
        dns_resolver: herald_core::delivery::dns::Resolver::new("127.0.0.1:9".parse().unwrap()),
    };
    adjust(&mut config);
    let herald = server::open(&config).await.expect("open the database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = herald.clone();
    tokio::spawn(async move {
        server::start(&config, state, listener, async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        base,
        herald,
        backend,
        database_url,
        _shutdown: tx,
        dir,
        postgres,
    }
}

/// An HTTP client with its own cookie jar (one browser), following no redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// Calls the server function at `/api/{name}` as the hydrated app does (form-encoded POST).
    pub async fn call(&self, client: &reqwest::Client, name: &str, args: &[(&str, &str)]) -> Reply {
        let res = client
            .post(format!("{}/api/{name}", self.base))
            .header("origin", &self.base)
            .form(args)
            .send()
            .await
            .unwrap();
        reply(res).await
    }

    /// Calls a server function that takes JSON (`input = Json`).
    pub async fn call_json(
        &self,
        client: &reqwest::Client,
        name: &str,
        body: serde_json::Value,
    ) -> Reply {
        let res = client
            .post(format!("{}/api/{name}", self.base))
            .header("origin", &self.base)
            .json(&body)
            .send()
            .await
            .unwrap();
        reply(res).await
    }

    /// A contact of `org` (slug), optionally assigned to an account manager; returns its id.
    pub async fn contact(&self, org: &str, email: &str, assigned_to: Option<i64>) -> i64 {
        let org = accounts::find_org(&self.herald.db, org)
            .await
            .unwrap()
            .unwrap();
        let now = Utc::now();
        herald_core::entity::contact::ActiveModel {
            org_id: Set(org.id),
            email: Set(Some(email.into())),
            first_name: Set("Test".into()),
            last_name: Set(email.split('@').next().unwrap().into()),
            language: Set("en".into()),
            time_zone: Set("UTC".into()),
            status: Set(ContactStatus::Active),
            created_at: Set(now),
            updated_at: Set(now),
            assigned_user_id: Set(assigned_to),
            ..Default::default()
        }
        .insert(&self.herald.db)
        .await
        .unwrap()
        .id
    }

    pub async fn get(&self, client: &reqwest::Client, path: &str) -> Reply {
        reply(
            client
                .get(format!("{}{path}", self.base))
                .header("accept", "text/html")
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Creates an organisation with one user of `role`; returns the user's email.
    pub async fn user(&self, org: &str, email: &str, role: Role) -> String {
        let org = accounts::ensure_org(&self.herald.db, org, org)
            .await
            .unwrap();
        accounts::create_user(
            &self.herald.db,
            org.id,
            NewUser {
                email,
                name: "",
                role,
                password: PASSWORD,
            },
        )
        .await
        .unwrap();
        email.to_owned()
    }

    /// A browser signed in as `email`.
    pub async fn signed_in(&self, email: &str) -> reqwest::Client {
        let client = browser();
        let r = self
            .call(
                &client,
                "login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login failed: {}", r.body);
        client
    }
}

pub async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.text().await.unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// One message row of a seeded campaign: which of its timestamps are set.
pub struct Row {
    pub sent: bool,
    pub delivered: bool,
    pub bounced: bool,
    pub opens: i32,
    pub clicks: i32,
}

/// Inserts a campaign of `org_id` with one send holding `rows`; `days_ago` is its last send.
pub async fn campaign_with(
    app: &TestApp,
    org_id: i64,
    name: Option<&str>,
    status: &str,
    days_ago: Option<i64>,
    rows: &[Row],
) -> i64 {
    let now = Utc::now();
    let sent_at = days_ago.map(|d| now - Duration::days(d));
    let c = campaign::ActiveModel {
        org_id: Set(org_id),
        name: Set(name.map(Into::into)),
        description: Set(String::new()),
        goal: Set("Renewals".into()),
        kind: Set(CampaignKind::OneTime),
        message_type: Set(MessageType::Newsletter),
        channel: Set(Channel::Email),
        status: Set(status.parse().unwrap()),
        template_id: Set(None),
        created_by: Set(None),
        created_at: Set(now - Duration::days(100)),
        updated_at: Set(now),
        activated_at: Set(None),
        last_sent_at: Set(sent_at),
        audience: Set(Filter::everyone()),
        settings: Set(Default::default()),
        ..Default::default()
    }
    .insert(&app.herald.db)
    .await
    .unwrap();
    if rows.is_empty() {
        return c.id;
    }
    let send = campaign_send::ActiveModel {
        org_id: Set(org_id),
        campaign_id: Set(c.id),
        started_at: Set(sent_at.unwrap_or(now)),
        completed_at: Set(None),
        occurrence: Set(format!("test:{}", rand::random::<u64>())),
        ..Default::default()
    }
    .insert(&app.herald.db)
    .await
    .unwrap();
    for (i, r) in rows.iter().enumerate() {
        let at = |flag: bool| flag.then_some(now);
        message::ActiveModel {
            org_id: Set(org_id),
            campaign_id: Set(c.id),
            send_id: Set(send.id),
            contact_id: Set(None),
            channel: Set(Channel::Email),
            recipient: Set(format!("r{i}@example.org")),
            state: Set(if r.bounced {
                DeliveryState::Bounced
            } else if r.delivered {
                DeliveryState::Delivered
            } else if r.sent {
                DeliveryState::Sent
            } else {
                DeliveryState::Queued
            }),
            attempts: Set(1),
            queued_at: Set(now),
            sent_at: Set(at(r.sent)),
            delivered_at: Set(at(r.delivered)),
            bounced_at: Set(at(r.bounced)),
            opens: Set(r.opens),
            first_opened_at: Set(at(r.opens > 0)),
            clicks: Set(r.clicks),
            first_clicked_at: Set(at(r.clicks > 0)),
            ..Default::default()
        }
        .insert(&app.herald.db)
        .await
        .unwrap();
    }
    c.id
}

pub const fn row(sent: bool, delivered: bool, bounced: bool, opens: i32, clicks: i32) -> Row {
    Row {
        sent,
        delivered,
        bounced,
        opens,
        clicks,
    }
}

/// A campaign to hang message history on.
pub async fn campaign_with_id(db: &sea_orm::DatabaseConnection, org_id: i64) -> i64 {
    let now = Utc::now();
    let c = campaign::ActiveModel {
        org_id: Set(org_id),
        name: Set(Some("History".into())),
        description: Set(String::new()),
        goal: Set(String::new()),
        kind: Set(CampaignKind::OneTime),
        message_type: Set(MessageType::Marketing),
        channel: Set(Channel::Email),
        status: Set(CampaignStatus::Completed),
        created_at: Set(now),
        updated_at: Set(now),
        audience: Set(Filter::everyone()),
        settings: Set(Default::default()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    c.id
}

/// One delivered message of that campaign, in a send of its own, with the given engagement times.
pub async fn message_for(
    db: &sea_orm::DatabaseConnection,
    org_id: i64,
    campaign_id: i64,
    contact_id: Option<i64>,
    last_opened_at: Option<chrono::DateTime<Utc>>,
    last_clicked_at: Option<chrono::DateTime<Utc>>,
) {
    let now = Utc::now();
    let send_id = campaign_send::ActiveModel {
        org_id: Set(org_id),
        campaign_id: Set(campaign_id),
        started_at: Set(now),
        occurrence: Set(format!("test:{}", rand::random::<u64>())),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    message::ActiveModel {
        org_id: Set(org_id),
        campaign_id: Set(campaign_id),
        send_id: Set(send_id),
        contact_id: Set(contact_id),
        channel: Set(Channel::Email),
        recipient: Set("x@example.org".into()),
        state: Set(DeliveryState::Delivered),
        attempts: Set(1),
        queued_at: Set(now),
        sent_at: Set(Some(now)),
        delivered_at: Set(Some(now)),
        opens: Set(i32::from(last_opened_at.is_some())),
        first_opened_at: Set(last_opened_at),
        last_opened_at: Set(last_opened_at),
        clicks: Set(i32::from(last_clicked_at.is_some())),
        first_clicked_at: Set(last_clicked_at),
        last_clicked_at: Set(last_clicked_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

/// A user of `org_id` with `role` acting, as core sees them.
pub fn user_actor(org_id: i64, user_id: i64, role: Role) -> herald_core::domain::access::Actor {
    herald_core::domain::access::Actor::User(herald_core::domain::CurrentUser {
        user_id,
        org_id,
        org_slug: String::new(),
        org_name: String::new(),
        email: String::new(),
        name: String::new(),
        role,
    })
}

/// An account manager of `org_id` acting, as core sees them.
pub fn account_manager(org_id: i64, user_id: i64) -> herald_core::domain::access::Actor {
    user_actor(org_id, user_id, Role::Member)
}

/// A second connection to the test's database that counts the statements it runs.
pub async fn counting_connection(
    app: &TestApp,
) -> (
    sea_orm::DatabaseConnection,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let mut db = herald_core::db::connect(&app.database_url).await.unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    db.set_metric_callback(move |_| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    (db, count)
}

/// A database of its own for a test that runs the `herald` binary itself.
pub struct Database {
    pub url: String,
    postgres: Option<(String, String)>,
}

impl Database {
    /// A new SQLite file in `dir`, or a new PostgreSQL database (numbered `n`).
    pub async fn fresh(dir: &std::path::Path, n: usize) -> Database {
        let (url, _, postgres) = fresh_database(dir, n).await;
        Database { url, postgres }
    }

    /// The one number `sql` selects.
    pub async fn count(&self, sql: &str) -> i64 {
        let db = herald_core::db::connect(&self.url).await.unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        let n = row.try_get_by_index::<i64>(0).unwrap();
        db.close().await.unwrap();
        n
    }

    pub async fn drop(self) {
        if let Some((server, name)) = self.postgres {
            let admin = sea_orm::Database::connect(format!("{server}/postgres"))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

/// A TCP port free on loopback now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (30 s at most) until a started `herald serve` at `base` answers its health check.
pub async fn ready(base: &str) {
    let started = std::time::Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
