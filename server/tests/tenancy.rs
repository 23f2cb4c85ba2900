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
    let users = check("list_users", &[], StatusCode::OK).await.json();
    assert_eq!(users.as_array().unwrap().len(), 1);
    check("me", &[], StatusCode::OK).await;

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
