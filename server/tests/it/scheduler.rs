//! The scheduler on the real database, with the injectable clock: timed and recurring
//! campaigns fire at their local time across a daylight-saving change, and a run missed during
//! downtime fires once; record-dated campaigns send at the daily run and catch up missed days
//! once; events and segment entries trigger their campaigns; expiry stops a campaign.

use crate::delivery::{World, activate_with, drain, everything, messages, world};
use chrono::{DateTime, Duration, Utc};
use herald_core::audience::segments;
use herald_core::domain::audience::{Filter, Unit};
use herald_core::domain::campaign::Frequency;
use herald_core::domain::ingest::EventInput;
use herald_core::domain::trigger::{Cadence, RecordDate, Relation, Trigger};
use herald_core::domain::{CampaignStatus, DeliveryState};
use herald_core::entity::{
    campaign, campaign_send, contact_group_member, credential, mailbox_message, message,
    organisation,
};
use herald_core::ingest;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn set_time_zone(w: &World, tz: &str) {
    let org = organisation::Entity::find_by_id(w.admin.org_id())
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    let mut org: organisation::ActiveModel = org.into();
    org.time_zone = Set(tz.into());
    org.update(&w.h.db).await.unwrap();
}

async fn load(w: &World, id: i64) -> campaign::Model {
    campaign::Entity::find_by_id(id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap()
}

/// The occurrences of the campaign's sends, in order.
async fn sends(w: &World, id: i64) -> Vec<String> {
    campaign_send::Entity::find()
        .filter(campaign_send::Column::CampaignId.eq(id))
        .order_by_asc(campaign_send::Column::Id)
        .all(&w.h.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.occurrence)
        .collect()
}

/// Who received the campaign (sent rows), by name, in the order sent.
async fn sent_to(w: &World, id: i64) -> Vec<&'static str> {
    messages(&w.h, id)
        .await
        .into_iter()
        .filter(|m| m.state == DeliveryState::Sent)
        .filter_map(|m| {
            w.people
                .iter()
                .find(|(_, c)| Some(**c) == m.contact_id)
                .map(|(n, _)| *n)
        })
        .collect()
}

#[tokio::test]
async fn a_recurring_campaign_sends_at_local_time_across_a_dst_change_and_a_missed_run_once() {
    let w = world().await;
    set_time_zone(&w, "America/New_York").await;
    // Friday 6 March 2026, 07:00 in New York (EST, UTC-5).
    w.clock.set(t("2026-03-06T12:00:00Z"));
    let id = activate_with(
        &w,
        Trigger::Recurring {
            cadence: Cadence::Daily,
            minute: 9 * 60,
        },
        |d| d.settings.frequency = Frequency::EveryTime,
    )
    .await;
    assert_eq!(
        load(&w, id).await.next_run_at,
        Some(t("2026-03-06T14:00:00Z"))
    );
    drain(&w.h, &w.clock, everything).await;
    assert!(sends(&w, id).await.is_empty(), "nothing before 09:00");

    w.clock.set(t("2026-03-06T14:00:01Z"));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sends(&w, id).await, ["run:2026-03-06T14:00:00+00:00"]);
    assert_eq!(sent_to(&w, id).await, ["ada", "fay"]);
    // Sunday 8 March: clocks go forward; 09:00 is now 13:00 UTC.
    w.clock.set(t("2026-03-07T14:00:01Z"));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(
        load(&w, id).await.next_run_at,
        Some(t("2026-03-08T13:00:00Z"))
    );
    w.clock.set(t("2026-03-08T13:00:01Z"));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sends(&w, id).await.len(), 3);
    assert_eq!(
        sends(&w, id).await[2],
        "run:2026-03-08T13:00:00+00:00",
        "09:00 EDT"
    );

    // Down from Monday morning to Wednesday evening: the missed runs fire once, late, and
    // the next is counted from now.
    w.clock.set(t("2026-03-11T22:00:00Z"));
    drain(&w.h, &w.clock, everything).await;
    let all = sends(&w, id).await;
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(all[3], "run:2026-03-09T13:00:00+00:00");
    assert_eq!(
        load(&w, id).await.next_run_at,
        Some(t("2026-03-12T13:00:00Z"))
    );
    assert_eq!(sent_to(&w, id).await.len(), 8, "two recipients per run");
    assert_eq!(load(&w, id).await.status, CampaignStatus::Active);

    // Past its expiry date the campaign stops.
    let mut c: campaign::ActiveModel = load(&w, id).await.into();
    let mut settings = load(&w, id).await.settings;
    settings.expires_at = Some(t("2026-03-12T12:00:00Z"));
    c.settings = Set(settings);
    c.update(&w.h.db).await.unwrap();
    w.clock.set(t("2026-03-12T13:00:01Z"));
    drain(&w.h, &w.clock, everything).await;
    let c = load(&w, id).await;
    assert_eq!(c.status, CampaignStatus::Completed);
    assert_eq!(sends(&w, id).await.len(), 4, "no run after expiry");
}

#[tokio::test]
async fn a_campaign_at_a_time_sends_then_completes() {
    let w = world().await;
    w.clock.set(t("2026-11-25T10:00:00Z"));
    let id = activate_with(
        &w,
        Trigger::At {
            at: t("2026-11-25T12:30:00Z"),
        },
        |_| {},
    )
    .await;
    drain(&w.h, &w.clock, everything).await;
    assert!(sends(&w, id).await.is_empty());
    w.clock.set(t("2026-11-25T12:30:00Z"));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sends(&w, id).await, ["run:2026-11-25T12:30:00+00:00"]);
    assert_eq!(sent_to(&w, id).await, ["ada", "fay"]);
    let c = load(&w, id).await;
    assert_eq!(c.status, CampaignStatus::Completed);
    assert_eq!(c.next_run_at, None);
}

async fn credential_expiring(w: &World, name: &str, at: DateTime<Utc>) {
    credential::ActiveModel {
        org_id: Set(w.admin.org_id()),
        contact_id: Set(w.people[name]),
        collection: Set("Safety".into()),
        name: Set("Forklift".into()),
        published_at: Set(at - Duration::days(365)),
        expires_at: Set(Some(at)),
        ..Default::default()
    }
    .insert(&w.h.db)
    .await
    .unwrap();
}

/// A template that names the record whose date fired it.
async fn record_template(w: &World) -> i64 {
    use herald_core::domain::template::{Content, TemplateInput};
    herald_core::templates::save(
        &w.h.db,
        &w.admin,
        None,
        &TemplateInput {
            content: Content {
                subject: "Your {{ record.name }} credential".into(),
                html: "<p>{{ record.name }} expires on {{ record.expires_at }}</p>".into(),
                text: "{{ record.name }} expires on {{ record.expires_at }}".into(),
                preheader: String::new(),
            },
            ..crate::builder::input("Reminder", "")
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn a_template_with_record_fields_needs_a_record_date_trigger() {
    let w = world().await;
    let reminder = record_template(&w).await;
    let draft = herald_core::domain::campaign::Draft {
        name: "Wrong trigger".into(),
        audience: Filter::everyone(),
        trigger: Some(Trigger::Immediately),
        template_id: Some(reminder),
        settings: herald_core::domain::campaign::Settings {
            from_email: "news@acme.example".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let id = herald_core::campaigns::builder::save(&w.h.db, &w.admin, None, &draft, w.h.now())
        .await
        .unwrap()
        .id;
    let e = herald_core::campaigns::builder::activate(&w.h.db, &w.admin, id, w.h.now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("record.name") && e.contains("record date"),
        "{e}"
    );
    // Timed on a booking: a booking has no name.
    let mut booking = draft.clone();
    booking.kind = herald_core::domain::CampaignKind::EventTriggered;
    booking.trigger = Some(Trigger::Relative {
        date: RecordDate::Booking,
        relation: Relation::Before,
        amount: 1,
        unit: Unit::Days,
    });
    let id = herald_core::campaigns::builder::save(&w.h.db, &w.admin, None, &booking, w.h.now())
        .await
        .unwrap()
        .id;
    let e = herald_core::campaigns::builder::activate(&w.h.db, &w.admin, id, w.h.now())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("a booking does not have"), "{e}");
}

#[tokio::test]
async fn record_dates_send_at_the_daily_run_and_missed_days_catch_up_once() {
    let w = world().await;
    w.clock.set(t("2026-11-25T10:00:00Z"));
    credential_expiring(&w, "ada", t("2026-12-25T08:00:00Z")).await;
    credential_expiring(&w, "fay", t("2026-12-28T20:00:00Z")).await;
    // Not due on any covered day.
    credential_expiring(&w, "fay", t("2027-06-01T08:00:00Z")).await;
    let reminder = record_template(&w).await;
    let id = activate_with(
        &w,
        Trigger::Relative {
            date: RecordDate::CredentialExpires,
            relation: Relation::Before,
            amount: 30,
            unit: Unit::Days,
        },
        |d| d.template_id = Some(reminder),
    )
    .await;
    drain(&w.h, &w.clock, everything).await;
    assert!(
        sends(&w, id).await.is_empty(),
        "nothing before the daily run"
    );

    // The daily run at 16:00 UTC: ada's credential expires in 30 days.
    w.clock.set(t("2026-11-25T16:00:00Z"));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sends(&w, id).await, ["day:2026-11-25"]);
    assert_eq!(sent_to(&w, id).await, ["ada"]);
    // The message names the record that fell due.
    let mail = mailbox_message::Entity::find().all(&w.h.db).await.unwrap();
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].raw.contains("Forklift expires on 2026-12-25"),
        "{}",
        mail[0].raw
    );

    // Down for two days; the run on the 28th covers the 26th to the 28th once: fay.
    w.clock.set(t("2026-11-28T17:00:00Z"));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sends(&w, id).await, ["day:2026-11-25", "day:2026-11-28"]);
    assert_eq!(sent_to(&w, id).await, ["ada", "fay"]);
    assert_eq!(
        load(&w, id).await.evaluated_through,
        Some("2026-11-28".parse().unwrap())
    );
    // The next day's run finds nothing due.
    w.clock.set(t("2026-11-29T16:00:00Z"));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sends(&w, id).await.len(), 2);
    assert_eq!(load(&w, id).await.status, CampaignStatus::Active);
}

#[tokio::test]
async fn an_event_sends_to_its_contact_once_per_event() {
    let w = world().await;
    let id = activate_with(
        &w,
        Trigger::Event {
            name: "signup".into(),
        },
        |d| d.settings.frequency = Frequency::EveryTime,
    )
    .await;
    let event = |email: &str, name: &str, ext: &str| EventInput {
        email: email.into(),
        name: name.into(),
        occurred_at: None,
        properties: Default::default(),
        external_id: Some(ext.into()),
    };
    ingest::add_events(
        &w.h.db,
        &w.admin,
        &[
            event("ada@example.org", "signup", "e1"),
            event("fay@example.org", "login", "e2"),
            event("cy@example.org", "signup", "e3"),
        ],
        w.h.now(),
    )
    .await
    .unwrap();
    // Queued in the transaction that stored the event: no fan-out to wait for.
    let queued = messages(&w.h, id).await;
    assert_eq!(
        queued.len(),
        2,
        "ada's and cy's events; fay's is another event"
    );
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sent_to(&w, id).await, ["ada"]);
    let cy = messages(&w.h, id)
        .await
        .into_iter()
        .find(|m| m.contact_id == Some(w.people["cy"]))
        .unwrap();
    assert_eq!(cy.state, DeliveryState::Skipped, "cy unsubscribed");

    // The same event again (same id) is one event; a new one sends again.
    ingest::add_events(
        &w.h.db,
        &w.admin,
        &[event("ada@example.org", "signup", "e1")],
        w.h.now(),
    )
    .await
    .unwrap();
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sent_to(&w, id).await, ["ada"]);
    ingest::add_events(
        &w.h.db,
        &w.admin,
        &[event("ada@example.org", "signup", "e4")],
        w.h.now(),
    )
    .await
    .unwrap();
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sent_to(&w, id).await, ["ada", "ada"]);
}

#[tokio::test]
async fn entering_a_segment_sends_to_the_contacts_who_entered() {
    let w = world().await;
    let group =
        crate::builder::group(&w.h.db, w.admin.org_id(), "Members", &[w.people["ada"]]).await;
    let segment = segments::create(
        &w.h.db,
        &w.admin,
        "Members",
        &Filter::InGroup { group_id: group },
        w.h.now(),
    )
    .await
    .unwrap();
    // Ada is a member before the campaign starts.
    drain(&w.h, &w.clock, everything).await;
    let id = activate_with(
        &w,
        Trigger::SegmentEntered {
            segment_id: segment.id,
        },
        |_| {},
    )
    .await;
    contact_group_member::ActiveModel {
        group_id: Set(group),
        contact_id: Set(w.people["fay"]),
    }
    .insert(&w.h.db)
    .await
    .unwrap();
    // The next refresh (within a minute) notices fay.
    w.clock.advance(Duration::seconds(61));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(sent_to(&w, id).await, ["fay"]);
    assert_eq!(sends(&w, id).await.len(), 1);
    let all = message::Entity::find()
        .filter(message::Column::CampaignId.eq(id))
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "ada was already a member");
}

#[tokio::test]
async fn the_time_zone_is_a_real_zone_set_by_an_admin() {
    let w = world().await;
    let db = &w.h.db;
    use herald_core::auth::accounts::{set_time_zone, time_zone};
    assert_eq!(time_zone(db, &w.admin).await.unwrap(), "UTC");
    let e = set_time_zone(db, &w.admin, "Mars/Olympus")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    set_time_zone(db, &w.admin, " europe/berlin ")
        .await
        .unwrap();
    assert_eq!(time_zone(db, &w.admin).await.unwrap(), "Europe/Berlin");
    let marketer = crate::builder::user(db, "acme", herald_core::domain::Role::Marketer).await;
    assert!(set_time_zone(db, &marketer, "UTC").await.is_err());
    assert_eq!(time_zone(db, &w.admin).await.unwrap(), "Europe/Berlin");
}

#[tokio::test]
async fn a_timed_campaign_active_without_a_next_run_gets_one() {
    let w = world().await;
    set_time_zone(&w, "Europe/London").await;
    w.clock.set(t("2026-07-01T10:00:00Z"));
    let id = activate_with(
        &w,
        Trigger::Recurring {
            cadence: Cadence::Daily,
            minute: 9 * 60,
        },
        |_| {},
    )
    .await;
    // As a campaign activated before the scheduler kept next runs.
    let mut c: campaign::ActiveModel = load(&w, id).await.into();
    c.next_run_at = Set(None);
    c.update(&w.h.db).await.unwrap();
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(
        load(&w, id).await.next_run_at,
        Some(t("2026-07-02T08:00:00Z")),
        "09:00 in London (BST)"
    );
    assert!(sends(&w, id).await.is_empty(), "nothing sent for the past");
}

/// What the campaign's `n`th send (from 0) did to ada and fay (the audience's two reachable
/// people), as `state` or `state/reason`.
async fn outcomes_of_send(w: &World, id: i64, n: usize) -> Vec<String> {
    let reachable: Vec<i64> = w
        .people
        .iter()
        .filter(|(name, _)| ["ada", "fay"].contains(name))
        .map(|(_, id)| *id)
        .collect();
    let send = campaign_send::Entity::find()
        .filter(campaign_send::Column::CampaignId.eq(id))
        .order_by_asc(campaign_send::Column::Id)
        .all(&w.h.db)
        .await
        .unwrap()[n]
        .id;
    let mut rows: Vec<String> = message::Entity::find()
        .filter(message::Column::SendId.eq(send))
        .filter(message::Column::Seed.eq(false))
        .filter(message::Column::ContactId.is_in(reachable))
        .all(&w.h.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| match m.skip_reason {
            Some(r) => format!("{}/{}", m.state.as_str(), r.as_str()),
            None => m.state.as_str().to_owned(),
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn a_recurring_campaign_reaches_each_contact_as_often_as_its_frequency_allows() {
    // (frequency, what each of four daily runs does to the two recipients)
    let cases: [(Frequency, [&str; 4]); 3] = [
        (
            Frequency::Once,
            [
                "sent",
                "skipped/already_received",
                "skipped/already_received",
                "skipped/already_received",
            ],
        ),
        (
            Frequency::AtMostEvery { days: 2 },
            [
                "sent",
                "skipped/frequency_cap",
                "sent",
                "skipped/frequency_cap",
            ],
        ),
        (Frequency::EveryTime, ["sent", "sent", "sent", "sent"]),
    ];
    for (frequency, runs) in cases {
        let w = world().await;
        w.clock.set(t("2026-03-02T08:00:00Z"));
        let id = activate_with(
            &w,
            Trigger::Recurring {
                cadence: Cadence::Daily,
                minute: 9 * 60,
            },
            |d| d.settings.frequency = frequency,
        )
        .await;
        for (day, expected) in runs.iter().enumerate() {
            w.clock
                .set(t("2026-03-02T09:00:01Z") + Duration::days(day as i64));
            drain(&w.h, &w.clock, everything).await;
            assert_eq!(
                outcomes_of_send(&w, id, day).await,
                [*expected, *expected],
                "{frequency:?}, run {day}"
            );
        }
    }
}
