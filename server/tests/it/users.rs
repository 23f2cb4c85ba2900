//! Admins manage the users of their organisation.

use crate::common;

use common::{PASSWORD, browser, spawn_app};
use herald_core::domain::Role;
use reqwest::StatusCode;

#[tokio::test]
async fn admin_adds_a_user_who_can_then_sign_in() {
    let app = spawn_app().await;
    let admin = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = app.signed_in(&admin).await;

    let r = app
        .call(
            &client,
            "add_user",
            &[
                ("email", " Nia@ACME.test "),
                ("name", "Nia"),
                ("role", "member"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let generated = r.json().as_str().expect("a generated password").to_owned();
    assert_eq!(generated.len(), 20);

    let nia = browser();
    let r = app
        .call(
            &nia,
            "login",
            &[("email", "nia@acme.test"), ("password", &generated)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let me = app.call(&nia, "me", &[]).await.json();
    assert_eq!(
        me["email"], "Nia@acme.test",
        "the domain is normalised, the local part kept"
    );
    assert_eq!(me["role"], "member");

    let r = app
        .call(
            &client,
            "add_user",
            &[
                ("email", "zed@acme.test"),
                ("name", "Zed"),
                ("role", "marketer"),
                ("password", "chosen-password"),
            ],
        )
        .await;
    assert_eq!(
        r.json(),
        serde_json::Value::Null,
        "no password to show when one was chosen"
    );
    assert_eq!(
        app.call(
            &browser(),
            "login",
            &[("email", "zed@acme.test"), ("password", "chosen-password")]
        )
        .await
        .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_user_input_gets_clear_errors() {
    let app = spawn_app().await;
    let admin = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = app.signed_in(&admin).await;
    let table = [
        (
            vec![
                ("email", "not-an-address"),
                ("name", ""),
                ("role", "member"),
                ("password", ""),
            ],
            "Invalid email address: the email address needs exactly one @.",
        ),
        (
            vec![
                ("email", "ada@acme.test"),
                ("name", ""),
                ("role", "member"),
                ("password", ""),
            ],
            "A user with the address ada@acme.test already exists.",
        ),
        (
            vec![
                ("email", "x@acme.test"),
                ("name", ""),
                ("role", "root"),
                ("password", ""),
            ],
            "Unknown role \"root\".",
        ),
        (
            vec![
                ("email", "x@acme.test"),
                ("name", ""),
                ("role", "member"),
                ("password", "short"),
            ],
            "The password must be at least 10 characters long.",
        ),
    ];
    for (args, message) in table {
        let r = app.call(&client, "add_user", &args).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{args:?}");
        assert_eq!(r.json()["Invalid"], message, "{args:?}");
    }
}

#[tokio::test]
async fn roles_change_but_an_organisation_keeps_an_admin() {
    let app = spawn_app().await;
    let admin = app.user("acme", "ada@acme.test", Role::Admin).await;
    app.user("acme", "mark@acme.test", Role::Marketer).await;
    let client = app.signed_in(&admin).await;
    let users = app.call(&client, "list_users", &[]).await.json();
    let id_of = |email: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
            .to_string()
    };
    let (ada, mark) = (id_of("ada@acme.test"), id_of("mark@acme.test"));

    let r = app
        .call(
            &client,
            "set_user_role",
            &[("user_id", &ada), ("role", "marketer")],
        )
        .await;
    assert_eq!(
        r.json()["Invalid"],
        "An organisation needs at least one admin."
    );
    assert_eq!(
        app.call(
            &client,
            "set_user_role",
            &[("user_id", &mark), ("role", "admin")]
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(
            &client,
            "set_user_role",
            &[("user_id", &ada), ("role", "marketer")]
        )
        .await
        .status,
        StatusCode::OK,
        "now another admin exists"
    );

    let mark_client = app.signed_in("mark@acme.test").await;
    let r = app
        .call(&mark_client, "remove_user", &[("user_id", &mark)])
        .await;
    assert_eq!(r.json()["Invalid"], "You cannot remove your own account.");
    assert_eq!(
        app.call(&mark_client, "remove_user", &[("user_id", &ada)])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(&client, "me", &[]).await.json(),
        serde_json::Value::Null,
        "a removed user's sessions end"
    );
    let r = app
        .call(
            &browser(),
            "login",
            &[("email", "ada@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
