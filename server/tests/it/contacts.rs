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
