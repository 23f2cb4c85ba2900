//! The contact list: search, pages, and account managers' scope.

use crate::common;

use common::spawn_app;
use herald_core::domain::Role;
use reqwest::StatusCode;

#[tokio::test]
async fn search_and_pages() {
    let app = spawn_app().await;
    let admin = app.user("acme", "ada@acme.test", Role::Admin).await;
    for i in 0..57 {
        app.contact("acme", &format!("person{i:02}@example.org"), None)
            .await;
    }
    app.contact("acme", "ana.OLSEN@example.org", None).await;
    app.contact("acme", "fifty%off@example.org", None).await;
    let client = app.signed_in(&admin).await;

    let first = app.call(&client, "list_contacts", &[]).await.json();
    assert_eq!(
        (first["total"].as_u64(), first["pages"].as_u64()),
        (Some(59), Some(2))
    );
    assert_eq!(first["rows"].as_array().unwrap().len(), 50);
    let second = app
        .call(&client, "list_contacts", &[("page", "2")])
        .await
        .json();
    assert_eq!(second["rows"].as_array().unwrap().len(), 9);
    let beyond = app
        .call(&client, "list_contacts", &[("page", "9")])
        .await
        .json();
    assert_eq!(beyond["rows"].as_array().unwrap().len(), 0);

    let olsen = app
        .call(&client, "list_contacts", &[("search", "olsen")])
        .await
        .json();
    assert_eq!(olsen["total"], 1, "case-insensitive on both databases");
    assert_eq!(olsen["rows"][0]["email"], "ana.OLSEN@example.org");
    let percent = app
        .call(&client, "list_contacts", &[("search", "%")])
        .await
        .json();
    assert_eq!(
        percent["total"], 1,
        "LIKE wildcards in the search are literal"
    );
    let underscore = app
        .call(&client, "list_contacts", &[("search", "_")])
        .await
        .json();
    assert_eq!(underscore["total"], 0);

    let page = app.get(&client, "/contacts?q=olsen").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("ana.OLSEN@example.org") && !page.body.contains("person01@"),
        "server-rendered results"
    );
    let bad = app.call(&client, "list_contacts", &[("page", "two")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn account_managers_list_only_their_contacts() {
    let app = spawn_app().await;
    let admin = app.user("acme", "ada@acme.test", Role::Admin).await;
    let maria = app.user("acme", "maria@acme.test", Role::Member).await;
    let maria_id = {
        let client = app.signed_in(&admin).await;
        let users = app.call(&client, "list_users", &[]).await.json();
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == maria)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    app.contact("acme", "mine@example.org", Some(maria_id))
        .await;
    app.contact("acme", "theirs@example.org", None).await;
    let client = app.signed_in(&maria).await;
    let list = app.call(&client, "list_contacts", &[]).await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["rows"][0]["email"], "mine@example.org");
}

/// Lists and batches cost the same number of statements for one item as for twenty (before:
/// two counts per segment, one per group, one statement per record and event).
#[tokio::test]
async fn lists_and_batches_do_not_query_per_item() {
    use herald_core::domain::access::Actor;
    use herald_core::domain::ingest::{EventInput, Record, RecordInput};
    use std::sync::atomic::Ordering;
    let app = spawn_app().await;
    let (db, statements) = common::counting_connection(&app).await;
    let mut costs = Vec::new();
    for (slug, n) in [("one", 1usize), ("twenty", 20)] {
        let org = herald_core::auth::accounts::ensure_org(&db, slug, slug)
            .await
            .unwrap();
        let actor = Actor::system(org.id);
        let everyone = herald_core::domain::audience::Filter::everyone();
        let mut emails = Vec::new();
        for i in 0..n {
            let email = format!("c{i}@{slug}.test");
            app.contact(slug, &email, None).await;
            emails.push(email);
            herald_core::contacts::groups::create(&db, &actor, &format!("G{i}"))
                .await
                .unwrap();
            herald_core::audience::segments::create(
                &db,
                &actor,
                &format!("S{i}"),
                &everyone,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        }
        let records: Vec<RecordInput> = emails
            .iter()
            .enumerate()
            .map(|(i, email)| RecordInput {
                email: email.clone(),
                external_id: Some(format!("b{i}")),
                record: Record::Booking {
                    starts_at: chrono::Utc::now(),
                },
            })
            .collect();
        let events: Vec<EventInput> = emails
            .iter()
            .enumerate()
            .map(|(i, email)| EventInput {
                email: email.clone(),
                name: "course_completed".into(),
                occurred_at: None,
                properties: Default::default(),
                external_id: Some(format!("e{i}")),
            })
            .collect();
        let cost =
            |statements: &std::sync::atomic::AtomicUsize| statements.swap(0, Ordering::SeqCst);
        cost(&statements);
        herald_core::contacts::groups::list(&db, &actor)
            .await
            .unwrap();
        let groups = cost(&statements);
        herald_core::audience::segments::list(&db, &actor, chrono::Utc::now())
            .await
            .unwrap();
        let segments = cost(&statements);
        herald_core::contacts::lists::all(&db, &actor)
            .await
            .unwrap();
        let lists = cost(&statements);
        herald_core::ingest::add_records(&db, &actor, &records)
            .await
            .unwrap();
        let new_records = cost(&statements);
        herald_core::ingest::add_records(&db, &actor, &records)
            .await
            .unwrap();
        let same_records = cost(&statements);
        herald_core::ingest::add_events(&db, &actor, &events, chrono::Utc::now())
            .await
            .unwrap();
        let new_events = cost(&statements);
        costs.push((
            groups,
            segments,
            lists,
            new_records,
            same_records,
            new_events,
        ));
    }
    println!("statements: {costs:?}");
    assert_eq!(
        costs[0], costs[1],
        "statements for 1 item and for 20: (groups, segments, lists, new records, records sent again, events)"
    );
}
