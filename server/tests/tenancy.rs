//! One organisation can neither read nor change another's data, through any server function.
//! The test fails when a server function is added without a case here.

mod common;

use common::{campaign_with, row, spawn_app};
use herald_core::domain::Role;
use reqwest::StatusCode;
use std::collections::BTreeSet;

async fn campaign_for(app: &common::TestApp, org_slug: &str, name: &str) -> i64 {
    let org = herald_core::accounts::find_org(&app.herald.db, org_slug)
        .await
        .unwrap()
        .unwrap();
    campaign_with(
        app,
        org.id,
        Some(name),
        "active",
        Some(0),
        &[row(true, false, false, 0, 0)],
    )
    .await
}

#[tokio::test]
async fn no_server_function_crosses_organisations() {
    let app = spawn_app().await;
    let alice = app.user("alpha", "alice@alpha.test", Role::Admin).await;
    app.user("bravo", "bob@bravo.test", Role::Admin).await;
    let bravo_marketer = app.user("bravo", "mia@bravo.test", Role::Marketer).await;
    let alpha_campaign = campaign_for(&app, "alpha", "Alpha news").await;
    let bravo_campaign = campaign_for(&app, "bravo", "Bravo secret plans").await;
    let bravo_user_id = {
        let bob = app.signed_in("bob@bravo.test").await;
        let users = app.call(&bob, "list_users", &[]).await.json();
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == bravo_marketer)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    for who in ["ann", "ben", "cy"] {
        app.contact("alpha", &format!("{who}@alpha-customer.test"), None)
            .await;
    }
    let bravo_contact = app.contact("bravo", "secret@bravo.test", None).await;
    let bravo_org = herald_core::accounts::find_org(&app.herald.db, "bravo")
        .await
        .unwrap()
        .unwrap();
    let bravo_group = {
        use sea_orm::{ActiveModelTrait, Set};
        let g = herald_core::entity::contact_group::ActiveModel {
            org_id: Set(bravo_org.id),
            name: Set("Bravo VIPs".into()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&app.herald.db)
        .await
        .unwrap();
        herald_core::entity::contact_group_member::ActiveModel {
            group_id: Set(g.id),
            contact_id: Set(bravo_contact),
        }
        .insert(&app.herald.db)
        .await
        .unwrap();
        g.id
    };
    let client = app.signed_in(&alice).await;
    let (bravo_campaign, bravo_user) = (bravo_campaign.to_string(), bravo_user_id.to_string());
    let mut covered = BTreeSet::new();
    let mut check = async |name: &'static str, args: &[(&str, &str)], expect: StatusCode| {
        covered.insert(format!("/api/{name}"));
        let r = app.call(&client, name, args).await;
        assert_eq!(r.status, expect, "{name}: {}", r.body);
        assert!(
            !r.body.contains("Bravo secret plans") && !r.body.contains("bravo.test"),
            "{name} leaked: {}",
            r.body
        );
        r
    };

    // Reads return only Alpha's data.
    let list = check("list_campaigns", &[], StatusCode::OK).await.json();
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![alpha_campaign]);
    check("list_campaigns", &[("status", "active")], StatusCode::OK).await;
    check(
        "get_campaign",
        &[("id", &bravo_campaign)],
        StatusCode::NOT_FOUND,
    )
    .await;
    let contacts = check("list_contacts", &[], StatusCode::OK).await.json();
    assert_eq!(contacts["total"], 3);
    let secret = check("list_contacts", &[("search", "secret")], StatusCode::OK)
        .await
        .json();
    assert_eq!(secret["total"], 0);
    let users = check("list_users", &[], StatusCode::OK).await.json();
    assert_eq!(users.as_array().unwrap().len(), 1);
    check("me", &[], StatusCode::OK).await;

    // Audiences count only Alpha's contacts, even through Bravo's group.
    let everyone = app
        .call_json(
            &client,
            "count_audience",
            serde_json::json!({"filter": {"filter": "all", "of": []}}),
        )
        .await;
    assert_eq!(everyone.status, StatusCode::OK, "{}", everyone.body);
    assert_eq!(everyone.json()["count"], 3);
    assert!(!everyone.body.contains("bravo.test"), "{}", everyone.body);
    let through_group = app
        .call_json(
            &client,
            "count_audience",
            serde_json::json!({"filter": {"filter": "in_group", "group_id": bravo_group}}),
        )
        .await;
    assert_eq!(through_group.json()["count"], 0, "{}", through_group.body);

    // Writes aimed at Bravo's rows find nothing to change.
    check(
        "set_user_role",
        &[("user_id", &bravo_user), ("role", "member")],
        StatusCode::NOT_FOUND,
    )
    .await;
    check(
        "remove_user",
        &[("user_id", &bravo_user)],
        StatusCode::NOT_FOUND,
    )
    .await;
    // Adding a user puts them in the caller's organisation, whatever the address.
    check(
        "add_user",
        &[
            ("email", "new@alpha.test"),
            ("name", ""),
            ("role", "member"),
            ("password", ""),
        ],
        StatusCode::OK,
    )
    .await;
    check(
        "change_password",
        &[
            ("current", "wrong-password"),
            ("new", "x-new-password"),
            ("confirm", "x-new-password"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    check(
        "login",
        &[
            ("email", "nobody@alpha.test"),
            ("password", "wrong-password"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    check("logout", &[], StatusCode::OK).await;

    let bob = app.signed_in("bob@bravo.test").await;
    let bravo_users = app.call(&bob, "list_users", &[]).await.json();
    let emails: BTreeSet<&str> = bravo_users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        BTreeSet::from(["bob@bravo.test", "mia@bravo.test"]),
        "Bravo's users are untouched"
    );
    let mia = &bravo_users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "mia@bravo.test")
        .unwrap()["role"];
    assert_eq!(mia, "marketer");

    covered.insert("/api/count_audience".to_owned()); // checked above with JSON input
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert_eq!(
        covered, registered,
        "every server function needs a cross-organisation case here"
    );
}

#[tokio::test]
async fn only_admins_manage_users() {
    let app = spawn_app().await;
    app.user("alpha", "alice@alpha.test", Role::Admin).await;
    let mark = app.user("alpha", "mark@alpha.test", Role::Marketer).await;
    let client = app.signed_in(&mark).await;
    for (name, args) in [
        ("list_users", vec![]),
        (
            "add_user",
            vec![
                ("email", "x@alpha.test"),
                ("name", ""),
                ("role", "admin"),
                ("password", ""),
            ],
        ),
        ("set_user_role", vec![("user_id", "1"), ("role", "admin")]),
        ("remove_user", vec![("user_id", "1")]),
    ] {
        let r = app.call(&client, name, &args).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(r.json(), serde_json::json!("Forbidden"));
    }
}

#[tokio::test]
async fn account_managers_count_only_their_contacts() {
    let app = spawn_app().await;
    app.user("alpha", "alice@alpha.test", Role::Admin).await;
    let maria = app.user("alpha", "maria@alpha.test", Role::Member).await;
    let maria_id = {
        let admin = app.signed_in("alice@alpha.test").await;
        let users = app.call(&admin, "list_users", &[]).await.json();
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == maria)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let mine = app
        .contact("alpha", "mine@customer.test", Some(maria_id))
        .await;
    app.contact("alpha", "theirs@customer.test", None).await;
    let everyone = serde_json::json!({"filter": {"filter": "all", "of": []}});

    let admin = app.signed_in("alice@alpha.test").await;
    assert_eq!(
        app.call_json(&admin, "count_audience", everyone.clone())
            .await
            .json()["count"],
        2
    );
    let member = app.signed_in(&maria).await;
    let r = app
        .call_json(&member, "count_audience", everyone)
        .await
        .json();
    assert_eq!(r["count"], 1);
    assert_eq!(r["sample"][0]["id"], mine);
    assert_eq!(r["sample"][0]["email"], "mine@customer.test");
}

#[tokio::test]
async fn malformed_audiences_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let alice = app.user("alpha", "alice@alpha.test", Role::Admin).await;
    let client = app.signed_in(&alice).await;
    let r = app
        .call_json(
            &client,
            "count_audience",
            serde_json::json!({"filter": {"filter": "everything"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["Invalid"]
            .as_str()
            .unwrap()
            .contains("unknown variant `everything`"),
        "{}",
        r.body
    );
    let mut deep = serde_json::json!({"filter": "active_contact"});
    for _ in 0..20 {
        deep = serde_json::json!({"filter": "not", "not": deep});
    }
    let r = app
        .call_json(
            &client,
            "count_audience",
            serde_json::json!({"filter": deep}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["Invalid"],
        "The audience is nested too deeply (at most 12 levels)."
    );
}
