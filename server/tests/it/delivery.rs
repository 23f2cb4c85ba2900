//! The delivery engine on the real database: an immediate campaign fans out to its audience,
//! skips whoever must not receive it (with the reason), hands each message to the development
//! mailbox once, and completes; a crash between the provider call and recording its answer is
//! reconciled without a duplicate; an opt-out during a send is honoured; a provider that is
//! down puts messages back in the queue instead of failing them.

use crate::builder::{input, user};
use crate::common::{self, spawn_app_with};
use chrono::{Duration, Utc};
use herald_core::campaigns::builder;
use herald_core::delivery::fanout::FanOut;
use herald_core::delivery::sender::Deliver;
use herald_core::delivery::{Provider, SHARDS};
use herald_core::domain::access::Actor;
use herald_core::domain::audience::Filter;
use herald_core::domain::campaign::{Draft, Settings};
use herald_core::domain::template::{Content, TemplateInput};
use herald_core::domain::trigger::Trigger;
use herald_core::domain::{
    CampaignKind, CampaignStatus, ContactStatus, DeliveryState, MessageType, Role, SkipReason,
};
use herald_core::entity::{
    campaign, campaign_send, contact, mailbox_message, message, message_event,
};
use herald_core::jobs::{ManualClock, Registry, Runner};
use herald_core::{Herald, templates};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) struct World {
    pub(crate) app: common::TestApp,
    pub(crate) h: Herald,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) admin: Actor,
    /// Contacts by the part of their address before the `@`.
    pub(crate) people: BTreeMap<&'static str, i64>,
}

/// An organisation with six contacts, of whom only `ada` and `fay` may receive marketing:
/// `bob` is suppressed, `cy` unsubscribed, `dee` inactive, `eve` has no address.
pub(crate) async fn world() -> World {
    world_with(|_| {}).await
}

/// [`world`] with the server's configuration adjusted first.
pub(crate) async fn world_with(adjust: impl FnOnce(&mut server::Config)) -> World {
    let app = spawn_app_with(|c| {
        c.workers = 0;
        adjust(c);
    })
    .await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let mut h = app.herald.clone();
    h.clock = clock.clone();
    let admin = user(&h.db, "acme", Role::Admin).await;
    let mut people = BTreeMap::new();
    for name in ["ada", "bob", "cy", "dee", "eve", "fay"] {
        people.insert(
            name,
            app.contact("acme", &format!("{name}@example.org"), None)
                .await,
        );
    }
    let global = herald_core::contacts::lists::all(&h.db, &admin)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.global)
        .unwrap();
    herald_core::contacts::lists::add(&h.db, &admin, global.id, "bob@example.org")
        .await
        .unwrap();
    let change = |name: &'static str, f: fn(&mut contact::ActiveModel)| {
        let (db, id) = (h.db.clone(), people[name]);
        async move {
            let mut c: contact::ActiveModel = contact::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .into();
            f(&mut c);
            c.update(&db).await.unwrap();
        }
    };
    change("cy", |c| {
        c.marketing_consent = Set(false);
        c.marketing_consent_at = Set(Some(Utc::now()));
    })
    .await;
    change("dee", |c| c.status = Set(ContactStatus::Inactive)).await;
    change("eve", |c| c.email = Set(None)).await;
    World {
        app,
        h,
        clock,
        admin,
        people,
    }
}

/// `h` sending through `provider` instead.
pub(crate) fn with_provider(h: &Herald, provider: Provider) -> Herald {
    let s = &h.settings;
    let mut h = h.clone();
    h.settings = Arc::new(herald_core::Settings {
        public_url: s.public_url.clone(),
        secure_cookies: s.secure_cookies,
        secret_key: s.secret_key.clone(),
        previous_keys: s.previous_keys.clone(),
        providers: herald_core::delivery::sending::InstanceProviders {
            email: Arc::new(provider),
            ..s.providers.clone()
        },
        provider_cache: Default::default(),
        default_from: s.default_from.clone(),
        daily_run_at: s.daily_run_at,
        live: s.live.clone(),
        resolver: s.resolver.clone(),
    });
    h
}

/// An active immediate marketing campaign to everyone: activating it starts its send.
async fn activate(w: &World) -> i64 {
    activate_with(w, Trigger::Immediately, |_| {}).await
}

/// An active marketing campaign to everyone with `trigger`, the draft adjusted first.
pub(crate) async fn activate_with(
    w: &World,
    trigger: Trigger,
    adjust: impl FnOnce(&mut Draft),
) -> i64 {
    let t = templates::save(
        &w.h.db,
        &w.admin,
        None,
        &TemplateInput {
            content: Content {
                subject: "Welcome, {{ contact.first_name }}".into(),
                html: "<html><body><p>Hello {{ contact.first_name }}</p></body></html>".into(),
                text: "Hello {{ contact.first_name }}".into(),
                preheader: String::new(),
            },
            ..input("Welcome", "")
        },
    )
    .await
    .unwrap()
    .id;
    let mut draft = Draft {
        name: "Welcome".into(),
        kind: match trigger {
            Trigger::Immediately | Trigger::At { .. } => CampaignKind::OneTime,
            Trigger::Recurring { .. } => CampaignKind::Recurring,
            _ => CampaignKind::EventTriggered,
        },
        message_type: MessageType::Marketing,
        audience: Filter::everyone(),
        trigger: Some(trigger),
        template_id: Some(t),
        settings: Settings {
            from_name: "Acme".into(),
            from_email: "news@acme.example".into(),
            ..Settings::default()
        },
        ..Draft::default()
    };
    adjust(&mut draft);
    let id = builder::save(&w.h.db, &w.admin, None, &draft, w.h.now())
        .await
        .unwrap()
        .id;
    builder::activate(&w.h.db, &w.admin, id, w.h.now())
        .await
        .unwrap();
    id
}

/// Everything Herald runs, with the daily run at 16:00 UTC.
pub(crate) fn everything() -> Registry {
    Registry::herald(chrono::NaiveTime::from_hms_opt(16, 0, 0).unwrap())
}

/// Runs every due job (two seconds of the clock apart, a minute in all).
pub(crate) async fn drain(h: &Herald, clock: &ManualClock, registry: fn() -> Registry) {
    let worker = Runner::new(h.clone(), registry()).concurrency(4);
    for _ in 0..30 {
        worker.run_due().await.unwrap();
        clock.advance(Duration::seconds(2));
    }
}

pub(crate) async fn messages(h: &Herald, campaign_id: i64) -> Vec<message::Model> {
    message::Entity::find()
        .filter(message::Column::CampaignId.eq(campaign_id))
        .order_by_asc(message::Column::Id)
        .all(&h.db)
        .await
        .unwrap()
}

fn state_of(w: &World, all: &[message::Model], name: &str) -> (DeliveryState, Option<SkipReason>) {
    let m = all
        .iter()
        .find(|m| m.contact_id == Some(w.people[name]))
        .unwrap_or_else(|| panic!("no message for {name}"));
    (m.state, m.skip_reason)
}

#[tokio::test]
async fn an_immediate_campaign_reaches_each_allowed_contact_once_and_completes() {
    let w = world().await;
    let h = &w.h;
    let id = activate(&w).await;
    drain(h, &w.clock, everything).await;

    let all = messages(h, id).await;
    assert_eq!(all.len(), 6, "one row per contact of the audience");
    use DeliveryState::*;
    for (name, expected) in [
        ("ada", (Sent, None)),
        ("bob", (Skipped, Some(SkipReason::Suppressed))),
        ("cy", (Skipped, Some(SkipReason::Unsubscribed))),
        ("dee", (Skipped, Some(SkipReason::Inactive))),
        ("eve", (Skipped, Some(SkipReason::NoAddress))),
        ("fay", (Sent, None)),
    ] {
        let m = all
            .iter()
            .find(|m| m.contact_id == Some(w.people[name]))
            .unwrap();
        assert_eq!(state_of(&w, &all, name), expected, "{name}: {:?}", m.error);
    }
    let mailbox = mailbox_message::Entity::find()
        .filter(mailbox_message::Column::MessageId.is_not_null())
        .order_by_asc(mailbox_message::Column::Recipient)
        .all(&h.db)
        .await
        .unwrap();
    let to: Vec<&str> = mailbox.iter().map(|m| m.recipient.as_str()).collect();
    assert_eq!(to, ["ada@example.org", "fay@example.org"]);
    // The run's report went to the campaign's creator.
    let report = mailbox_message::Entity::find()
        .filter(mailbox_message::Column::MessageId.is_null())
        .all(&h.db)
        .await
        .unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].recipient, "admin@acme.test");
    assert!(
        report[0]
            .subject
            .starts_with("Campaign partially successful"),
        "{}",
        report[0].subject
    );
    let ada = &mailbox[0];
    assert_eq!(ada.sender, "news@acme.example");
    assert_eq!(ada.subject, "Welcome, Test");
    for header in [
        "From: Acme <news@acme.example>",
        "List-Unsubscribe: <http://127.0.0.1/u/",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Hello Test",
        ">Unsubscribe</a>",
    ] {
        assert!(ada.raw.contains(header), "{header} missing in\n{}", ada.raw);
    }
    let sent = all
        .iter()
        .find(|m| m.contact_id == Some(w.people["ada"]))
        .unwrap();
    assert_eq!(
        sent.provider_message_id.as_deref(),
        Some(&*format!("mailbox-{}", sent.id))
    );
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some());

    // Every transition, in order, with its time.
    let events: Vec<DeliveryState> = message_event::Entity::find()
        .filter(message_event::Column::MessageId.eq(sent.id))
        .order_by_asc(message_event::Column::Id)
        .all(&h.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(events, [Queued, Sending, Sent]);
    let skipped = message_event::Entity::find()
        .filter(message_event::Column::State.eq(Skipped))
        .filter(message_event::Column::CampaignId.eq(id))
        .count_rows(h)
        .await;
    assert_eq!(skipped, 4);

    // The one-time campaign is complete, and so is its send.
    let c = campaign::Entity::find_by_id(id)
        .one(&h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, CampaignStatus::Completed);
    let sends = campaign_send::Entity::find()
        .filter(campaign_send::Column::CampaignId.eq(id))
        .all(&h.db)
        .await
        .unwrap();
    assert_eq!(sends.len(), 1);
    assert!(sends[0].completed_at.is_some() && sends[0].fanned_out_at.is_some());

    // Starting the same occurrence again changes nothing.
    assert_eq!(
        herald_core::delivery::start_send(
            &h.db,
            &c,
            &sends[0].occurrence,
            herald_core::delivery::Targets::Audience,
            h.now()
        )
        .await
        .unwrap(),
        None
    );
    drain(h, &w.clock, everything).await;
    assert_eq!(
        mailbox_message::Entity::find()
            .all(&h.db)
            .await
            .unwrap()
            .len(),
        3,
        "still two messages and one run report"
    );
}

trait CountRows {
    async fn count_rows(self, h: &Herald) -> u64;
}

impl CountRows for sea_orm::Select<message_event::Entity> {
    async fn count_rows(self, h: &Herald) -> u64 {
        sea_orm::PaginatorTrait::count(self, &h.db).await.unwrap()
    }
}

#[tokio::test]
async fn a_message_left_sending_by_a_crash_is_reconciled_without_a_duplicate() {
    let w = world().await;
    let h = &w.h;
    let id = activate(&w).await;
    drain(h, &w.clock, everything).await;
    let all = messages(h, id).await;
    let find = |name: &str| {
        all.iter()
            .find(|m| m.contact_id == Some(w.people[name]))
            .unwrap()
            .clone()
    };
    let (ada, fay) = (find("ada"), find("fay"));
    // As a crash leaves them: ada's message reached the mailbox but `sent` was never
    // recorded; fay's was claimed (`sending` committed) and the process died before the call.
    mailbox_message::Entity::delete_many()
        .filter(mailbox_message::Column::MessageId.eq(fay.id))
        .exec(&h.db)
        .await
        .unwrap();
    for m in [&ada, &fay] {
        let mut a: message::ActiveModel = m.clone().into();
        a.state = Set(DeliveryState::Sending);
        a.sent_at = Set(None);
        a.provider_message_id = Set(None);
        a.sending_at = Set(Some(h.now() - Duration::minutes(5)));
        a.update(&h.db).await.unwrap();
    }
    let send = campaign_send::Entity::find_by_id(ada.send_id)
        .one(&h.db)
        .await
        .unwrap()
        .unwrap();
    let mut s: campaign_send::ActiveModel = send.into();
    s.completed_at = Set(None);
    s.update(&h.db).await.unwrap();
    // The senders' jobs are taken over after the crash.
    for shard in 0..SHARDS {
        let job = Deliver {
            org_id: ada.org_id,
            send_id: ada.send_id,
            shard,
            priority: 3,
        };
        herald_core::jobs::enqueue(&h.db, h.now(), &job)
            .await
            .unwrap();
    }
    drain(h, &w.clock, everything).await;

    // The campaign's messages (the run's report to its creator is no message of it).
    let mailbox = mailbox_message::Entity::find()
        .filter(mailbox_message::Column::MessageId.is_not_null())
        .all(&h.db)
        .await
        .unwrap();
    let mut ids: Vec<Option<i64>> = mailbox.iter().map(|m| m.message_id).collect();
    ids.sort();
    assert_eq!(
        ids,
        [Some(ada.id), Some(fay.id)],
        "each message once in the mailbox"
    );
    for m in [&ada, &fay] {
        let now = message::Entity::find_by_id(m.id)
            .one(&h.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.state, DeliveryState::Sent);
    }
    let mut details: Vec<String> = message_event::Entity::find()
        .filter(message_event::Column::MessageId.is_in([ada.id, fay.id]))
        .order_by_asc(message_event::Column::Id)
        .all(&h.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.detail)
        .filter(|d| d.starts_with("reconciled"))
        .collect();
    // (Each shard reconciles its own rows; their order is theirs.)
    details.sort();
    assert_eq!(
        details,
        [
            "reconciled after a crash: the provider does not have it".to_owned(),
            format!(
                "reconciled after a crash: the provider has it (mailbox-{})",
                ada.id
            ),
        ]
    );
}

#[tokio::test]
async fn an_opt_out_during_the_send_is_honoured() {
    let w = world().await;
    let h = &w.h;
    let id = activate(&w).await;
    // The fan-out writes ada's row as queued...
    drain(h, &w.clock, || Registry::new().add::<FanOut>()).await;
    let all = messages(h, id).await;
    assert_eq!(state_of(&w, &all, "ada"), (DeliveryState::Queued, None));
    // ...then she unsubscribes before a sender claims it.
    let mut ada: contact::ActiveModel = contact::Entity::find_by_id(w.people["ada"])
        .one(&h.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    ada.marketing_consent = Set(false);
    ada.marketing_consent_at = Set(Some(h.now()));
    ada.update(&h.db).await.unwrap();
    drain(h, &w.clock, everything).await;
    let all = messages(h, id).await;
    assert_eq!(
        state_of(&w, &all, "ada"),
        (DeliveryState::Skipped, Some(SkipReason::Unsubscribed))
    );
    assert_eq!(state_of(&w, &all, "fay"), (DeliveryState::Sent, None));
}

#[tokio::test]
async fn a_provider_that_is_down_requeues_instead_of_failing() {
    let w = world().await;
    // Nothing listens on port 1: the connection is refused.
    let h = with_provider(
        &w.h,
        Provider::smtp(
            "smtp://127.0.0.1:1",
            herald_core::delivery::provider::SmtpLimits::pool(2),
        )
        .unwrap(),
    );
    let id = activate(&w).await;
    let worker = Runner::new(h.clone(), Registry::herald(h.settings.daily_run_at)).concurrency(4);
    for _ in 0..3 {
        worker.run_due().await.unwrap();
        w.clock.advance(Duration::seconds(2));
    }
    let all = messages(&h, id).await;
    for name in ["ada", "fay"] {
        let m = all
            .iter()
            .find(|m| m.contact_id == Some(w.people[name]))
            .unwrap();
        assert_eq!(m.state, DeliveryState::Queued, "{name}: back in the queue");
        assert!(
            m.not_before.is_some_and(|t| t > h.now()),
            "{name}: after a backoff"
        );
        assert!(m.error.is_some(), "{name}: the reason is kept");
        assert!(m.failed_at.is_none());
    }
    // The campaign is not complete while its messages wait.
    let c = campaign::Entity::find_by_id(id)
        .one(&h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, CampaignStatus::Active);
    drop(w.app);
}

/// The link in a received message's `List-Unsubscribe` header: one-click unsubscribes with no
/// cookie; opening it changes nothing; the preference centre changes what is received; a
/// tampered token is a plain 404.
#[tokio::test]
async fn one_click_unsubscribe_from_the_header_and_the_preference_centre() {
    let w = world().await;
    let h = &w.h;
    // The campaign goes out an hour before the unsubscribe (which the server, on the system
    // clock, records now): draining moves the test's clock on, and the report compares times.
    w.clock.set(Utc::now() - Duration::hours(1));
    activate(&w).await;
    drain(h, &w.clock, everything).await;
    let ada = mailbox_message::Entity::find()
        .filter(mailbox_message::Column::Recipient.eq("ada@example.org"))
        .one(&h.db)
        .await
        .unwrap()
        .unwrap();
    let header = ada
        .raw
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .unwrap();
    let path = header
        .trim_end_matches('>')
        .strip_prefix("http://127.0.0.1")
        .unwrap()
        .to_owned();
    let url = format!("{}{path}", w.app.base);
    let consent = || async {
        let c = contact::Entity::find_by_id(w.people["ada"])
            .one(&h.db)
            .await
            .unwrap()
            .unwrap();
        (c.marketing_consent, c.marketing_consent_source)
    };
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Opening the link (as a scanner does) shows the page and changes nothing.
    let page = plain.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Unsubscribe from marketing messages"),
        "{html}"
    );
    assert_eq!(
        consent().await,
        (false, None),
        "never asked, still receiving"
    );

    // Tampered or unknown tokens name nothing.
    let mut tampered = url.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [tampered, format!("{}/u/nonsense", w.app.base)] {
        let r = plain.get(&bad).send().await.unwrap();
        assert_eq!(r.status(), 404, "{bad}");
        assert_eq!(r.text().await.unwrap(), "Not found");
        let r = plain
            .post(&bad)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }

    // RFC 8058: the mail provider's POST, with no cookie and from no page.
    let r = plain
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("location").is_none() && r.headers().get("set-cookie").is_none());
    assert_eq!(consent().await, (false, Some("unsubscribe".to_owned())));
    let c = contact::Entity::find_by_id(w.people["ada"])
        .one(&h.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        c.marketing_consent_at.is_some(),
        "withdrawn, not merely never given"
    );

    // Reports measure how quickly it took effect: two withdrawals (ada's now, cy's when the
    // world was made), in force at once; a campaign sent an hour later reaches fay, not ada.
    let suppression = || async {
        let now = Utc::now();
        herald_core::reports::overview(
            &h.db,
            &w.admin,
            now - Duration::days(90),
            now + Duration::days(1),
        )
        .await
        .unwrap()
        .suppression
    };
    let s = suppression().await;
    assert_eq!(
        (s.unsubscribes, s.longest_seconds, s.sent_after),
        (2, Some(0), 0)
    );
    w.clock.set(Utc::now() + Duration::hours(1));
    let second = activate(&w).await;
    drain(h, &w.clock, everything).await;
    let sent: Vec<String> = messages(h, second)
        .await
        .into_iter()
        .filter(|m| m.sent_at.is_some())
        .map(|m| m.recipient)
        .collect();
    assert_eq!(sent, ["fay@example.org"]);
    let s = suppression().await;
    assert_eq!(
        (s.unsubscribes, s.longest_seconds, s.sent_after),
        (2, Some(0), 0)
    );

    // The preference centre, as a form without JavaScript: back to receiving marketing.
    let r = plain
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("marketing=on&save=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Your preferences are saved.")
    );
    assert!(consent().await.0);

    // Bodies are bounded.
    let r = plain
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("x".repeat(100_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

/// `tools/smtp-sink` on a free port, writing what it receives to `dir`; it stops with the test.
pub(crate) struct SmtpSink {
    child: std::process::Child,
    pub port: u16,
    pub dir: std::path::PathBuf,
}

/// Starts `.venv/bin/python tools/<tool> --port <free port> <args>` and waits for its
/// "ready"; answers the process and the port.
pub(crate) fn start_tool(tool: &str, args: &[&std::ffi::OsStr]) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run bin/setup --test (it installs the test doubles)",
        python.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(python)
        .arg(root.join("tools").join(tool))
        .args(["--port", &port.to_string()])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {tool}: {e}"));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "{tool} did not start");
    (child, port)
}

impl SmtpSink {
    pub(crate) fn start(dir: &std::path::Path, args: &[&str]) -> SmtpSink {
        let mut all: Vec<&std::ffi::OsStr> = vec!["--dir".as_ref(), dir.as_os_str()];
        all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
        let (child, port) = start_tool("smtp-sink", &all);
        SmtpSink {
            child,
            port,
            dir: dir.to_owned(),
        }
    }

    /// How many messages have arrived.
    pub(crate) fn received_count(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// The `To:` of every message received (once per message, duplicates included).
    pub(crate) fn recipients(&self) -> Vec<String> {
        self.received()
            .iter()
            .filter_map(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("To: "))
                    .map(|t| t.trim().to_owned())
            })
            .collect()
    }

    /// Every message received, as raw text.
    pub(crate) fn received(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect();
        out.sort();
        out
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Through a real SMTP server on loopback (no TLS): accepted messages arrive whole with their
/// headers, a permanent refusal fails the message with the server's words, a transient one
/// puts it back in the queue.
#[tokio::test]
async fn smtp_delivers_fails_permanently_and_retries_transient_refusals() {
    let w = world().await;
    let gus = w.app.contact("acme", "gus@example.org", None).await;
    let dir = std::env::temp_dir().join(format!("herald-sink-{}", rand::random::<u64>()));
    let sink = SmtpSink::start(
        &dir,
        &[
            "--reject",
            "fay@example.org",
            "--tempfail",
            "gus@example.org",
        ],
    );
    let h = with_provider(
        &w.h,
        Provider::smtp(
            &format!("smtp://127.0.0.1:{}", sink.port),
            herald_core::delivery::provider::SmtpLimits::pool(2),
        )
        .unwrap(),
    );
    let id = activate(&w).await;
    let worker = Runner::new(h.clone(), Registry::herald(h.settings.daily_run_at)).concurrency(4);
    for _ in 0..5 {
        worker.run_due().await.unwrap();
        w.clock.advance(Duration::seconds(2));
    }
    let received = sink.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let mail = &received[0];
    for header in [
        "To: ada@example.org",
        "From: Acme <news@acme.example>",
        "Subject: Welcome, Test",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "X-Herald-Message-Id: ",
    ] {
        assert!(mail.contains(header), "{header} missing in\n{mail}");
    }
    let all = messages(&h, id).await;
    let of = |contact: i64| all.iter().find(|m| m.contact_id == Some(contact)).unwrap();
    let ada = of(w.people["ada"]);
    assert_eq!(ada.state, DeliveryState::Sent);
    assert!(
        ada.provider_message_id
            .as_deref()
            .unwrap()
            .contains("queued as")
    );
    let fay = of(w.people["fay"]);
    assert_eq!(fay.state, DeliveryState::Failed);
    assert!(
        fay.error.as_deref().unwrap().contains("No such user"),
        "{:?}",
        fay.error
    );
    let gus = of(gus);
    assert_eq!(gus.state, DeliveryState::Queued, "{:?}", gus.error);
    assert!(gus.error.as_deref().unwrap().contains("Try again later"));
    assert!(gus.not_before.is_some() && gus.failed_at.is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_segment_split_gets_its_own_template_version_fixed_on_activation() {
    let w = world().await;
    let h = &w.h;
    let group = crate::builder::group(&h.db, w.admin.org_id(), "VIPs", &[w.people["ada"]]).await;
    let segment = herald_core::audience::segments::create(
        &h.db,
        &w.admin,
        "VIPs",
        &Filter::InGroup { group_id: group },
        h.now(),
    )
    .await
    .unwrap();
    drain(h, &w.clock, everything).await;
    let vip_input = |subject: &str| TemplateInput {
        content: Content {
            subject: subject.into(),
            html: "<p>For our best customers</p>".into(),
            text: "For our best customers".into(),
            preheader: String::new(),
        },
        ..input("VIP", "")
    };
    let vip = templates::save(&h.db, &w.admin, None, &vip_input("Just for you"))
        .await
        .unwrap()
        .id;
    let id = activate_with(&w, Trigger::Immediately, |d| {
        d.settings.splits = vec![herald_core::domain::campaign::Split {
            segment_id: segment.id,
            template_id: vip,
        }];
    })
    .await;
    // Edited after activation: the campaign sends the version it was activated with.
    templates::save(&h.db, &w.admin, Some(vip), &vip_input("Changed later"))
        .await
        .unwrap();
    drain(h, &w.clock, everything).await;
    let mut subjects: Vec<(String, String)> = mailbox_message::Entity::find()
        .filter(
            mailbox_message::Column::MessageId
                .is_in(messages(h, id).await.into_iter().map(|m| m.id)),
        )
        .all(&h.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.recipient, m.subject))
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            ("ada@example.org".to_owned(), "Just for you".to_owned()),
            ("fay@example.org".to_owned(), "Welcome, Test".to_owned()),
        ]
    );
}

#[tokio::test]
async fn higher_priority_campaigns_are_sent_first() {
    let w = world().await;
    let h = &w.h;
    let low = activate_with(&w, Trigger::Immediately, |d| {
        d.name = "Low".into();
        d.settings.priority = 1;
    })
    .await;
    let high = activate_with(&w, Trigger::Immediately, |d| {
        d.name = "High".into();
        d.settings.priority = 5;
    })
    .await;
    // One job at a time: the order of the queue is the order of sending.
    let worker = Runner::new(h.clone(), everything()).concurrency(1);
    for _ in 0..20 {
        worker.run_due().await.unwrap();
        w.clock.advance(Duration::seconds(2));
    }
    let (low, high) = (mailbox_ids(h, low).await, mailbox_ids(h, high).await);
    assert_eq!((low.len(), high.len()), (2, 2));
    assert!(
        high.iter().max() < low.iter().min(),
        "high {high:?} before low {low:?}"
    );
}

/// The development mailbox's ids of a campaign's messages (in the order they arrived).
async fn mailbox_ids(h: &Herald, campaign: i64) -> Vec<i64> {
    let rows: Vec<i64> = messages(h, campaign)
        .await
        .into_iter()
        .map(|m| m.id)
        .collect();
    mailbox_message::Entity::find()
        .filter(mailbox_message::Column::MessageId.is_in(rows))
        .all(&h.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect()
}
