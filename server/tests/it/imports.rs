//! CSV imports through the real HTTP surface: upload, mapping, the background worker, the
//! per-row report, idempotent re-imports, bad files; plus suppression and seed lists.

use crate::common;
use herald_core::domain::access::Actor;

use common::{TestApp, spawn_app};
use herald_core::domain::Role;
use reqwest::StatusCode;
use std::time::Duration;

const CSV: &str = "Email,First name,Last name,Newsletter,Groups,Plan\n\
Ada@Example.org,Ada,Lovelace,yes,Alumni;Staff,gold\n\
not-an-address,Bob,Builder,no,,\n\
carol@example.org,Carol,,perhaps,,\n\
dan@example.org,Dan\n\
\"eve@example.org\",\"Eve, Jr.\",Smith,no,Alumni,silver\n\
ADA@example.org,Ada,Lovelace,yes,,gold\n";

async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    client
        .post(format!("{}/contacts/import/upload", app.base))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// Uploads `csv`, confirms the guessed mapping, and waits for the worker to finish.
async fn import(app: &TestApp, client: &reqwest::Client, csv: &str) -> serde_json::Value {
    let res = upload(app, client, "people.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = location(&res);
    let id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
    let status = app
        .call(client, "get_import", &[("id", &id.to_string())])
        .await
        .json();
    assert_eq!(status["status"], "uploaded");
    let mapping: Vec<(String, String)> = status["columns"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let target: herald_core::domain::ingest::ColumnTarget =
                serde_json::from_value(c[1].clone()).unwrap();
            (format!("col{i}"), target.to_form())
        })
        .collect();
    let res = client
        .post(format!("{}/contacts/import/{id}/start", app.base))
        .header("origin", &app.base)
        .form(&mapping)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        page,
        "back to the import's page without an error"
    );
    for _ in 0..100 {
        let s = app
            .call(client, "get_import", &[("id", &id.to_string())])
            .await
            .json();
        if s["status"] == "done" || s["status"] == "failed" {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the import did not finish");
}

#[tokio::test]
async fn a_csv_import_keeps_good_rows_reports_bad_ones_and_is_idempotent() {
    let app = spawn_app().await;
    app.user("alpha", "mia@alpha.test", Role::Marketer).await;
    let client = app.signed_in("mia@alpha.test").await;
    let s = import(&app, &client, CSV).await;
    assert_eq!(s["status"], "done");
    assert_eq!(s["total_rows"], 6);
    assert_eq!(s["processed_rows"], 6);
    assert_eq!(s["created_rows"], 2, "Ada and Eve: {s}");
    assert_eq!(
        s["updated_rows"], 1,
        "Ada's second row merges into the first: {s}"
    );
    assert_eq!(s["error_rows"], 3);
    let errors: Vec<(i64, String)> = s["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "Email".to_owned()),
            (4, "Newsletter".to_owned()),
            (5, String::new())
        ]
    );
    assert!(s["errors"][0]["reason"].as_str().unwrap().contains("email"));

    let contacts = app.call(&client, "list_contacts", &[]).await.json();
    assert_eq!(contacts["total"], 2);
    let ada = &contacts["rows"][0];
    assert_eq!(ada["email"], "ada@example.org");
    let detail = app
        .call(&client, "get_contact", &[("id", &ada["id"].to_string())])
        .await
        .json();
    assert_eq!(detail["groups"], serde_json::json!(["Alumni", "Staff"]));
    assert_eq!(detail["attributes"]["plan"], "gold");
    assert_eq!(detail["newsletter_consent"]["source"], "import");

    // The same file again changes nothing.
    let again = import(&app, &client, CSV).await;
    assert_eq!(again["created_rows"], 0);
    assert_eq!(again["updated_rows"], 0);
    assert_eq!(again["unchanged_rows"], 3, "{again}");
    assert_eq!(again["error_rows"], 3);
    let after = app
        .call(&client, "get_contact", &[("id", &ada["id"].to_string())])
        .await
        .json();
    assert_eq!(after, detail, "not even the consent stamps move");

    // The full report downloads as CSV.
    let res = client
        .get(format!(
            "{}/contacts/import/{}/errors.csv",
            app.base, s["id"]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let report = res.text().await.unwrap();
    assert!(
        report.starts_with("line,column,value,reason\n3,Email,not-an-address,"),
        "{report}"
    );
}

#[tokio::test]
async fn bad_files_and_mappings_are_refused_with_a_reason() {
    let app = spawn_app().await;
    app.user("alpha", "mia@alpha.test", Role::Marketer).await;
    let client = app.signed_in("mia@alpha.test").await;
    for (bytes, reason) in [
        (b"email\nb\xe9a@example.org\n".to_vec(), "UTF-8"),
        (Vec::new(), "Choose a CSV file"),
        (b"\n\n".to_vec(), "empty"),
    ] {
        let res = upload(&app, &client, "bad.csv", bytes).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        assert!(to.starts_with("/contacts/import?error="), "{to}");
        let page = app.get(&client, &to).await;
        assert!(page.body.contains(reason), "{reason}: {}", page.body);
    }
    // The redirect carries a code and a number, never words.
    let res = upload(
        &app,
        &client,
        "bad.csv",
        b"email\nb\xe9a@example.org\n".to_vec(),
    )
    .await;
    assert_eq!(location(&res), "/contacts/import?error=not_utf8&line=2");
    // A mapping without an email column.
    let res = upload(&app, &client, "people.csv", CSV.as_bytes().to_vec()).await;
    let page = location(&res);
    let res = client
        .post(format!("{}{page}/start", app.base))
        .header("origin", &app.base)
        .form(&[
            ("col0", "first_name"),
            ("col1", "ignore"),
            ("col2", "ignore"),
            ("col3", "ignore"),
            ("col4", "ignore"),
            ("col5", "ignore"),
        ])
        .send()
        .await
        .unwrap();
    let to = location(&res);
    assert_eq!(to, format!("{page}?error=no_email"));
    assert!(app.get(&client, &to).await.body.contains("email address"));
    // Nothing was imported.
    assert_eq!(
        app.call(&client, "list_contacts", &[]).await.json()["total"],
        0
    );
    // Another site cannot post an upload with the user's cookie.
    let res = client
        .post(format!("{}/contacts/import/upload", app.base))
        .header("origin", "https://evil.example")
        .multipart(reqwest::multipart::Form::new().text("file", "email\nx@example.org\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// A link cannot make the import pages say what it likes: only known codes show, in Herald's
/// words. Before: `?error=` was shown as it came, inside an alert.
#[tokio::test]
async fn import_pages_show_only_their_own_words() {
    let app = spawn_app().await;
    app.user("alpha", "mia@alpha.test", Role::Marketer).await;
    let client = app.signed_in("mia@alpha.test").await;
    let res = upload(&app, &client, "people.csv", CSV.as_bytes().to_vec()).await;
    let job_page = location(&res);
    for page in ["/contacts/import", job_page.as_str()] {
        for (query, shown, not_shown) in [
            (
                "error=Your+account+is+locked.+Call+555-0100",
                "The form could not be handled",
                "555-0100",
            ),
            (
                "error=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                "The form could not be handled",
                "alert(1)",
            ),
            (
                "error=not_utf8&line=7",
                "first bad byte on line 7",
                "not_utf8",
            ),
            (
                "error=not_utf8&line=%3Cb%3E",
                "first bad byte on line 0",
                "<b>",
            ),
        ] {
            let body = app.get(&client, &format!("{page}?{query}")).await.body;
            assert!(body.contains(shown), "{page}?{query}: {body}");
            assert!(
                !body.contains(not_shown),
                "{page}?{query} shows {not_shown}"
            );
        }
    }
}

/// An account manager column assigns contacts to the organisation's account managers; rows
/// naming anyone else are refused with the row and column.
#[tokio::test]
async fn an_import_assigns_contacts_to_account_managers() {
    let app = spawn_app().await;
    app.user("alpha", "mia@alpha.test", Role::Marketer).await;
    let manager = app.user("alpha", "am@alpha.test", Role::Member).await;
    let client = app.signed_in("mia@alpha.test").await;
    let csv = "Email,Account manager\n\
               one@example.org,AM@alpha.test\n\
               two@example.org,mia@alpha.test\n\
               three@example.org,\n";
    let s = import(&app, &client, csv).await;
    assert_eq!(
        (s["created_rows"].clone(), s["error_rows"].clone()),
        (2.into(), 1.into()),
        "{s}"
    );
    let e = &s["errors"][0];
    assert_eq!(
        (e["line"].clone(), e["column"].clone()),
        (3.into(), "Account manager".into())
    );
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains("not an account manager")
    );
    let theirs = app.signed_in(&manager).await;
    let page = app.call(&theirs, "list_contacts", &[]).await.json();
    assert_eq!(page["total"], 1);
    assert_eq!(page["rows"][0]["email"], "one@example.org");
}

#[tokio::test]
async fn account_managers_and_strangers_cannot_import() {
    let app = spawn_app().await;
    app.user("alpha", "am@alpha.test", Role::Member).await;
    let member = app.signed_in("am@alpha.test").await;
    let res = upload(&app, &member, "people.csv", CSV.as_bytes().to_vec()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let stranger = common::browser();
    let res = upload(&app, &stranger, "people.csv", CSV.as_bytes().to_vec()).await;
    assert_eq!(location(&res), "/login");
}

#[tokio::test]
async fn suppression_and_seed_lists() {
    let app = spawn_app().await;
    app.user("alpha", "mia@alpha.test", Role::Marketer).await;
    let client = app.signed_in("mia@alpha.test").await;
    let lists = app.call(&client, "list_lists", &[]).await.json();
    assert_eq!(lists[0]["name"], "Global suppression");
    assert_eq!(lists[0]["global"], true);
    let global = lists[0]["id"].to_string();
    let r = app
        .call(
            &client,
            "add_to_list",
            &[("id", &global), ("addresses", "email\nBounced@Example.org, hard bounce\nnot an address\n\nbounced@example.org\n")],
        )
        .await
        .json();
    assert_eq!(r["added"], 1);
    assert_eq!(r["already"], 1);
    assert_eq!(
        r["invalid"][0][0], 3,
        "line numbers count from the first line: {r}"
    );
    let (_, entries) = serde_json::from_value::<(serde_json::Value, Vec<serde_json::Value>)>(
        app.call(&client, "list_entries", &[("id", &global)])
            .await
            .json(),
    )
    .unwrap();
    assert_eq!(entries[0]["email"], "bounced@example.org");
    assert_eq!(entries[0]["reason"], "hard bounce");
    let org = herald_core::auth::accounts::find_org(&app.herald.db, "alpha")
        .await
        .unwrap()
        .unwrap();
    assert!(
        herald_core::contacts::lists::is_suppressed(
            &app.herald.db,
            &Actor::system(org.id),
            "BOUNCED@example.org",
            &[]
        )
        .await
        .unwrap()
    );
    assert!(
        !herald_core::contacts::lists::is_suppressed(
            &app.herald.db,
            &Actor::system(org.id),
            "ok@example.org",
            &[]
        )
        .await
        .unwrap()
    );
    let r = app.call(&client, "delete_list", &[("id", &global)]).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the global list stays"
    );

    let seeds = app
        .call(
            &client,
            "create_list",
            &[("kind", "seed"), ("name", "Proofreaders")],
        )
        .await
        .json()
        .to_string();
    app.call(
        &client,
        "add_to_list",
        &[("id", &seeds), ("addresses", "kim@example.org, Kim")],
    )
    .await;
    let (summary, entries) = serde_json::from_value::<(serde_json::Value, Vec<serde_json::Value>)>(
        app.call(&client, "list_entries", &[("id", &seeds)])
            .await
            .json(),
    )
    .unwrap();
    assert_eq!(summary["kind"], "seed");
    assert_eq!(entries[0]["name"], "Kim");
    let dup = app
        .call(
            &client,
            "create_list",
            &[("kind", "seed"), ("name", "Proofreaders")],
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    let odd = app
        .call(&client, "create_list", &[("kind", "vip"), ("name", "x")])
        .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.call(
        &client,
        "remove_from_list",
        &[("id", &seeds), ("email", "KIM@example.org")],
    )
    .await;
    let (_, entries) = serde_json::from_value::<(serde_json::Value, Vec<serde_json::Value>)>(
        app.call(&client, "list_entries", &[("id", &seeds)])
            .await
            .json(),
    )
    .unwrap();
    assert!(entries.is_empty());
}
