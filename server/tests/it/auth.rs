//! Sign-in, sessions, sign-out, password changes, rate limiting and request protection, through
//! HTTP as a browser does it.

use crate::common;

use common::{PASSWORD, Reply, browser, spawn_app, spawn_app_with};
use herald_core::domain::Role;
use reqwest::StatusCode;

#[tokio::test]
async fn signing_in_sets_a_protected_session_cookie() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = browser();

    let r = app
        .call(
            &client,
            "login",
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("herald_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );

    let me = app.call(&client, "me", &[]).await.json();
    assert_eq!(me["email"], "ada@acme.test");
    assert_eq!(me["org_slug"], "acme");
    assert_eq!(me["role"], "admin");
    println!("backend: {}", app.backend);
}

#[tokio::test]
async fn wrong_credentials_get_one_message_for_unknown_users_and_bad_passwords() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = browser();
    for (who, password) in [
        (email.as_str(), "wrong-password"),
        ("nobody@acme.test", PASSWORD),
    ] {
        let r = app
            .call(&client, "login", &[("email", who), ("password", password)])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["Invalid"], "Wrong email address or password.");
        assert!(r.headers.get("set-cookie").is_none());
    }
    assert_eq!(
        app.call(&client, "me", &[]).await.json(),
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn pages_need_a_session() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;

    for path in ["/campaigns", "/settings", "/templates", "/campaigns/1"] {
        let r = app.get(&browser(), path).await;
        assert_eq!(r.status, StatusCode::FOUND, "{path}");
        assert_eq!(r.location(), Some("/login"), "{path}");
    }
    let login_page = app.get(&browser(), "/login").await;
    assert_eq!(login_page.status, StatusCode::OK);
    assert!(login_page.body.contains("name=\"password\""));

    let client = app.signed_in(&email).await;
    let r = app.get(&client, "/campaigns").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<h1>Campaigns</h1>"), "{}", r.body);
    let missing = app.get(&client, "/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = app.signed_in(&email).await;
    let r = app.call(&client, "logout", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        app.call(&client, "me", &[]).await.json(),
        serde_json::Value::Null
    );
    let r = app.call(&client, "list_campaigns", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json(), serde_json::json!("Unauthenticated"));
}

#[tokio::test]
async fn a_stolen_cookie_is_useless_after_sign_out() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = browser();
    let r = app
        .call(
            &client,
            "login",
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
    let cookie = r
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    app.call(&client, "logout", &[]).await;
    let replay = reqwest::Client::new()
        .post(format!("{}/api/me", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.text().await.unwrap(), "null");
}

#[tokio::test]
async fn changing_the_password_signs_out_every_other_session() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Marketer).await;
    let laptop = app.signed_in(&email).await;
    let phone = app.signed_in(&email).await;

    let new = "a-brand-new-passphrase";
    let r = app
        .call(
            &laptop,
            "change_password",
            &[("current", "not-it-at-all"), ("new", new), ("confirm", new)],
        )
        .await;
    assert_eq!(r.json()["Invalid"], "The current password is not correct.");
    let r = app
        .call(
            &laptop,
            "change_password",
            &[("current", PASSWORD), ("new", new), ("confirm", "typo")],
        )
        .await;
    assert_eq!(
        r.json()["Invalid"],
        "The new password and its confirmation differ."
    );
    let r = app
        .call(
            &laptop,
            "change_password",
            &[
                ("current", PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(
        r.json()["Invalid"],
        "The password must be at least 10 characters long."
    );

    let r = app
        .call(
            &laptop,
            "change_password",
            &[("current", PASSWORD), ("new", new), ("confirm", new)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    assert_eq!(
        app.call(&laptop, "me", &[]).await.json()["email"],
        email,
        "this browser stays signed in"
    );
    assert_eq!(
        app.call(&phone, "me", &[]).await.json(),
        serde_json::Value::Null,
        "others are signed out"
    );

    let old = app
        .call(
            &browser(),
            "login",
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fresh = app
        .call(&browser(), "login", &[("email", &email), ("password", new)])
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
}

/// Signs in from a client address (the server trusts the test's loopback proxy).
async fn sign_in_from(app: &common::TestApp, ip: &str, email: &str, password: &str) -> Reply {
    let res = browser()
        .post(format!("{}/api/login", app.base))
        .header("origin", &app.base)
        .header("x-forwarded-for", ip)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    common::reply(res).await
}

#[tokio::test]
async fn failures_lock_out_one_address_from_one_account_never_its_owner() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = server::http::client_ip::TrustedProxies::parse("127.0.0.1").unwrap()
    })
    .await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let other = app.user("acme", "bob@acme.test", Role::Admin).await;
    let attacker = "203.0.113.7";
    for _ in 0..herald_core::auth::sessions::MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS {
        let r = sign_in_from(&app, attacker, &email, "guess-guess").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // That address is locked out of that account, even with the right password...
    let r = sign_in_from(&app, attacker, &email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["RateLimited"], 15);
    // ...but the owner, from their own address, still gets in (before: locked out, 429).
    let r = sign_in_from(&app, "198.51.100.20", &email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // And another user from the attacker's address too.
    let r = sign_in_from(&app, attacker, &other, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn an_account_attacked_from_many_addresses_is_slowed_not_locked() {
    let app = spawn_app_with(|c| {
        c.trusted_proxies = server::http::client_ip::TrustedProxies::parse("127.0.0.1").unwrap()
    })
    .await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    // The owner signs in from home once: that address is the account's own.
    let home = "198.51.100.20";
    assert_eq!(
        sign_in_from(&app, home, &email, PASSWORD).await.status,
        StatusCode::OK
    );
    // Fifteen addresses guess once each: no address reaches its own limit.
    for i in 0..15 {
        let r = sign_in_from(&app, &format!("203.0.113.{i}"), &email, "guess-guess").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // A new address with the right password gets in, after being held back.
    let started = std::time::Instant::now();
    let r = sign_in_from(&app, "192.0.2.55", &email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let slowed = started.elapsed();
    assert!(
        slowed >= std::time::Duration::from_secs(2),
        "held back {slowed:?}"
    );
    // From home there is no wait.
    let started = std::time::Instant::now();
    assert_eq!(
        sign_in_from(&app, home, &email, PASSWORD).await.status,
        StatusCode::OK
    );
    assert!(
        started.elapsed() < slowed,
        "home {:?}, new address {slowed:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn forms_work_without_javascript() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = browser();
    let post = |form: Vec<(&'static str, String)>| {
        client
            .post(format!("{}/api/login", app.base))
            .header("accept", "text/html")
            .header("origin", &app.base)
            .header("referer", format!("{}/login", app.base))
            .form(&form)
            .send()
    };
    // A failure goes back to the form, with the error in the address for the page to show.
    let r = post(vec![
        ("email", email.clone()),
        ("password", "wrong-password".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{}/login?", app.base)) && back.contains("__err="),
        "{back}"
    );
    let page = app.get(&client, back.trim_start_matches(&app.base)).await;
    assert!(
        page.body.contains("Wrong email address or password."),
        "the error is rendered on the page"
    );

    let r = post(vec![
        ("email", email.clone()),
        ("password", PASSWORD.into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/campaigns");
    assert_eq!(app.get(&client, "/campaigns").await.status, StatusCode::OK);
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn_app().await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = app.signed_in(&email).await;
    let r = client
        .post(format!("{}/api/logout", app.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client
        .post(format!("{}/api/logout", app.base))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.call(&client, "me", &[]).await.json()["email"],
        email,
        "still signed in"
    );
}

/// Behind a reverse proxy the browser's `Origin` is the public address while `Host` is the
/// proxy's upstream: forms work, other sites are still refused. Before: every form post was
/// refused behind a proxy that rewrites `Host`.
#[tokio::test]
async fn forms_work_behind_a_proxy_that_rewrites_the_host() {
    let app = spawn_app_with(|c| c.public_url = "https://mail.example.org".into()).await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let client = browser();
    let login = |origin: &'static str| {
        client
            .post(format!("{}/api/login", app.base))
            .header("origin", origin)
            .form(&[("email", email.as_str()), ("password", PASSWORD)])
            .send()
    };
    // reqwest's Host is 127.0.0.1:<port>, as a proxy's upstream request would be.
    assert_eq!(
        login("https://mail.example.org").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        login("https://mail.example.org:443")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    for other in [
        "https://evil.example",
        "http://mail.example.org",
        "https://mail.example.org.evil.example",
        "null",
    ] {
        assert_eq!(
            login(other).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{other}"
        );
    }
}

#[tokio::test]
async fn oversized_and_malformed_requests_get_clear_errors() {
    let app = spawn_app().await;
    let client = browser();
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = client
        .post(format!("{}/api/login", app.base))
        .form(&[("email", huge.as_str()), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let r = app
        .call(&client, "login", &[("email", "ada@acme.test")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let err = r.json();
    assert!(
        err["Invalid"]
            .as_str()
            .unwrap_or_default()
            .contains("malformed"),
        "{err}"
    );

    let r = client
        .post(format!("{}/api/no_such_function", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_check_answers_when_the_database_does() {
    let app = spawn_app().await;
    let r = app.get(&browser(), "/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "ok");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["x-frame-options"], "DENY");
}

#[tokio::test]
async fn cookies_are_secure_when_served_over_https() {
    let app = spawn_app_with(|c| c.public_url = "https://herald.example".into()).await;
    let email = app.user("acme", "ada@acme.test", Role::Admin).await;
    let r = app
        .call(
            &browser(),
            "login",
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}
