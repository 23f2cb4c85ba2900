//! The REST API under /api/v1, black-box: keys, batch upserts, idempotency, records and events
//! feeding the audience engine, malformed input, tenancy, and the OpenAPI description matching
//! the routes that exist.

use crate::common;
use herald_core::domain::access::{Actor, KeyScopes};

use common::{TestApp, spawn_app};
use herald_core::domain::Role;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

struct Api<'a> {
    app: &'a TestApp,
    key: String,
    http: reqwest::Client,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Api<'_> {
    /// Another client for the same server (to be given another key).
    fn clone_for<'a>(&self, app: &'a TestApp) -> Api<'a> {
        Api {
            app,
            key: String::new(),
            http: reqwest::Client::new(),
        }
    }

    async fn new<'a>(app: &'a TestApp, org: &str) -> Api<'a> {
        app.user(org, &format!("admin@{org}.test"), Role::Admin)
            .await;
        let org = herald_core::auth::accounts::find_org(&app.herald.db, org)
            .await
            .unwrap()
            .unwrap();
        let (_, key) = herald_core::auth::api_keys::create(
            &app.herald.db,
            &Actor::system(org.id),
            "test",
            KeyScopes::all(),
        )
        .await
        .unwrap();
        Api {
            app,
            key,
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let req = req.build().unwrap();
        let what = format!("{} {}", req.method(), req.url().path());
        let res = self.http.execute(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
        assert!(!status.is_server_error(), "{what}: {status}: {text}");
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn post(&self, path: &str, body: Value, key: Option<&str>) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/api/v1{path}", self.app.base))
            .bearer_auth(&self.key)
            .json(&body);
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        self.send(req).await
    }

    async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(
            self.http
                .put(format!("{}/api/v1{path}", self.app.base))
                .bearer_auth(&self.key)
                .json(&body),
        )
        .await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(
            self.http
                .get(format!("{}/api/v1{path}", self.app.base))
                .bearer_auth(&self.key),
        )
        .await
    }
}

fn fields(a: &Answer) -> Vec<String> {
    a.body["error"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| f["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn requests_need_a_live_key() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    let url = format!("{}/api/v1/contacts", app.base);
    for auth in [
        None,
        Some("Bearer hk_wrong"),
        Some("Basic abc"),
        Some("Bearer "),
    ] {
        let mut req = api.http.get(&url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let a = api.send(req).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(a.body["error"]["code"], "unauthorized");
    }
    assert_eq!(api.get("/contacts").await.status, StatusCode::OK);
    // Revoked keys stop working at once.
    let org = herald_core::auth::accounts::find_org(&app.herald.db, "alpha")
        .await
        .unwrap()
        .unwrap();
    let keys = herald_core::auth::api_keys::list(&app.herald.db, &Actor::system(org.id))
        .await
        .unwrap();
    assert!(keys[0].last_used_at.is_some(), "use is recorded");
    herald_core::auth::api_keys::revoke(&app.herald.db, &Actor::system(org.id), keys[0].id)
        .await
        .unwrap();
    assert_eq!(api.get("/contacts").await.status, StatusCode::UNAUTHORIZED);
    // Unknown endpoints answer JSON too.
    let a = api
        .send(api.http.get(format!("{}/api/v1/nothing", app.base)))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn contacts_merge_by_email_and_retries_change_nothing() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    let batch = json!({"contacts": [
        {"email": "Ada@Example.org", "first_name": "Ada", "groups": ["Alumni"], "marketing_consent": true},
        {"email": "ada@example.org", "last_name": "Lovelace", "attributes": {"plan": "gold"}},
        {"email": "bob@example.org", "phone": "+44 20 7946 0958", "language": "EN-gb", "time_zone": "europe/london"},
    ]});
    let first = api.post("/contacts", batch.clone(), Some("batch-1")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let r = &first.body["results"];
    assert_eq!(r[0]["outcome"], "created");
    assert_eq!(r[1]["outcome"], "updated", "the same address merges");
    assert_eq!(r[0]["id"], r[1]["id"]);
    assert_eq!(r[0]["email"], "ada@example.org");

    // The same request with the same key: the first answer, nothing changed.
    let replay = api.post("/contacts", batch.clone(), Some("batch-1")).await;
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    // The same key for another request is refused.
    let other = api
        .post(
            "/contacts",
            json!({"contacts": [{"email": "eve@example.org"}]}),
            Some("batch-1"),
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.body
    );
    // Without a key, sending the same data again changes nothing either.
    let again = api.post("/contacts", batch, None).await;
    let outcomes: Vec<&str> = again.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["unchanged", "unchanged", "unchanged"]);

    let id = r[0]["id"].as_i64().unwrap();
    let ada = api.get(&format!("/contacts/{id}")).await.body;
    assert_eq!(ada["first_name"], "Ada");
    assert_eq!(ada["last_name"], "Lovelace");
    assert_eq!(ada["groups"], json!(["Alumni"]));
    assert_eq!(ada["attributes"]["plan"], "gold");
    assert_eq!(ada["marketing_consent"]["given"], true);
    assert_eq!(ada["marketing_consent"]["source"], "api");
    let bob = api
        .get(&format!("/contacts/{}", r[2]["id"].as_i64().unwrap()))
        .await
        .body;
    assert_eq!(bob["phone"], "+442079460958");
    assert_eq!(bob["language"], "en-GB");
    assert_eq!(bob["time_zone"], "Europe/London");
    let page = api.get("/contacts?search=LOVE").await.body;
    assert_eq!(page["total"], 1);
}

#[tokio::test]
async fn concurrent_copies_of_a_request_take_effect_once() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    api.post(
        "/contacts",
        json!({"contacts": [{"email": "ada@example.org"}]}),
        None,
    )
    .await;
    let event = json!({"events": [{"email": "ada@example.org", "name": "invoice_paid"}]});
    // Six copies in flight at once, as a client retrying on timeouts might send them.
    let answers = futures::future::join_all(
        (0..6).map(|_| api.post("/events", event.clone(), Some("pay-77"))),
    )
    .await;
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.body, answers[0].body);
    }
    use sea_orm::{EntityTrait, PaginatorTrait};
    let stored = herald_core::entity::contact_event::Entity::find()
        .count(&app.herald.db)
        .await
        .unwrap();
    assert_eq!(stored, 1, "six copies, one event");
}

#[tokio::test]
async fn records_and_events_reach_the_audience_engine() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    api.post(
        "/contacts",
        json!({"contacts": [{"email": "ada@example.org"}, {"email": "bob@example.org"}]}),
        None,
    )
    .await;
    let now = chrono::Utc::now();
    let soon = (now + chrono::Duration::days(10)).to_rfc3339();
    let later = (now + chrono::Duration::days(100)).to_rfc3339();
    let year_ago = (now - chrono::Duration::days(365)).to_rfc3339();
    let credential = |expires: &str| {
        json!({"records": [{"email": "ada@example.org", "external_id": "cert-1", "record": {
            "type": "credential", "collection": "First aid", "name": "First aid level 2",
            "published_at": year_ago, "expires_at": expires}}]})
    };
    let a = api.post("/records", credential(&later), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["results"][0]["outcome"], "created");
    let expiring = json!({"filter": "credential", "collection": "First aid",
        "date": ["expires", {"direction": "next", "amount": 30, "unit": "days"}]});
    assert_eq!(
        api.post("/audience/count", expiring.clone(), None)
            .await
            .body["count"],
        0
    );
    // Sent again with a new expiry: the same record, updated.
    let a = api.post("/records", credential(&soon), None).await;
    assert_eq!(a.body["results"][0]["outcome"], "updated");
    let a = api.post("/records", credential(&soon), None).await;
    assert_eq!(a.body["results"][0]["outcome"], "unchanged");
    let count = api.post("/audience/count", expiring, None).await.body;
    assert_eq!(count["count"], 1);
    assert_eq!(count["sample"][0]["email"], "ada@example.org");

    let order = json!({"records": [
        {"email": "bob@example.org", "record": {"type": "order", "ordered_at": now.to_rfc3339(), "amount_cents": 4200}},
        {"email": "bob@example.org", "record": {"type": "subscription", "status": "active", "period_start": year_ago}},
        {"email": "bob@example.org", "record": {"type": "enrollment", "course": "Welding", "trainer": "Kim", "starts_at": year_ago, "ends_at": later}},
        {"email": "bob@example.org", "record": {"type": "pass", "valid_from": year_ago, "valid_to": later}},
        {"email": "bob@example.org", "record": {"type": "booking", "starts_at": soon}},
    ]});
    assert_eq!(
        api.post("/records", order, None).await.status,
        StatusCode::OK
    );
    for filter in [
        json!({"filter": "ordered", "within": {"direction": "last", "amount": 1, "unit": "days"}}),
        json!({"filter": "active_subscription"}),
        json!({"filter": "valid_pass"}),
        json!({"filter": "enrollment", "state": "current", "online": null, "exclude_remote": false, "trainer": "Kim", "category": null}),
        json!({"filter": "booking", "within": {"direction": "next", "amount": 2, "unit": "weeks"}}),
    ] {
        let c = api.post("/audience/count", filter.clone(), None).await.body;
        assert_eq!(c["count"], 1, "{filter}");
    }

    let event = json!({"events": [{"email": "bob@example.org", "name": "course_completed",
        "external_id": "ev-1", "properties": {"course": "Welding", "score": 91}}]});
    let a = api.post("/events", event.clone(), None).await;
    assert_eq!(a.body["results"][0]["outcome"], "created");
    let a = api.post("/events", event, None).await;
    assert_eq!(
        a.body["results"][0]["outcome"], "unchanged",
        "same external id"
    );
    let did = json!({"filter": "event", "name": "course_completed", "within": null});
    assert_eq!(
        api.post("/audience/count", did, None).await.body["count"],
        1
    );

    // The contact's timeline shows it all.
    let bob_id = api.get("/contacts?search=bob").await.body["rows"][0]["id"]
        .as_i64()
        .unwrap();
    let bob = api.get(&format!("/contacts/{bob_id}")).await.body;
    let kinds: std::collections::BTreeSet<&str> = bob["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "booking",
            "enrollment",
            "event",
            "order",
            "pass",
            "subscription"
        ]
        .into_iter()
        .collect()
    );
}

#[tokio::test]
async fn malformed_requests_get_a_4xx_naming_the_field() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    api.post(
        "/contacts",
        json!({"contacts": [{"email": "ada@example.org"}]}),
        None,
    )
    .await;
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"email": format!("c{i}@example.org")}))
        .collect();
    let table: Vec<(&str, Value, StatusCode, &str)> = vec![
        ("/contacts", json!({}), StatusCode::BAD_REQUEST, "contacts"),
        (
            "/contacts",
            json!({"contacts": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "contacts",
        ),
        (
            "/contacts",
            json!({"contacts": many}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "contacts",
        ),
        (
            "/contacts",
            json!({"contacts": [{"email": 5}]}),
            StatusCode::BAD_REQUEST,
            "contacts[0].email",
        ),
        (
            "/contacts",
            json!({"contacts": [{"email": "a@b.co", "emial": "x"}]}),
            StatusCode::BAD_REQUEST,
            "contacts[0].emial",
        ),
        (
            "/contacts",
            json!({"contacts": [{"email": "a@b.co"}, {"email": "nope"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "contacts[1].email",
        ),
        (
            "/contacts",
            json!({"contacts": [{"email": "a@b.co", "time_zone": "Mars/Base"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "contacts[0].time_zone",
        ),
        (
            "/contacts",
            json!({"contacts": [{"email": "a@b.co", "attributes": {"Bad Key": "x"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "contacts[0].attributes.Bad Key",
        ),
        (
            "/contacts",
            json!({"contacts": [{"email": "a@b.co", "attributes": {"n": 5}}]}),
            StatusCode::BAD_REQUEST,
            "contacts[0].attributes.n",
        ),
        (
            "/records",
            json!({"records": [{"email": "ada@example.org", "record": {"type": "spaceship"}}]}),
            StatusCode::BAD_REQUEST,
            "records[0].record.type",
        ),
        (
            "/records",
            json!({"records": [{"email": "ada@example.org", "record": {"type": "booking", "starts_at": "tomorrow"}}]}),
            StatusCode::BAD_REQUEST,
            "records[0].record.starts_at",
        ),
        (
            "/records",
            json!({"records": [{"email": "ada@example.org", "record": {"type": "pass", "valid_from": "2026-02-01T00:00:00Z", "valid_to": "2026-01-01T00:00:00Z"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].record.valid_to",
        ),
        (
            "/records",
            json!({"records": [{"email": "ghost@example.org", "record": {"type": "booking", "starts_at": "2026-01-01T00:00:00Z"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].email",
        ),
        (
            "/records",
            json!({"records": [{"email": "ada@example.org", "record": {"type": "order", "ordered_at": "2026-01-01T00:00:00Z", "amount_cents": -1}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "records[0].record.amount_cents",
        ),
        (
            "/events",
            json!({"events": [{"email": "ada@example.org", "name": "Has Spaces"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "events[0].name",
        ),
        (
            "/events",
            json!({"events": [{"email": "ada@example.org", "name": "x", "properties": []}]}),
            StatusCode::BAD_REQUEST,
            "events[0].properties",
        ),
        (
            "/audience/count",
            json!({"filter": "no_such_filter"}),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            "/audience/count",
            json!({"filter": "created", "within": {"direction": "last", "amount": -3, "unit": "days"}}),
            StatusCode::BAD_REQUEST,
            "within.amount",
        ),
        (
            "/segments",
            json!({"name": "", "filter": {"filter": "active_contact"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
    ];
    for (path, body, status, field) in table {
        let a = api.post(path, body.clone(), None).await;
        assert_eq!(a.status, status, "{path} {body}: {}", a.body);
        assert!(
            a.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        if !field.is_empty() {
            assert!(
                fields(&a).iter().any(|f| f == field),
                "{path} {body}: expected field {field}, got {:?} in {}",
                fields(&a),
                a.body
            );
        }
    }
    // Too deep an audience.
    let mut deep = json!({"filter": "active_contact"});
    for _ in 0..20 {
        deep = json!({"filter": "not", "not": deep});
    }
    let a = api.post("/audience/count", deep, None).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Not JSON at all, or not declared as JSON.
    let raw = |body: &'static str, ctype: &'static str| {
        api.http
            .post(format!("{}/api/v1/contacts", app.base))
            .bearer_auth(&api.key)
            .header("content-type", ctype)
            .body(body)
    };
    assert_eq!(
        api.send(raw("{not json", "application/json")).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.send(raw("email=a@b.co", "application/x-www-form-urlencoded"))
            .await
            .status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let a = api.get("/contacts/abc").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = api.get("/contacts?page=-1").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = api.get("/contacts/999999").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Nothing of the refused batches was stored.
    let page = api.get("/contacts").await.body;
    assert_eq!(page["total"], 1);
    // Oversized bodies are refused before they are read.
    let huge = format!(
        "{{\"contacts\": [{{\"email\": \"a@b.co\", \"first_name\": \"{}\"}}]}}",
        "x".repeat(2 << 20)
    );
    let res = api
        .http
        .post(format!("{}/api/v1/contacts", app.base))
        .bearer_auth(&api.key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// Every route of the REST API, called with one organisation's key on another's data: nothing
/// is read or changed across. The test fails when a route is added without a case here.
#[tokio::test]
async fn the_rest_api_never_crosses_organisations() {
    let app = spawn_app().await;
    let alpha = Api::new(&app, "alpha").await;
    let bravo = Api::new(&app, "bravo").await;
    let b = bravo
        .post(
            "/contacts",
            json!({"contacts": [{"email": "secret@bravo.test", "first_name": "Bravo", "groups": ["Bravo VIPs"]}]}),
            None,
        )
        .await;
    let bravo_id = b.body["results"][0]["id"].as_i64().unwrap();
    let bravo_group = {
        let org = herald_core::auth::accounts::find_org(&app.herald.db, "bravo")
            .await
            .unwrap()
            .unwrap();
        herald_core::contacts::groups::list(&app.herald.db, &Actor::system(org.id))
            .await
            .unwrap()[0]
            .id
    };
    let s = bravo
        .post(
            "/segments",
            json!({"name": "Bravo segment", "filter": {"filter": "in_group", "group_id": bravo_group}}),
            None,
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.body);
    let secrets = ["bravo", "Bravo"];
    let clean = |a: &Answer| {
        let text = a.body.to_string();
        assert!(!secrets.iter().any(|s| text.contains(s)), "leaked: {text}");
    };
    let mut covered = std::collections::BTreeSet::new();
    let mut case = |method: &str, path: &str| {
        covered.insert(format!("{method} /api/v1{path}"));
    };

    case("GET", "/contacts");
    let a = alpha.get("/contacts").await;
    assert_eq!(a.body["total"], 0);
    clean(&a);

    case("GET", "/contacts/{id}");
    let a = alpha.get(&format!("/contacts/{bravo_id}")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    clean(&a);

    case("POST", "/contacts");
    // The same address in Alpha is Alpha's own contact; Bravo's is untouched.
    let a = alpha
        .post(
            "/contacts",
            json!({"contacts": [{"email": "secret@bravo.test", "first_name": "Changed"}]}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_ne!(a.body["results"][0]["id"], bravo_id);
    assert_eq!(
        bravo.get(&format!("/contacts/{bravo_id}")).await.body["first_name"],
        "Bravo"
    );

    case("POST", "/records");
    let a = alpha
        .post(
            "/records",
            json!({"records": [{"email": "only@bravo.test", "record": {"type": "booking", "starts_at": "2026-12-01T10:00:00Z"}}]}),
            None,
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Bravo's contact is unknown to Alpha"
    );

    case("POST", "/events");
    let a = alpha
        .post(
            "/events",
            json!({"events": [{"email": "only@bravo.test", "name": "x"}]}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);

    case("POST", "/audience/count");
    let a = alpha
        .post(
            "/audience/count",
            json!({"filter": "in_group", "group_id": bravo_group}),
            None,
        )
        .await;
    assert_eq!(a.body["count"], 0, "Bravo's group reaches no one in Alpha");
    clean(&a);

    case("POST", "/segments");
    let a = alpha
        .post(
            "/segments",
            json!({"name": "Stolen", "filter": {"filter": "in_group", "group_id": bravo_group}}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);

    case("GET", "/segments");
    let a = alpha.get("/segments").await;
    assert_eq!(a.body, json!([]));

    // Bravo's template and campaign.
    let t = bravo
        .post(
            "/templates",
            json!({"name": "Bravo template", "subject": "Bravo", "html": "<p>Bravo</p>"}),
            None,
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let bravo_template = t.body["id"].as_i64().unwrap();
    let c = bravo
        .post(
            "/campaigns",
            json!({"name": "Bravo campaign", "message_type": "marketing", "template_id": bravo_template,
                   "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "event", "name": "bravo"}}),
            None,
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let bravo_campaign = c.body["id"].as_i64().unwrap();

    case("POST", "/templates");
    let a = alpha
        .post(
            "/templates",
            json!({"name": "Alpha template", "subject": "Hi", "html": "<p>Hi</p>"}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let alpha_template = a.body["id"].as_i64().unwrap();

    case("POST", "/campaigns");
    let a = alpha
        .post(
            "/campaigns",
            json!({"name": "Stolen", "message_type": "marketing", "template_id": bravo_template,
                   "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "immediately"}}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    clean(&a);

    case("GET", "/campaigns/{id}");
    let a = alpha.get(&format!("/campaigns/{bravo_campaign}")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    clean(&a);

    for what in ["messages", "stats", "links"] {
        case("GET", &format!("/campaigns/{{id}}/{what}"));
        let a = alpha
            .get(&format!("/campaigns/{bravo_campaign}/{what}"))
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{what}");
        clean(&a);
    }
    let own = bravo
        .get(&format!("/campaigns/{bravo_campaign}/stats"))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.body["stats"]["recipients"], 0);

    for action in ["activate", "deactivate"] {
        case("POST", &format!("/campaigns/{{id}}/{action}"));
        let a = alpha
            .post(
                &format!("/campaigns/{bravo_campaign}/{action}"),
                json!({}),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{action}: {}", a.body);
        clean(&a);
    }
    assert_eq!(
        bravo
            .get(&format!("/campaigns/{bravo_campaign}"))
            .await
            .body["status"],
        "draft"
    );

    // Bravo's workflow campaign: every workflow route refuses it to Alpha.
    let wf = json!({"entry": "hello", "steps": [
        {"id": "hello", "type": "send", "channel": "email", "template_id": bravo_template, "next": "wait"},
        {"id": "wait", "type": "wait", "span": {"amount": 3, "unit": "days"}, "next": null}]});
    let c = bravo
        .post(
            "/workflows",
            json!({"name": "Bravo series", "message_type": "marketing", "workflow": wf,
                   "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "event", "name": "bravo"}}),
            None,
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    assert_eq!(c.body["problems"], json!([]), "{}", c.body);
    let bravo_flow = c.body["id"].as_i64().unwrap();

    case("POST", "/workflows");
    let a = alpha
        .post(
            "/workflows",
            json!({"name": "Stolen", "message_type": "marketing", "workflow": wf,
                   "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "immediately"}}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert!(
        a.body["problems"][0]
            .as_str()
            .unwrap()
            .contains("not one of the organisation's templates"),
        "{}",
        a.body
    );
    clean(&a);
    let stolen = a.body["id"].as_i64().unwrap();
    let a = alpha
        .post(&format!("/workflows/{stolen}/start"), json!({}), None)
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);

    case("GET", "/workflows/{id}");
    let a = alpha.get(&format!("/workflows/{bravo_flow}")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    clean(&a);
    case("PUT", "/workflows/{id}");
    let a = alpha
        .put(
            &format!("/workflows/{bravo_flow}"),
            json!({"entry": "x", "steps": []}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    clean(&a);
    for (action, body) in [
        ("publish", json!({})),
        ("start", json!({})),
        ("pause", json!({})),
        ("resume", json!({"overdue": "send"})),
        ("exit", json!({"contact_id": bravo_id})),
    ] {
        case("POST", &format!("/workflows/{{id}}/{action}"));
        let a = alpha
            .post(&format!("/workflows/{bravo_flow}/{action}"), body, None)
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{action}: {}", a.body);
        clean(&a);
    }
    case("GET", "/workflows/{id}/stats");
    let a = alpha.get(&format!("/workflows/{bravo_flow}/stats")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    clean(&a);
    case("GET", "/workflows/{id}/steps/{step}/runs");
    let a = alpha
        .get(&format!("/workflows/{bravo_flow}/steps/wait/runs"))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    clean(&a);
    let own = bravo.get(&format!("/workflows/{bravo_flow}")).await;
    assert_eq!(own.body["status"], "draft", "{}", own.body);

    case("POST", "/messages");
    for body in [
        json!({"template_id": bravo_template, "email": "a@alpha.test"}),
        json!({"template_id": alpha_template, "contact_id": bravo_id}),
        json!({"template_id": alpha_template, "email": "secret-only@bravo.test"}),
    ] {
        let a = alpha.post("/messages", body.clone(), None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{body}: {}", a.body);
        clean(&a);
    }

    // The same idempotency key in two organisations is two keys.
    let a = alpha
        .post(
            "/contacts",
            json!({"contacts": [{"email": "a@alpha.test"}]}),
            Some("k"),
        )
        .await;
    let b = bravo
        .post(
            "/contacts",
            json!({"contacts": [{"email": "a@alpha.test"}]}),
            Some("k"),
        )
        .await;
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    assert_ne!(a.body["results"][0]["id"], b.body["results"][0]["id"]);

    let spec = alpha.get("/openapi.json").await.body;
    let routes: std::collections::BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    assert_eq!(
        covered, routes,
        "every REST route needs a cross-organisation case here"
    );
}

/// A key does what its scopes allow, and is told which scope it lacks.
#[tokio::test]
async fn keys_do_only_what_their_scopes_allow() {
    use herald_core::domain::access::KeyScope;
    let app = spawn_app().await;
    let admin = Api::new(&app, "alpha").await;
    let org = herald_core::auth::accounts::find_org(&app.herald.db, "alpha")
        .await
        .unwrap()
        .unwrap();
    let key_with = |scopes: Vec<KeyScope>| {
        let db = app.herald.db.clone();
        async move {
            herald_core::auth::api_keys::create(&db, &Actor::system(org.id), "k", KeyScopes(scopes))
                .await
                .unwrap()
                .1
        }
    };
    let reader = Api {
        key: key_with(vec![KeyScope::Read]).await,
        ..admin.clone_for(&app)
    };
    let writer = Api {
        key: key_with(vec![KeyScope::Write]).await,
        ..admin.clone_for(&app)
    };
    let body = json!({"contacts": [{"email": "ada@example.org"}]});
    let r = reader.post("/contacts", body.clone(), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], "forbidden");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("“write” scope"),
        "{}",
        r.body
    );
    assert_eq!(reader.get("/contacts").await.status, StatusCode::OK);
    assert_eq!(
        reader
            .post("/audience/count", json!({"filter": "all", "of": []}), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        writer.post("/contacts", body, None).await.status,
        StatusCode::OK
    );
    let r = writer.get("/contacts").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("“read” scope")
    );
    assert_eq!(reader.get("/segments").await.status, StatusCode::OK);
    assert_eq!(writer.get("/segments").await.status, StatusCode::FORBIDDEN);
    // A refused write stores nothing.
    assert_eq!(admin.get("/contacts").await.body["total"], 1);
}

/// Contacts are given to account managers by their address; the managers then see them.
#[tokio::test]
async fn contacts_are_assigned_to_account_managers_by_address() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    let manager = app.user("alpha", "maria@alpha.test", Role::Member).await;
    app.user("alpha", "mark@alpha.test", Role::Marketer).await;
    let r = api
        .post(
            "/contacts",
            json!({"contacts": [
                {"email": "one@example.org", "account_manager": "Maria@Alpha.test"},
                {"email": "two@example.org"}
            ]}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let one = r.body["results"][0]["id"].as_i64().unwrap();
    assert_eq!(
        api.get(&format!("/contacts/{one}")).await.body["account_manager"],
        "maria@alpha.test"
    );
    // The manager sees that contact and no other.
    let browser = app.signed_in(&manager).await;
    let page = app.call(&browser, "list_contacts", &[]).await.json();
    assert_eq!(page["total"], 1);
    assert_eq!(page["rows"][0]["email"], "one@example.org");
    // Unknown managers and users who are not account managers are refused, naming the field;
    // nothing is stored.
    for who in [
        "nobody@alpha.test",
        "mark@alpha.test",
        "admin@alpha.test",
        "maria@bravo.test",
    ] {
        let r = api
            .post(
                "/contacts",
                json!({"contacts": [{"email": "three@example.org", "account_manager": who}]}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{who}");
        assert_eq!(fields(&r), ["contacts[0].account_manager"], "{who}");
    }
    assert_eq!(api.get("/contacts?search=three").await.body["total"], 0);
    // An empty address takes the contact away from its manager.
    let r = api
        .post(
            "/contacts",
            json!({"contacts": [{"email": "one@example.org", "account_manager": ""}]}),
            None,
        )
        .await;
    assert_eq!(r.body["results"][0]["outcome"], "updated");
    assert_eq!(
        app.call(&browser, "list_contacts", &[]).await.json()["total"],
        0
    );
}

/// Numbers out of range and bodies that are not JSON get the answers the description lists
/// (before: a page number whose offset overflowed dropped the connection with no answer).
#[tokio::test]
async fn out_of_range_numbers_and_other_media_get_documented_answers() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    let r = api.get("/contacts?page=9223372036854775808").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = api.get("/contacts?page=1000001").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = api.get("/contacts?page=18446744073709551616").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api.get("/contacts?page=-1").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        api.get("/contacts?page=1000000").await.status,
        StatusCode::OK
    );
    let r = api.get("/contacts/not-a-number").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api.get("/contacts/99999999999999999999").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .send(
            api.http
                .post(format!("{}/api/v1/contacts", app.base))
                .bearer_auth(&api.key)
                .header("content-type", "text/plain")
                .body(r#"{"contacts": []}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // The description lists these answers for every operation they can come from.
    let spec = api.get("/openapi.json").await.body;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let answers = op["responses"].as_object().unwrap();
            for status in ["400", "401", "403"] {
                assert!(
                    answers.contains_key(status),
                    "{method} {path} lists {status}"
                );
            }
            if method == "post" {
                assert!(answers.contains_key("415"), "{method} {path} lists 415");
            }
        }
    }
    let page = &spec["paths"]["/api/v1/contacts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "page")
        .unwrap()["schema"];
    assert_eq!(
        (page["minimum"].clone(), page["maximum"].clone()),
        (json!(1), json!(1000000))
    );
}

#[tokio::test]
async fn segments_notice_contacts_entering_and_leaving() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    let org = herald_core::auth::accounts::find_org(&app.herald.db, "alpha")
        .await
        .unwrap()
        .unwrap()
        .id;
    api.post(
        "/contacts",
        json!({"contacts": [{"email": "ada@example.org", "groups": ["VIP"]}, {"email": "bob@example.org"}]}),
        None,
    )
    .await;
    let vip = herald_core::contacts::groups::list(&app.herald.db, &Actor::system(org))
        .await
        .unwrap()[0]
        .id;
    let created = api
        .post(
            "/segments",
            json!({"name": "VIPs", "filter": {"filter": "in_group", "group_id": vip}}),
            None,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["members"], 1);
    let seg = created.body["id"].as_i64().unwrap();
    let db = &app.herald.db;
    use sea_orm::EntityTrait;
    let segment = herald_core::entity::segment::Entity::find_by_id(seg)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let t0 = chrono::Utc::now();
    // Bob joins the group: he enters at the next refresh.
    api.post(
        "/contacts",
        json!({"contacts": [{"email": "bob@example.org", "groups": ["VIP"]}]}),
        None,
    )
    .await;
    let t1 = t0 + chrono::Duration::seconds(1);
    assert_eq!(
        herald_core::audience::segments::refresh(db, &segment, t1)
            .await
            .unwrap(),
        (1, 0)
    );
    let bob = herald_core::audience::segments::entered_since(db, &Actor::system(org), seg, t0)
        .await
        .unwrap();
    assert_eq!(bob.len(), 1);
    // A refresh with nothing new changes nothing.
    assert_eq!(
        herald_core::audience::segments::refresh(db, &segment, t1)
            .await
            .unwrap(),
        (0, 0)
    );
    // Ada leaves the group (deleted and recreated without her), then the segment.
    use sea_orm::{ColumnTrait, QueryFilter};
    let ada = api.get("/contacts?search=ada").await.body["rows"][0]["id"]
        .as_i64()
        .unwrap();
    herald_core::entity::contact_group_member::Entity::delete_many()
        .filter(herald_core::entity::contact_group_member::Column::ContactId.eq(ada))
        .exec(db)
        .await
        .unwrap();
    let t2 = t1 + chrono::Duration::seconds(1);
    assert_eq!(
        herald_core::audience::segments::refresh(db, &segment, t2)
            .await
            .unwrap(),
        (0, 1)
    );
    assert_eq!(
        herald_core::audience::segments::members(db, &Actor::system(org), seg)
            .await
            .unwrap(),
        bob
    );
    // And comes back: she enters again, after t2.
    herald_core::contacts::groups::add_contacts(db, &Actor::system(org), vip, &[ada])
        .await
        .unwrap();
    let t3 = t2 + chrono::Duration::seconds(1);
    assert_eq!(
        herald_core::audience::segments::refresh(db, &segment, t3)
            .await
            .unwrap(),
        (1, 0)
    );
    assert_eq!(
        herald_core::audience::segments::entered_since(db, &Actor::system(org), seg, t2)
            .await
            .unwrap(),
        vec![ada]
    );
    let listed = api.get("/segments").await.body;
    assert_eq!(listed[0]["members"], 2);
}

#[tokio::test]
async fn the_openapi_description_matches_the_routes() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    let spec = api
        .send(api.http.get(format!("{}/api/v1/openapi.json", app.base)))
        .await
        .body;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let url = format!(
                "{}{}",
                app.base,
                path.replace("{id}", "1").replace("{step}", "a")
            );
            let req = match method.as_str() {
                "get" => api.http.get(&url),
                "post" => api.http.post(&url).json(&json!({})),
                "put" => api.http.put(&url).json(&json!({})),
                other => panic!("unexpected method {other}"),
            };
            // Without a key every documented operation exists and asks for one.
            let a = api.send(req).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            let op = &item[method];
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} documents 401"
            );
        }
    }
    assert_eq!(operations, 27, "{:?}", paths.keys().collect::<Vec<_>>());
    // Enums are documented as they are sent: the stored strings.
    let schemas = &spec["components"]["schemas"];
    assert_eq!(schemas["Channel"]["enum"], json!(["email", "sms"]));
    assert_eq!(schemas["DeliveryState"]["enum"][0], "queued");
    assert_eq!(
        schemas["CampaignStatus"]["enum"],
        json!(["draft", "active", "inactive", "completed"])
    );
    // The documented contact fields are exactly the ones the server accepts.
    let documented: std::collections::BTreeSet<String> =
        spec["components"]["schemas"]["ContactInput"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
    let mut accepted = std::collections::BTreeSet::new();
    for field in &documented {
        let value = match field.as_str() {
            "email" => json!("probe@example.org"),
            "attributes" => json!({}),
            "groups" => json!([]),
            "active" | "marketing_consent" | "newsletter_consent" => json!(true),
            "phone" => json!("+442079460958"),
            "language" => json!("en"),
            "time_zone" => json!("UTC"),
            // An empty address removes the assignment.
            "account_manager" => json!(""),
            _ => json!("Probe"),
        };
        let mut contact = json!({"email": "probe@example.org"});
        contact[field] = value;
        if api
            .post("/contacts", json!({"contacts": [contact]}), None)
            .await
            .status
            == StatusCode::OK
        {
            accepted.insert(field.clone());
        }
    }
    assert_eq!(accepted, documented);
    let required: Vec<&str> = spec["components"]["schemas"]["ContactInput"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["email"]);
    // A field the description does not list is refused.
    let a = api
        .post(
            "/contacts",
            json!({"contacts": [{"email": "a@b.co", "nickname": "x"}]}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

/// Sending through the API: a template, a campaign with the builder's audience and trigger
/// JSON, activation, its numbers per state and its messages a page at a time, and a
/// transactional message that an idempotency key makes once.
#[tokio::test]
async fn campaigns_and_messages_are_sent_through_the_api() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    let contacts: Vec<Value> = (0..5)
        .map(|i| json!({"email": format!("p{i}@alpha.test"), "first_name": format!("P{i}")}))
        .chain([json!({"email": "out@alpha.test", "marketing_consent": false})])
        .collect();
    assert_eq!(
        api.post("/contacts", json!({ "contacts": contacts }), None)
            .await
            .status,
        StatusCode::OK
    );
    let t = api
        .post(
            "/templates",
            json!({"name": "Hello", "subject": "Hello {{ contact.first_name }}",
                   "html": "<p>Hi {{ contact.first_name }}</p>", "text": "Hi"}),
            None,
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let template = t.body["id"].as_i64().unwrap();
    let broken = api
        .post(
            "/templates",
            json!({"name": "Broken", "subject": "x", "html": "{{ oops"}),
            None,
        )
        .await;
    assert_eq!(
        broken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        broken.body
    );

    let c = api
        .post(
            "/campaigns",
            json!({"name": "News", "message_type": "marketing", "template_id": template,
                   "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "immediately"},
                   "settings": {"from_name": "Alpha", "priority": 5}}),
            None,
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    assert_eq!(c.body["status"], "draft");
    let id = c.body["id"].as_i64().unwrap();
    let bad = api
        .post(
            "/campaigns",
            json!({"name": "Bad", "message_type": "marketing", "template_id": template,
                   "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "sometimes"}}),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&bad), ["trigger.trigger"], "{}", bad.body);

    let a = api
        .post(&format!("/campaigns/{id}/activate"), json!({}), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let again = api
        .post(&format!("/campaigns/{id}/activate"), json!({}), None)
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The worker sends within seconds.
    let mut numbers = Value::Null;
    for _ in 0..100 {
        numbers = api.get(&format!("/campaigns/{id}")).await.body;
        // Sent, and the one-time campaign completed with its run.
        if numbers["messages"]["sent"] == 5 && numbers["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(numbers["messages"]["sent"], 5, "{numbers}");
    assert_eq!(numbers["messages"]["skipped"], 1);
    assert_eq!(numbers["messages"]["queued"], 0);
    assert_eq!(numbers["status"], "completed");

    // Messages a page at a time, and by state.
    let first = api
        .get(&format!("/campaigns/{id}/messages?limit=4"))
        .await
        .body;
    assert_eq!(first["messages"].as_array().unwrap().len(), 4);
    let after = first["next_after"].as_i64().unwrap();
    let rest = api
        .get(&format!("/campaigns/{id}/messages?limit=4&after={after}"))
        .await
        .body;
    assert_eq!(rest["messages"].as_array().unwrap().len(), 2);
    assert!(rest["next_after"].is_null());
    let skipped = api
        .get(&format!("/campaigns/{id}/messages?state=skipped"))
        .await
        .body;
    assert_eq!(skipped["messages"][0]["recipient"], "out@alpha.test");
    assert_eq!(skipped["messages"][0]["skip_reason"], "unsubscribed");
    for query in ["state=lost", "limit=0", "after=x"] {
        let a = api.get(&format!("/campaigns/{id}/messages?{query}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
    }

    // Transactional: once per key, operational (the unsubscribed contact still gets a
    // receipt), and skipped with a reason for a suppressed address.
    let m = api
        .post(
            "/messages",
            json!({"template_id": template, "email": "out@alpha.test"}),
            Some("order-1"),
        )
        .await;
    assert_eq!(m.status, StatusCode::ACCEPTED, "{}", m.body);
    assert_eq!(m.body["state"], "queued");
    let again = api
        .post(
            "/messages",
            json!({"template_id": template, "email": "out@alpha.test"}),
            Some("order-1"),
        )
        .await;
    assert_eq!(
        again.body["id"], m.body["id"],
        "the same key is the same message"
    );
    let other = api
        .post(
            "/messages",
            json!({"template_id": template, "email": "p1@alpha.test"}),
            Some("order-1"),
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.body
    );
    for body in [
        json!({"template_id": template}),
        json!({"template_id": template, "email": "p1@alpha.test", "contact_id": 1}),
        json!({"template_id": template, "email": "not an address"}),
    ] {
        let a = api.post("/messages", body.clone(), None).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            a.body
        );
    }
    // A template that names a record's fields has no record to render on its own.
    let record = api
        .post(
            "/templates",
            json!({"name": "Expiry", "subject": "{{ record.name }} expires", "html": "<p>{{ record.expires_at }}</p>"}),
            None,
        )
        .await;
    assert_eq!(record.status, StatusCode::CREATED, "{}", record.body);
    let a = api
        .post(
            "/messages",
            json!({"template_id": record.body["id"], "email": "p1@alpha.test"}),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.to_string().contains("record.name"), "{}", a.body);
    let message_id = m.body["id"].as_i64().unwrap();
    let mut state = Value::Null;
    for _ in 0..100 {
        let rows = herald_core::entity::message::Entity::find_by_id(message_id)
            .one(&app.herald.db)
            .await
            .unwrap()
            .unwrap();
        state = json!(rows.state.as_str());
        if state == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, "sent");
    let mailbox = herald_core::entity::mailbox_message::Entity::find()
        .filter(herald_core::entity::mailbox_message::Column::MessageId.eq(message_id))
        .all(&app.herald.db)
        .await
        .unwrap();
    assert_eq!(mailbox.len(), 1);
    assert!(
        mailbox[0].raw.contains("Subject: Hello"),
        "{}",
        mailbox[0].raw
    );
}

/// A workflow through the REST API: created with a problem, fixed, started; events let people
/// in (keyed by invoice); the numbers and who waits where are read; a run is ended by hand;
/// pausing and resuming work; a new version moves the people at a removed step.
#[tokio::test]
async fn a_workflow_is_run_through_the_api() {
    let app = spawn_app().await;
    let api = Api::new(&app, "alpha").await;
    let c = api
        .post(
            "/contacts",
            json!({"contacts": [{"email": "ada@alpha.test", "first_name": "Ada", "marketing_consent": true}]}),
            None,
        )
        .await;
    let ada = c.body["results"][0]["id"].as_i64().unwrap();
    let t = api
        .post(
            "/templates",
            json!({"name": "Due", "subject": "Invoice due", "html": "<p>Hi</p>"}),
            None,
        )
        .await;
    let template = t.body["id"].as_i64().unwrap();
    // A loop that never waits: created, with the problem in words; starting is refused.
    let looping = json!({"entry": "a", "steps": [
        {"id": "a", "type": "send", "channel": "email", "template_id": template, "next": "a"}]});
    let w = api
        .post(
            "/workflows",
            json!({"name": "Dunning", "message_type": "operational", "workflow": looping,
                   "audience": {"filter": "all", "of": []},
                   "trigger": {"trigger": "event", "name": "invoice_created"},
                   "settings": {"frequency": {"frequency": "every_time"}, "from_email": "billing@alpha.test"}}),
            None,
        )
        .await;
    assert_eq!(w.status, StatusCode::CREATED, "{}", w.body);
    let id = w.body["id"].as_i64().unwrap();
    assert!(
        w.body["problems"].to_string().contains("without a wait"),
        "{}",
        w.body
    );
    let refused = api
        .post(&format!("/workflows/{id}/start"), json!({}), None)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    // Malformed: a step type that does not exist names the problem.
    let bad = api
        .put(
            &format!("/workflows/{id}"),
            json!({"entry": "a", "steps": [{"id": "a", "type": "teleport"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert_eq!(fields(&bad), ["steps[0]"]);

    let flow = json!({"entry": "send", "key": "invoice", "goal": "invoice_paid", "steps": [
        {"id": "send", "type": "send", "channel": "email", "template_id": template, "next": "wait"},
        {"id": "wait", "type": "wait", "span": {"amount": 7, "unit": "days"}, "next": null}]});
    let fixed = api.put(&format!("/workflows/{id}"), flow).await;
    assert_eq!(fixed.body["problems"], json!([]), "{}", fixed.body);
    let started = api
        .post(&format!("/workflows/{id}/start"), json!({}), None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["status"], "active");
    assert_eq!(started.body["version"], 1);
    for (ext, invoice) in [("e1", "I-1"), ("e2", "I-2")] {
        let e = api
            .post(
                "/events",
                json!({"events": [{"email": "ada@alpha.test", "name": "invoice_created",
                                   "external_id": ext, "properties": {"invoice": invoice}}]}),
                None,
            )
            .await;
        assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    }
    let waiting = api.get(&format!("/workflows/{id}/steps/wait/runs")).await;
    assert_eq!(waiting.body["total"], 2, "{}", waiting.body);
    let keys: Vec<&str> = waiting.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["I-1", "I-2"]);
    let exited = api
        .post(
            &format!("/workflows/{id}/exit"),
            json!({"contact_id": ada, "key": "I-2"}),
            None,
        )
        .await;
    assert_eq!(exited.body["exited"], true, "{}", exited.body);
    let paid = api
        .post(
            "/events",
            json!({"events": [{"email": "ada@alpha.test", "name": "invoice_paid",
                               "external_id": "p1", "properties": {"invoice": "I-1"}}]}),
            None,
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK);
    let stats = api.get(&format!("/workflows/{id}/stats")).await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let whole = &stats.body["whole"];
    assert_eq!(whole["entered"], 2, "{}", stats.body);
    assert_eq!(whole["goal"], 1);
    assert_eq!(whole["in_progress"], 0);
    assert_eq!(
        whole["exited"],
        json!([{"reason": "goal", "n": 1}, {"reason": "stopped", "n": 1}])
    );
    assert_eq!(stats.body["steps"][0]["words"], "Send the email “Due”");
    assert_eq!(stats.body["steps"][0]["messages"]["recipients"], 2);
    assert_eq!(stats.body["steps"][1]["here"], 0);

    let paused = api
        .post(&format!("/workflows/{id}/pause"), json!({}), None)
        .await;
    assert_eq!(paused.body["status"], "inactive", "{}", paused.body);
    let bad = api
        .post(
            &format!("/workflows/{id}/resume"),
            json!({"overdue": "later"}),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let resumed = api
        .post(
            &format!("/workflows/{id}/resume"),
            json!({"overdue": "skip"}),
            None,
        )
        .await;
    assert_eq!(resumed.body["status"], "active", "{}", resumed.body);
    // A new version without the wait: nobody waits there, so no choice is needed.
    let v2 = json!({"entry": "send", "key": "invoice", "goal": "invoice_paid", "steps": [
        {"id": "send", "type": "send", "channel": "email", "template_id": template, "next": null}]});
    api.put(&format!("/workflows/{id}"), v2).await;
    let published = api
        .post(&format!("/workflows/{id}/publish"), json!({}), None)
        .await;
    assert_eq!(published.body["version"], 2, "{}", published.body);
    let v1 = stats.body["versions"][0]["id"].as_i64().unwrap();
    let old = api
        .get(&format!("/workflows/{id}/stats?version={v1}"))
        .await;
    assert_eq!(old.body["whole"]["entered"], 2, "{}", old.body);
    let all = api.get(&format!("/workflows/{id}/stats")).await;
    assert_eq!(all.body["versions"].as_array().unwrap().len(), 2);
    let bad = api.get(&format!("/workflows/{id}/stats?version=abc")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // A one-message campaign is not a workflow (found by the fuzzer: it answered 422).
    let plain = api
        .post(
            "/campaigns",
            json!({"name": "Plain", "message_type": "marketing", "template_id": template,
                   "audience": {"filter": "all", "of": []}, "trigger": {"trigger": "immediately"}}),
            None,
        )
        .await;
    let plain = plain.body["id"].as_i64().unwrap();
    for path in ["stats", "steps/send/runs"] {
        let a = api.get(&format!("/workflows/{plain}/{path}")).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.body);
    }
}
