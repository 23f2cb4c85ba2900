//! The campaign list and report: every number comes from the per-recipient message rows.

use crate::common;

use common::{campaign_with, row, spawn_app};
use herald_core::domain::Role;
use herald_core::entity::message;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

#[tokio::test]
async fn list_numbers_come_from_message_rows() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Marketer).await;
    let org = herald_core::auth::accounts::find_org(&app.herald.db, "acme")
        .await
        .unwrap()
        .unwrap();
    let rows = [
        row(false, false, false, 0, 0),
        row(true, false, false, 0, 0),
        row(true, true, false, 3, 2),
        row(true, true, false, 1, 0),
        row(true, false, true, 0, 0),
    ];
    let newsletter =
        campaign_with(&app, org.id, Some("Newsletter"), "active", Some(1), &rows).await;
    let older = campaign_with(
        &app,
        org.id,
        None,
        "completed",
        Some(10),
        &[row(true, true, false, 0, 0)],
    )
    .await;
    let draft = campaign_with(&app, org.id, Some("Draft"), "draft", None, &[]).await;
    let client = app.signed_in(&email).await;

    let list = app.call(&client, "list_campaigns", &[]).await.json();
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![newsletter, older, draft],
        "most recently sent first, never sent last"
    );
    let stats = &list[0]["stats"];
    for (k, v) in [
        ("recipients", 5),
        ("sent", 4),
        ("delivered", 2),
        ("bounced", 1),
        ("opened", 2),
        ("clicked", 1),
        ("waiting", 1),
    ] {
        assert_eq!(stats[k], v, "{k}: {stats}");
    }
    assert_eq!(list[2]["stats"]["recipients"], 0);

    let active = app
        .call(&client, "list_campaigns", &[("status", "active")])
        .await
        .json();
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(active[0]["id"], newsletter);
    let r = app
        .call(&client, "list_campaigns", &[("status", "bogus")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["Invalid"], "Unknown campaign status \"bogus\".");

    // The server-rendered page shows the same numbers, rates and the "Untitled" name.
    let page = app.get(&client, "/campaigns").await.body;
    for needle in [
        "Newsletter",
        "Untitled",
        "Newsletter</span>",
        "Active</span>",
        "80 %",
        "50 %",
        "25 %",
    ] {
        assert!(page.contains(needle), "{needle} missing from the list page");
    }
    let filtered = app.get(&client, "/campaigns?status=active").await.body;
    assert!(
        filtered.contains("Newsletter")
            && !filtered.contains("Untitled")
            && !filtered.contains(">Draft<")
    );

    let detail = app
        .call(&client, "get_campaign", &[("id", &newsletter.to_string())])
        .await
        .json();
    assert_eq!(detail["summary"]["stats"]["opened"], 2);
    assert_eq!(detail["sends"], 1);
    assert_eq!(detail["goal"], "Renewals");
    let page = app.get(&client, &format!("/campaigns/{newsletter}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Pending") && page.body.contains("Newsletter"));
    let missing = app.call(&client, "get_campaign", &[("id", "999999")]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_empty_organisation_is_pointed_to_the_builder() {
    let app = spawn_app().await;
    let email = app.user("fresh", "new@fresh.test", Role::Admin).await;
    let client = app.signed_in(&email).await;
    let page = app.get(&client, "/campaigns").await.body;
    assert!(page.contains("No campaigns yet."), "{page}");
    assert!(page.contains("href=\"/campaigns/new\""));
}

#[tokio::test]
async fn demo_data_is_believable_and_loads_once() {
    // As `herald demo` runs: before the server, no other worker about.
    let app = common::spawn_app_with(|c| c.workers = 0).await;
    let outcome = herald_core::demo::load(&app.herald).await.unwrap();
    let herald_core::demo::Outcome::Loaded {
        contacts,
        campaigns,
        messages,
    } = outcome
    else {
        panic!("first load loads: {outcome:?}");
    };
    assert_eq!(contacts, herald_core::demo::DEMO_CONTACTS);
    assert!(campaigns >= 10);
    assert!(messages > 10_000, "history: {messages} messages");
    assert_eq!(
        message::Entity::find().count(&app.herald.db).await.unwrap() as usize,
        messages
    );
    // The engine sent the history: every message that went out is in the development mailbox,
    // the others were left out by the rules, each with its reason.
    use herald_core::entity::mailbox_message;
    let went_out = message::Entity::find()
        .filter(message::Column::SentAt.is_not_null())
        .count(&app.herald.db)
        .await
        .unwrap();
    let in_mailbox = mailbox_message::Entity::find()
        .filter(mailbox_message::Column::MessageId.is_not_null())
        .count(&app.herald.db)
        .await
        .unwrap();
    assert!(went_out > 5_000, "{went_out}");
    assert_eq!(went_out, in_mailbox);
    let skipped = message::Entity::find()
        .filter(message::Column::State.eq(herald_core::domain::DeliveryState::Skipped))
        .all(&app.herald.db)
        .await
        .unwrap();
    assert!(!skipped.is_empty());
    assert!(
        skipped
            .iter()
            .all(|m| m.skip_reason.is_some() && m.sent_at.is_none())
    );
    let waiting = message::Entity::find()
        .filter(message::Column::State.is_in([
            herald_core::domain::DeliveryState::Queued,
            herald_core::domain::DeliveryState::Sending,
        ]))
        .count(&app.herald.db)
        .await
        .unwrap();
    assert_eq!(waiting, 0, "every run finished");
    assert_eq!(
        herald_core::demo::load(&app.herald).await.unwrap(),
        herald_core::demo::Outcome::AlreadyLoaded
    );

    let client = common::browser();
    let r = app
        .call(
            &client,
            "login",
            &[
                ("email", herald_core::demo::DEMO_ADMIN_EMAIL),
                ("password", herald_core::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let list = app.call(&client, "list_campaigns", &[]).await.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), campaigns);
    let total: i64 = list
        .iter()
        .map(|c| c["stats"]["recipients"].as_i64().unwrap())
        .sum();
    assert_eq!(total as usize, messages);
    for c in list {
        let s = &c["stats"];
        let n = |k: &str| s[k].as_i64().unwrap();
        assert!(
            n("sent") <= n("recipients")
                && n("delivered") + n("bounced") <= n("sent")
                && n("clicked") <= n("opened"),
            "{c}"
        );
    }
    assert!(
        list.iter().any(|c| c["status"] == "active") && list.iter().any(|c| c["status"] == "draft")
    );
    assert!(
        list.iter().any(|c| c["name"].is_null()),
        "an untitled campaign"
    );

    // Every kind of audience finds someone in the demo, and the account manager has contacts.
    use herald_core::audience::count;
    use herald_core::domain::access::Actor;
    use herald_core::domain::audience::*;
    let org = herald_core::auth::accounts::find_org(&app.herald.db, "demo")
        .await
        .unwrap()
        .unwrap();
    let scope = Actor::system(org.id);
    let now = chrono::Utc::now();
    let alumni = herald_core::entity::contact_group::Entity::find()
        .all(&app.herald.db)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.name == "Alumni")
        .unwrap()
        .id;
    let next = |amount| Window::Next {
        amount,
        unit: Unit::Days,
    };
    let last = |amount| Window::Last {
        amount,
        unit: Unit::Months,
    };
    for filter in [
        Filter::Credential {
            collection: None,
            date: Some((
                CredentialDate::Expires,
                Window::Next {
                    amount: 3,
                    unit: Unit::Months,
                },
            )),
        },
        Filter::Enrollment(EnrollmentFilter {
            state: Some(EnrollmentState::Current),
            ..Default::default()
        }),
        Filter::Enrollment(EnrollmentFilter {
            state: Some(EnrollmentState::Upcoming),
            category: Some("Languages".into()),
            ..Default::default()
        }),
        Filter::Booking { within: next(30) },
        Filter::ValidPass,
        Filter::ActiveSubscription,
        Filter::Ordered { within: last(6) },
        Filter::Event {
            name: "course_completed".into(),
            within: Some(last(3)),
        },
        Filter::Engagement {
            activity: Engagement::Opened,
            within: last(1),
        },
        Filter::Consent {
            message_type: herald_core::domain::MessageType::Newsletter,
        },
        Filter::InGroup { group_id: alumni },
    ] {
        let n = count(&app.herald.db, &scope, &filter, now).await.unwrap();
        assert!(
            n > 0 && n < herald_core::demo::DEMO_CONTACTS as u64,
            "{filter:?} reaches {n}"
        );
    }
    let manager = herald_core::entity::app_user::Entity::find()
        .all(&app.herald.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == herald_core::domain::Role::Member)
        .unwrap();
    let theirs = count(
        &app.herald.db,
        &common::account_manager(org.id, manager.id),
        &Filter::everyone(),
        now,
    )
    .await
    .unwrap();
    assert!(
        (100..600).contains(&theirs),
        "the account manager looks after {theirs} contacts"
    );
}
