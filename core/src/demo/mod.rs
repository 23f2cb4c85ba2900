//! `herald demo`: a believable organisation, so that a new user sees a living product. A school
//! and credential issuer with staff, a few thousand contacts, templates, and campaigns whose
//! history the delivery engine itself produced: each past run was decided, sent into the
//! development mailbox and recorded by the engine's jobs under a clock set to its time, so every
//! number on the campaign list matches the messages in the Mailbox and the rules that left the
//! others out. What came back afterwards is drawn at each campaign's rates and recorded the way
//! real reports are: bounces and complaints as provider notices ([`crate::delivery::events`]:
//! suppression, actions, unsubscribes), opens and clicks as hits through the tracking recorder
//! (machine activity flagged, links counted, the hourly chart), deliveries as the notices SES
//! would send.
//!
//! Deterministic: the same seed gives the same data, so screenshots and tests can rely on it.

use crate::auth::accounts::{self, NewUser};
use crate::domain::audience::Filter;
use crate::domain::campaign::Settings;
use crate::domain::trigger::Trigger;
use crate::domain::{
    CampaignKind, CampaignStatus, Channel, ContactStatus, DeliveryState, MessageType, Role,
    SubscriptionStatus,
};
use crate::entity::values::{Properties, Variants};
use crate::entity::{campaign, campaign_send, contact, message, template};
use crate::{Error, Herald, Result};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use std::sync::Arc;

pub const DEMO_ORG: &str = "demo";
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.herald.test";
pub const DEMO_PASSWORD: &str = "herald-demo";
pub const DEMO_CONTACTS: usize = 3000;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Loaded {
        contacts: usize,
        campaigns: usize,
        messages: usize,
    },
    AlreadyLoaded,
}

const FIRST: &[&str] = &[
    "Ada", "Alan", "Amira", "Ana", "Ben", "Carla", "Chen", "Dario", "Elena", "Emeka", "Eva",
    "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jonas", "Julia", "Kai", "Karin",
    "Leila", "Liam", "Lucia", "Malik", "Maya", "Mei", "Nadia", "Noah", "Olga", "Omar", "Paula",
    "Priya", "Rafael", "Rosa", "Sami", "Sofia", "Tariq", "Theo", "Uma", "Victor", "Wen", "Yara",
    "Zoe",
];
const LAST: &[&str] = &[
    "Almeida", "Andersen", "Bakker", "Becker", "Bianchi", "Costa", "Dubois", "Eriksson", "Fischer",
    "Garcia", "Haddad", "Hansen", "Ito", "Jansen", "Kowalski", "Larsen", "Lopez", "Martin",
    "Meyer", "Moreau", "Nakamura", "Novak", "Okafor", "Olsen", "Petrov", "Rossi", "Santos",
    "Schmidt", "Silva", "Tanaka", "Varga", "Weber", "Yilmaz", "Zhang",
];
const LANGUAGES: &[(&str, &str)] = &[
    ("en", "Europe/London"),
    ("en", "America/New_York"),
    ("fr", "Europe/Paris"),
    ("de", "Europe/Berlin"),
    ("es", "Europe/Madrid"),
    ("nl", "Europe/Amsterdam"),
];

struct DemoTemplate {
    name: &'static str,
    kind: &'static str,
    subject: &'static str,
    preheader: &'static str,
}

const TEMPLATES: &[DemoTemplate] = &[
    DemoTemplate {
        name: "Welcome to Northwind",
        kind: "welcome",
        subject: "Welcome to Northwind Academy, {{ contact.first_name }}",
        preheader: "Everything you need for your first week",
    },
    DemoTemplate {
        name: "Credential issued",
        kind: "credential_issued",
        subject: "Your {{ record.name }} credential is ready",
        preheader: "Share it on your profile in one click",
    },
    DemoTemplate {
        name: "Credential expires soon",
        kind: "credential_expiry",
        subject: "Your {{ record.name }} expires on {{ record.expires_at|date }}",
        preheader: "Renew now to stay certified",
    },
    DemoTemplate {
        name: "Course starts next week",
        kind: "enrollment_reminder",
        subject: "{{ record.course }} starts next week",
        preheader: "Your room, your trainer and what to bring",
    },
    DemoTemplate {
        name: "Monthly newsletter",
        kind: "newsletter",
        subject: "Northwind news: what is new this month",
        preheader: "New courses, alumni stories and events",
    },
    DemoTemplate {
        name: "Spring offer",
        kind: "promotion",
        subject: "15 % off every spring course",
        preheader: "Until the end of the month",
    },
];

struct DemoCampaign {
    name: Option<&'static str>,
    kind: CampaignKind,
    message_type: MessageType,
    status: CampaignStatus,
    template: usize,
    goal: &'static str,
    /// Days ago of each send (empty: never sent).
    sends: &'static [i64],
    /// Share of contacts reached by each send.
    reach: f64,
    open: f64,
    click: f64,
}

/// When each demo campaign sends, by name.
fn demo_trigger(name: Option<&str>) -> Option<Trigger> {
    use crate::domain::audience::Unit;
    use crate::domain::trigger::{Cadence, RecordDate, Relation};
    let relative = |date, relation, amount| Trigger::Relative {
        date,
        relation,
        amount,
        unit: Unit::Days,
    };
    Some(match name? {
        "Welcome series" => Trigger::Event {
            name: "signed_up".into(),
        },
        "Expiry reminder, 30 days before" => {
            relative(RecordDate::CredentialExpires, Relation::Before, 30)
        }
        "Course starts next week" => relative(RecordDate::EnrollmentStarts, Relation::Before, 7),
        "Monthly newsletter" => Trigger::Recurring {
            cadence: Cadence::Monthly { day: 1 },
            minute: 9 * 60,
        },
        "Renewal offer (draft)" => relative(RecordDate::CredentialExpires, Relation::Before, 14),
        _ => Trigger::Immediately,
    })
}

const CAMPAIGNS: &[DemoCampaign] = &[
    DemoCampaign {
        name: Some("Welcome series"),
        kind: CampaignKind::EventTriggered,
        message_type: MessageType::Operational,
        status: CampaignStatus::Active,
        template: 0,
        goal: "Onboarding",
        sends: &[84, 56, 28, 7, 1],
        reach: 0.04,
        open: 0.68,
        click: 0.31,
    },
    DemoCampaign {
        name: Some("Credential issued: spring cohort"),
        kind: CampaignKind::OneTime,
        message_type: MessageType::Operational,
        status: CampaignStatus::Completed,
        template: 1,
        goal: "Credential sharing",
        sends: &[61],
        reach: 0.22,
        open: 0.74,
        click: 0.42,
    },
    DemoCampaign {
        name: Some("Expiry reminder, 30 days before"),
        kind: CampaignKind::EventTriggered,
        message_type: MessageType::Operational,
        status: CampaignStatus::Active,
        template: 2,
        goal: "Renewals",
        sends: &[60, 30, 2],
        reach: 0.05,
        open: 0.58,
        click: 0.27,
    },
    DemoCampaign {
        name: Some("Course starts next week"),
        kind: CampaignKind::EventTriggered,
        message_type: MessageType::Operational,
        status: CampaignStatus::Active,
        template: 3,
        goal: "Attendance",
        sends: &[21, 14, 7, 0],
        reach: 0.03,
        open: 0.71,
        click: 0.22,
    },
    DemoCampaign {
        name: Some("Monthly newsletter"),
        kind: CampaignKind::Recurring,
        message_type: MessageType::Newsletter,
        status: CampaignStatus::Active,
        template: 4,
        goal: "Engagement",
        sends: &[90, 59, 31],
        reach: 0.85,
        open: 0.36,
        click: 0.07,
    },
    DemoCampaign {
        name: Some("Spring offer"),
        kind: CampaignKind::OneTime,
        message_type: MessageType::Marketing,
        status: CampaignStatus::Completed,
        template: 5,
        goal: "Sales",
        sends: &[45],
        reach: 0.6,
        open: 0.29,
        click: 0.05,
    },
    DemoCampaign {
        name: None,
        kind: CampaignKind::OneTime,
        message_type: MessageType::Marketing,
        status: CampaignStatus::Completed,
        template: 5,
        goal: "Sales",
        sends: &[38],
        reach: 0.1,
        open: 0.25,
        click: 0.04,
    },
    DemoCampaign {
        name: Some("Alumni survey"),
        kind: CampaignKind::OneTime,
        message_type: MessageType::Marketing,
        status: CampaignStatus::Inactive,
        template: 4,
        goal: "Feedback",
        sends: &[12],
        reach: 0.3,
        open: 0.41,
        click: 0.12,
    },
    DemoCampaign {
        name: Some("Evening classes announcement"),
        kind: CampaignKind::OneTime,
        message_type: MessageType::Newsletter,
        status: CampaignStatus::Active,
        template: 4,
        goal: "Enrollments",
        sends: &[0],
        reach: 0.4,
        open: 0.18,
        click: 0.03,
    },
    DemoCampaign {
        name: Some("Renewal offer (draft)"),
        kind: CampaignKind::EventTriggered,
        message_type: MessageType::Marketing,
        status: CampaignStatus::Draft,
        template: 2,
        goal: "Renewals",
        sends: &[],
        reach: 0.0,
        open: 0.0,
        click: 0.0,
    },
    DemoCampaign {
        name: None,
        kind: CampaignKind::Recurring,
        message_type: MessageType::Newsletter,
        status: CampaignStatus::Draft,
        template: 4,
        goal: "",
        sends: &[],
        reach: 0.0,
        open: 0.0,
        click: 0.0,
    },
];

/// Loads the demo organisation unless it already has campaigns. Its campaigns' history is sent
/// by the delivery engine into the development mailbox, each run at its time in the past.
pub async fn load(h: &Herald) -> Result<Outcome> {
    let db = &h.db;
    let org = accounts::ensure_org(db, DEMO_ORG, "Northwind Academy").await?;
    let existing = campaign::Entity::find()
        .filter(campaign::Column::OrgId.eq(org.id))
        .count(db)
        .await?;
    if existing > 0 {
        return Ok(Outcome::AlreadyLoaded);
    }
    let mut rng = StdRng::seed_from_u64(2026);
    let now = Utc::now();

    let (mut admin_id, mut manager_id) = (None, None);
    for (email, name, role) in [
        (DEMO_ADMIN_EMAIL, "Ada Admin", Role::Admin),
        ("marketer@demo.herald.test", "Mark Marketer", Role::Marketer),
        ("manager@demo.herald.test", "Maria Manager", Role::Member),
    ] {
        let user = match accounts::create_user(
            db,
            org.id,
            NewUser {
                email,
                name,
                role,
                password: DEMO_PASSWORD,
            },
        )
        .await
        {
            Ok(user) => user,
            Err(Error::Invalid(msg)) if msg.contains("already exists") => continue,
            Err(e) => return Err(e),
        };
        match role {
            Role::Admin => admin_id = Some(user.id),
            Role::Member => manager_id = Some(user.id),
            Role::Marketer => {}
        }
    }

    let txn = db.begin().await?;

    // Contacts.
    let mut contacts = Vec::with_capacity(DEMO_CONTACTS);
    for i in 0..DEMO_CONTACTS {
        let first = FIRST[rng.gen_range(0..FIRST.len())];
        let last = LAST[rng.gen_range(0..LAST.len())];
        let (language, time_zone) = LANGUAGES[rng.gen_range(0..LANGUAGES.len())];
        let created =
            now - Duration::days(rng.gen_range(1..720)) - Duration::minutes(rng.gen_range(0..1440));
        let email = format!(
            "{}.{}.{}@example.org",
            first.to_lowercase(),
            last.to_lowercase(),
            i + 1
        );
        contacts.push(contact::ActiveModel {
            org_id: Set(org.id),
            email: Set(Some(email)),
            phone: Set(
                (rng.gen_bool(0.6)).then(|| format!("+4420{:08}", rng.gen_range(0..100_000_000)))
            ),
            first_name: Set(first.to_owned()),
            last_name: Set(last.to_owned()),
            language: Set(language.to_owned()),
            time_zone: Set(time_zone.to_owned()),
            status: Set(if rng.gen_bool(0.93) {
                ContactStatus::Active
            } else {
                ContactStatus::Inactive
            }),
            created_at: Set(created),
            updated_at: Set(created),
            marketing_consent: Set(rng.gen_bool(0.55)),
            newsletter_consent: Set(rng.gen_bool(0.45)),
            assigned_user_id: Set(manager_id.filter(|_| rng.gen_bool(0.1))),
            ..Default::default()
        });
    }
    for chunk in contacts.chunks(500) {
        contact::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    let contacts: Vec<contact::Model> = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org.id))
        .all(&txn)
        .await?;
    records(&txn, &mut rng, org.id, &contacts, now).await?;

    // Templates.
    let mut template_ids = Vec::new();
    for t in TEMPLATES {
        let created = now - Duration::days(120);
        let html = format!(
            "<h1>{}</h1>\n<p>Hello {{{{ contact.first_name }}}},</p>\n<p>{}.</p>\n<p><a href=\"https://northwind.example/account\">Open your account</a></p>",
            t.subject, t.preheader
        );
        let text = format!(
            "Hello {{{{ contact.first_name }}}},\n\n{}.\n\nhttps://northwind.example/account",
            t.preheader
        );
        let model = template::ActiveModel {
            org_id: Set(org.id),
            name: Set(t.name.to_owned()),
            kind: Set(t.kind.to_owned()),
            subject: Set(t.subject.to_owned()),
            preheader: Set(t.preheader.to_owned()),
            html_body: Set(html),
            text_body: Set(text),
            is_system: Set(false),
            created_at: Set(created),
            updated_at: Set(created),
            description: Set(String::new()),
            language: Set("en".into()),
            variants: Set(Variants::default()),
            version: Set(1),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        template_ids.push(model.id);
    }

    txn.commit().await?;

    // The demo sends into the development mailbox, whatever the instance's provider: its
    // addresses are made up.
    crate::delivery::sending::set(
        h,
        &crate::domain::access::Actor::system(org.id),
        &crate::domain::sending::SendingInput {
            email_provider: Some(crate::domain::sending::EmailProvider::Mailbox),
            ..Default::default()
        },
    )
    .await?;

    // Campaigns, and their past runs through the delivery engine.
    for (n, spec) in CAMPAIGNS.iter().enumerate() {
        let created = now
            - Duration::days(spec.sends.iter().copied().max().unwrap_or(3) + 2)
            - Duration::hours(n as i64);
        // As activation does: the version it sends is fixed.
        let version = if spec.status == CampaignStatus::Draft {
            None
        } else {
            Some(crate::templates::current_version(db, org.id, template_ids[spec.template]).await?)
        };
        let c = campaign::ActiveModel {
            org_id: Set(org.id),
            template_version_id: Set(version),
            name: Set(spec.name.map(str::to_owned)),
            description: Set(String::new()),
            goal: Set(spec.goal.to_owned()),
            kind: Set(spec.kind),
            message_type: Set(spec.message_type),
            channel: Set(Channel::Email),
            // Active while its history is sent; as the spec says afterwards.
            status: Set(if spec.sends.is_empty() {
                spec.status
            } else {
                CampaignStatus::Active
            }),
            template_id: Set(Some(template_ids[spec.template])),
            created_by: Set(admin_id),
            created_at: Set(created),
            updated_at: Set(created),
            activated_at: Set(
                (spec.status != CampaignStatus::Draft).then_some(created + Duration::hours(1))
            ),
            audience: Set(Filter::everyone()),
            trigger: Set(demo_trigger(spec.name)),
            settings: Set(Settings {
                from_name: "Northwind Academy".into(),
                from_email: "news@northwind.example".into(),
                ..Settings::default()
            }),
            revision: Set(0),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for &days_ago in spec.sends {
            run(
                h,
                &c,
                spec,
                &contacts,
                &mut rng,
                send_time(now, days_ago, n),
                now,
            )
            .await?;
        }
        let last_sent = spec
            .sends
            .iter()
            .copied()
            .min()
            .map(|d| send_time(now, d, n));
        campaign::Entity::update_many()
            .col_expr(campaign::Column::Status, Expr::value(spec.status))
            .col_expr(campaign::Column::LastSentAt, Expr::value(last_sent))
            .filter(campaign::Column::Id.eq(c.id))
            .exec(db)
            .await?;
    }
    let messages = message::Entity::find()
        .filter(message::Column::OrgId.eq(org.id))
        .count(db)
        .await? as usize;
    Ok(Outcome::Loaded {
        contacts: contacts.len(),
        campaigns: CAMPAIGNS.len(),
        messages,
    })
}

/// One past run of a demo campaign, at `started`: a targeted send to a share of the contacts
/// (`spec.reach`), fanned out, decided and sent into the development mailbox by the engine's own
/// jobs under a clock set to that time; then what a provider and the recipients would have
/// reported since (delivered, bounced, opened, clicked, complained), as the SES events and
/// tracking record it.
async fn run(
    h: &Herald,
    c: &campaign::Model,
    spec: &DemoCampaign,
    contacts: &[contact::Model],
    rng: &mut StdRng,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    use crate::delivery::{Targets, fanout::FanOut, sender::Deliver, start_send};
    use crate::jobs::{ManualClock, Registry, Runner};
    let ids: Vec<i64> = contacts
        .iter()
        .filter(|_| rng.gen_bool(spec.reach))
        .map(|k| k.id)
        .collect();
    let occurrence = format!("demo:{}", started.to_rfc3339());
    let send_id = {
        let _writer = crate::db::write_lock(&h.db).await;
        let txn = crate::db::begin_write(&h.db).await?;
        let id = start_send(&txn, c, &occurrence, Targets::Contacts(ids), started).await?;
        txn.commit().await?;
        id.ok_or(Error::Internal("the demo run started twice".into()))?
    };
    let clock = Arc::new(ManualClock::new(started));
    let mut past = h.clone();
    past.clock = clock.clone();
    let runner = Runner::new(past, Registry::new().add::<FanOut>().add::<Deliver>()).concurrency(1);
    // Two simulated seconds a step; a run with nothing to do for ten simulated minutes is
    // stuck (another worker holding its jobs, say): say so rather than load half a history.
    let mut idle = 0;
    loop {
        let ran = runner.run_due().await?;
        let send = campaign_send::Entity::find_by_id(send_id)
            .one(&h.db)
            .await?
            .ok_or(Error::NotFound("send"))?;
        if send.completed_at.is_some() {
            break;
        }
        idle = if ran == 0 { idle + 1 } else { 0 };
        if idle > 300 {
            return Err(Error::Internal(format!(
                "the demo run of “{}” did not finish: is a Herald server running on this \
                 database? Load the demo before starting it.",
                c.name.as_deref().unwrap_or("Untitled")
            )));
        }
        clock.advance(Duration::seconds(2));
    }
    // What came back afterwards.
    let sent = message::Entity::find()
        .filter(message::Column::SendId.eq(send_id))
        .filter(message::Column::State.eq(DeliveryState::Sent))
        .all(&h.db)
        .await?;
    let links: Vec<i64> = crate::entity::link::Entity::find()
        .filter(crate::entity::link::Column::CampaignId.eq(c.id))
        .all(&h.db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    let mut hits = Vec::new();
    let mut notices = Vec::new();
    let txn = h.db.begin().await?;
    for m in sent {
        let Some(sent_at) = m.sent_at else { continue };
        let r = reported(rng, spec, m.id, sent_at, now, &links);
        if let Some(at) = r.delivered_at {
            message::Entity::update_many()
                .col_expr(
                    message::Column::State,
                    Expr::value(DeliveryState::Delivered),
                )
                .col_expr(message::Column::DeliveredAt, Expr::value(at))
                .filter(message::Column::Id.eq(m.id))
                .exec(&txn)
                .await?;
            crate::delivery::record(
                &txn,
                vec![crate::delivery::event(
                    &m,
                    DeliveryState::Delivered,
                    at,
                    None,
                )],
            )
            .await?;
        }
        notices.extend(r.notices);
        hits.extend(r.hits);
    }
    txn.commit().await?;
    for (receipt, notice) in notices {
        crate::delivery::events::apply(h, "demo", &receipt, &notice).await?;
    }
    hits.sort_by_key(|hit| hit.at);
    for batch in hits.chunks(crate::tracking::recorder::BATCH) {
        crate::tracking::recorder::apply(&h.db, batch).await?;
    }
    Ok(())
}

/// What came back about one sent message.
struct Reported {
    delivered_at: Option<DateTime<Utc>>,
    /// Bounces and complaints, as a provider reports them (with a receipt id each).
    notices: Vec<(String, crate::delivery::events::ProviderNotice)>,
    /// Opens and clicks, as the tracking URLs would have seen them.
    hits: Vec<crate::tracking::recorder::Hit>,
}

/// Mail clients and machines that open and click.
const AGENTS: [(&str, &str); 4] = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
        "81.2.69.160",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "92.40.12.7",
    ),
    // Apple Mail Privacy Protection.
    ("Mozilla/5.0", "17.58.101.4"),
    (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "66.249.84.10",
    ),
];

/// What a provider and the recipient reported about sent message `id` by `now`: delivered or
/// bounced, opened and clicked at the campaign's rates (a fifth of opens by Apple's proxy, a few
/// link scanners), now and then a complaint; for a run of the last hours, some messages still
/// await their delivery notice.
fn reported(
    rng: &mut StdRng,
    spec: &DemoCampaign,
    id: i64,
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
    links: &[i64],
) -> Reported {
    use crate::delivery::events::{Notice, ProviderNotice};
    use crate::domain::HitKind;
    use crate::tracking::recorder::Hit;
    let at = |rng: &mut StdRng, from: DateTime<Utc>, max_minutes: i64| {
        (from + Duration::minutes(rng.gen_range(1..max_minutes.max(2)))).min(now)
    };
    let mut out = Reported {
        delivered_at: None,
        notices: Vec::new(),
        hits: Vec::new(),
    };
    let fresh = (now - sent_at).num_minutes() < 180;
    if fresh && rng.gen_bool(0.1) {
        return out;
    }
    let notice = |notice, at, detail: &str| ProviderNotice {
        message_id: Some(id),
        provider_message_id: None,
        notice,
        at,
        detail: detail.to_owned(),
    };
    if rng.gen_bool(0.025) {
        let permanent = rng.gen_bool(0.7);
        let detail = if permanent {
            "Permanent (General): smtp; 550 5.1.1 user unknown"
        } else {
            "Transient (MailboxFull): smtp; 452 4.2.2 mailbox full"
        };
        out.notices.push((
            format!("{id}:bounce"),
            notice(Notice::Bounced { permanent }, at(rng, sent_at, 3), detail),
        ));
        return out;
    }
    out.delivered_at = Some(at(rng, sent_at, 2));
    let hit = |kind, message_id, link_id, at, agent: usize, head| Hit {
        kind,
        message_id,
        link_id,
        at,
        head,
        user_agent: Some(AGENTS[agent].0.to_owned()),
        ip: AGENTS[agent].1.parse().ok(),
    };
    // A security gateway checks every link as the message arrives.
    if !links.is_empty() && rng.gen_bool(0.03) {
        for l in links {
            let when = sent_at + Duration::seconds(rng.gen_range(1..8));
            out.hits
                .push(hit(HitKind::Click, id, Some(*l), when, 0, true));
        }
    }
    if rng.gen_bool(spec.open) {
        let agent = match rng.gen_range(0..10) {
            0 | 1 => 2,
            2 => 3,
            3..=5 => 1,
            _ => 0,
        };
        let first = at(rng, sent_at, 60 * 48);
        let opens = rng.gen_range(1..5);
        for n in 0..opens {
            let when = if n == 0 {
                first
            } else {
                at(rng, first, 60 * 24 * 5)
            };
            out.hits
                .push(hit(HitKind::Open, id, None, when, agent, false));
        }
        if !links.is_empty() && rng.gen_bool((spec.click / spec.open).min(1.0)) {
            let first_click = at(rng, first, 30);
            for n in 0..rng.gen_range(1..4) {
                let when = if n == 0 {
                    first_click
                } else {
                    at(rng, first_click, 60 * 24)
                };
                let l = links[rng.gen_range(0..links.len())];
                out.hits
                    .push(hit(HitKind::Click, id, Some(l), when, agent.min(1), false));
            }
        }
    }
    if rng.gen_bool(0.0008) {
        out.notices.push((
            format!("{id}:complaint"),
            notice(Notice::Complained, at(rng, sent_at, 60 * 24), "abuse"),
        ));
    }
    out
}

const COLLECTIONS: &[&str] = &[
    "First aid",
    "Forklift operator",
    "Food hygiene",
    "Project management",
];
const COURSES: &[(&str, &str)] = &[
    ("First aid refresher", "Safety"),
    ("Forklift basics", "Safety"),
    ("Spanish A2", "Languages"),
    ("French B1", "Languages"),
    ("Agile leadership", "Management"),
];
const TRAINERS: &[&str] = &["Ines Costa", "Omar Haddad", "Grace Olsen", "Theo Weber"];
const EVENTS: &[&str] = &[
    "course_completed",
    "invoice_paid",
    "badge_shared",
    "quiz_passed",
];

/// What contacts have and did: groups, credentials, enrollments, bookings, passes,
/// subscriptions, orders and events, spread around now so that every audience filter finds
/// someone.
async fn records(
    txn: &impl sea_orm::ConnectionTrait,
    rng: &mut StdRng,
    org_id: i64,
    contacts: &[contact::Model],
    now: DateTime<Utc>,
) -> Result<()> {
    use crate::entity::{
        booking, contact_event, contact_group, contact_group_member, credential, enrollment, pass,
        purchase, subscription,
    };
    let days = |rng: &mut StdRng, from: i64, to: i64| now + Duration::days(rng.gen_range(from..to));
    let mut groups = Vec::new();
    for name in ["Alumni", "Current students", "Corporate partners", "Staff"] {
        let g = contact_group::ActiveModel {
            org_id: Set(org_id),
            name: Set(name.into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        groups.push(g.id);
    }
    let (mut members, mut credentials, mut enrollments, mut bookings) =
        (vec![], vec![], vec![], vec![]);
    let (mut passes, mut subscriptions, mut purchases, mut events) =
        (vec![], vec![], vec![], vec![]);
    for c in contacts {
        let contact_id = Set(c.id);
        for &g in &groups {
            if rng.gen_bool(0.2) {
                members.push(contact_group_member::ActiveModel {
                    group_id: Set(g),
                    contact_id: Set(c.id),
                });
            }
        }
        if rng.gen_bool(0.6) {
            let published = days(rng, -900, 0);
            credentials.push(credential::ActiveModel {
                org_id: Set(org_id),
                contact_id: contact_id.clone(),
                collection: Set(COLLECTIONS[rng.gen_range(0..COLLECTIONS.len())].into()),
                name: Set("Certificate".into()),
                published_at: Set(published),
                renewed_at: Set(rng.gen_bool(0.2).then(|| published + Duration::days(365))),
                expires_at: Set(rng.gen_bool(0.8).then(|| published + Duration::days(730))),
                ..Default::default()
            });
        }
        if rng.gen_bool(0.4) {
            let (course, category) = COURSES[rng.gen_range(0..COURSES.len())];
            let starts = days(rng, -200, 90);
            enrollments.push(enrollment::ActiveModel {
                org_id: Set(org_id),
                contact_id: contact_id.clone(),
                course: Set(course.into()),
                category: Set(category.into()),
                trainer: Set(TRAINERS[rng.gen_range(0..TRAINERS.len())].into()),
                online: Set(rng.gen_bool(0.4)),
                remote: Set(rng.gen_bool(0.15)),
                starts_at: Set(starts),
                ends_at: Set(starts + Duration::days(rng.gen_range(1..90))),
                ..Default::default()
            });
        }
        if rng.gen_bool(0.15) {
            bookings.push(booking::ActiveModel {
                org_id: Set(org_id),
                contact_id: contact_id.clone(),
                starts_at: Set(days(rng, -60, 60)),
                ..Default::default()
            });
        }
        if rng.gen_bool(0.12) {
            let from = days(rng, -300, 30);
            passes.push(pass::ActiveModel {
                org_id: Set(org_id),
                contact_id: contact_id.clone(),
                valid_from: Set(from),
                valid_to: Set(from + Duration::days(180)),
                ..Default::default()
            });
        }
        if rng.gen_bool(0.1) {
            subscriptions.push(subscription::ActiveModel {
                org_id: Set(org_id),
                contact_id: contact_id.clone(),
                status: Set(if rng.gen_bool(0.75) {
                    SubscriptionStatus::Active
                } else {
                    SubscriptionStatus::Cancelled
                }),
                period_start: Set(days(rng, -365, 0)),
                period_end: Set(Some(days(rng, -30, 365))),
                ..Default::default()
            });
        }
        for _ in 0..rng.gen_range(0..3) {
            purchases.push(purchase::ActiveModel {
                org_id: Set(org_id),
                contact_id: contact_id.clone(),
                ordered_at: Set(days(rng, -540, 0)),
                amount_cents: Set(rng.gen_range(2_000..60_000)),
                ..Default::default()
            });
        }
        for _ in 0..rng.gen_range(0..4) {
            events.push(contact_event::ActiveModel {
                org_id: Set(org_id),
                contact_id: contact_id.clone(),
                name: Set(EVENTS[rng.gen_range(0..EVENTS.len())].into()),
                occurred_at: Set(days(rng, -365, 0)),
                properties: Set(Properties::default()),
                ..Default::default()
            });
        }
    }
    for chunk in members.chunks(500) {
        contact_group_member::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    macro_rules! insert_all {
        ($($rows:ident: $entity:ident),+) => {$(
            for chunk in $rows.chunks(400) {
                $entity::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
            }
        )+};
    }
    insert_all!(credentials: credential, enrollments: enrollment, bookings: booking, passes: pass,
        subscriptions: subscription, purchases: purchase, events: contact_event);
    Ok(())
}

/// Sends go out mid-morning UTC; today's send went out an hour ago.
fn send_time(now: DateTime<Utc>, days_ago: i64, n: usize) -> DateTime<Utc> {
    if days_ago == 0 {
        return now - Duration::minutes(50 + n as i64);
    }
    let day = (now - Duration::days(days_ago)).date_naive();
    day.and_hms_opt(9, 0, 0).expect("valid time").and_utc() + Duration::minutes(n as i64 * 7)
}
