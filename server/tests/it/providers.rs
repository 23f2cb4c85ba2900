//! The providers against real servers on loopback: SMTP with DKIM (the signature verified by
//! dkimpy as a receiver would), Amazon SES v2 (moto's server: raw headers arrive, the message id
//! rides in a tag, throttling pauses sending and it resumes), and an HTTP SMS provider with a
//! Twilio-style API (a fake on loopback: transient and permanent answers). Per-organisation
//! settings choose the provider; secrets are stored sealed.

use crate::delivery::{
    SmtpSink, World, activate_with, drain, everything, messages, start_tool, with_provider, world,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use herald_core::delivery::Provider;
use herald_core::delivery::sending::{self, EmailProvider, SendingInput, SmsProvider};
use herald_core::domain::trigger::Trigger;
use herald_core::domain::{Channel, DeliveryState, MessageType};
use herald_core::entity::{contact, sending_config};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use std::sync::{Arc, Mutex};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "herald-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn smtp_messages_are_signed_with_the_sending_domains_dkim_key() {
    let w = world().await;
    let dir = temp_dir("dkim");
    let sink = SmtpSink::start(&dir, &[]);
    let h = with_provider(
        &w.h,
        Provider::smtp(
            &format!("smtp://127.0.0.1:{}", sink.port),
            herald_core::delivery::provider::SmtpLimits::pool(2),
        )
        .unwrap(),
    );
    let record = sending::add_domain(
        &h.db,
        &h.settings.secret_key,
        &w.admin,
        "acme.example",
        "herald",
        h.now(),
    )
    .await
    .unwrap();
    assert_eq!(record.record_name, "herald._domainkey.acme.example");
    assert!(record.record_value.starts_with("v=DKIM1; k=rsa; p=MII"));
    // The private key is stored sealed.
    let stored = herald_core::entity::sending_domain::Entity::find()
        .all(&h.db)
        .await
        .unwrap();
    assert!(stored[0].private_key.starts_with("v1:"));
    assert!(!stored[0].private_key.contains("PRIVATE KEY"));
    for (domain, selector) in [
        ("acme.example", "herald"),
        ("not a domain", "s"),
        ("ok.example", "bad selector"),
    ] {
        assert!(
            sending::add_domain(
                &h.db,
                &h.settings.secret_key,
                &w.admin,
                domain,
                selector,
                h.now()
            )
            .await
            .is_err(),
            "{domain} {selector}"
        );
    }

    let w = World { h, ..w };
    let campaign = activate_with(&w, Trigger::Immediately, |_| {}).await;
    drain(&w.h, &w.clock, everything).await;
    // The campaign's two messages (the run's report to its creator carries no message id).
    let received: Vec<String> = sink
        .received()
        .into_iter()
        .filter(|raw| !raw.contains("X-Herald-Message-Id: -"))
        .collect();
    assert_eq!(received.len(), 2);
    for (i, raw) in received.iter().enumerate() {
        assert!(raw.contains("DKIM-Signature:"), "{raw}");
        assert!(raw.contains("d=acme.example") && raw.contains("s=herald"));
        let h_tag = raw
            .split("h=")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .replace(['\r', '\n', ' ', '\t'], "")
            .to_lowercase();
        let signed: Vec<&str> = h_tag.split(':').collect();
        for header in [
            "from",
            "subject",
            "list-unsubscribe",
            "list-unsubscribe-post",
            "feedback-id",
        ] {
            assert!(signed.contains(&header), "{header} is not signed: {h_tag}");
        }
        // Gmail's feedback loop: campaign, type and organisation.
        assert!(
            raw.contains(&format!("Feedback-ID: c{campaign}:marketing:o")),
            "{raw}"
        );
        let path = dir.join(format!("verify-{i}.eml"));
        std::fs::write(&path, raw).unwrap();
        assert_eq!(
            dkim_verify(&path, &record.record_name, &record.record_value),
            "pass"
        );
        // A changed subject no longer verifies.
        std::fs::write(
            &path,
            raw.replacen("Subject: Welcome", "Subject: Welcomf", 1),
        )
        .unwrap();
        assert_eq!(
            dkim_verify(&path, &record.record_name, &record.record_value),
            "fail"
        );
    }
}

fn dkim_verify(path: &std::path::Path, name: &str, value: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tools/dkim-verify"))
        .arg(path)
        .args([name, value])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `tools/ses-double` on a free port; it stops with the test.
struct SesDouble {
    child: std::process::Child,
    url: String,
}

impl SesDouble {
    async fn start() -> SesDouble {
        let (child, port) = start_tool("ses-double", &[]);
        let d = SesDouble {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        // As with SES: the sending domain is an identity first.
        let r = reqwest::Client::new()
            .post(format!("{}/v2/email/identities", d.url))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=x",
            )
            .json(&serde_json::json!({"EmailIdentity": "acme.example"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        d
    }

    async fn sent(&self) -> serde_json::Value {
        reqwest::get(format!("{}/_double/sent", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn throttle(&self, n: u32) {
        reqwest::Client::new()
            .post(format!("{}/_double/throttle?n={n}", self.url))
            .send()
            .await
            .unwrap();
    }
}

impl Drop for SesDouble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The AWS SDK's standard chain finds credentials in the environment (the double takes any).
fn aws_test_credentials() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: set once, before any SES client of this process reads them; nothing else in
        // the test binary reads or writes these variables.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "test");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        }
    });
}

#[tokio::test]
async fn ses_takes_raw_messages_tagged_with_their_id_and_throttling_pauses_then_resumes() {
    aws_test_credentials();
    let w = world().await;
    let ses = SesDouble::start().await;
    let provider = Provider::ses("us-east-1", Some(&ses.url), Some("herald-events".into())).await;
    let w = World {
        h: with_provider(&w.h, provider),
        ..w
    };
    let id = activate_with(&w, Trigger::Immediately, |_| {}).await;
    drain(&w.h, &w.clock, everything).await;
    let sent: Vec<_> = messages(&w.h, id)
        .await
        .into_iter()
        .filter(|m| m.state == DeliveryState::Sent)
        .collect();
    assert_eq!(sent.len(), 2);
    let got = ses.sent().await;
    assert_eq!(got["sent"].as_array().unwrap().len(), 2, "{got}");
    for m in &sent {
        let at_ses = got["sent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["destinations"][0] == m.recipient.as_str())
            .unwrap();
        // SES's id is kept for its events; the raw message keeps every header.
        assert_eq!(m.provider_message_id.as_deref(), at_ses["id"].as_str());
        let raw = at_ses["raw"].as_str().unwrap();
        for header in [
            format!("X-Herald-Message-Id: {}", m.id),
            "List-Unsubscribe: <http://127.0.0.1/u/".to_owned(),
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click".to_owned(),
            "From: Acme <news@acme.example>".to_owned(),
        ] {
            assert!(raw.contains(&header), "{header} missing in {raw}");
        }
        // The request carried the message id as a tag, and the configuration set.
        let request = got["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["Destination"]["ToAddresses"][0] == m.recipient.as_str())
            .unwrap();
        assert_eq!(request["ConfigurationSetName"], "herald-events");
        assert_eq!(request["EmailTags"][0]["Name"], "herald_message_id");
        assert_eq!(request["EmailTags"][0]["Value"], m.id.to_string());
    }

    // Throttled: nothing fails, sending pauses (and says so), then resumes.
    ses.throttle(1000).await;
    let second = activate_with(&w, Trigger::Immediately, |d| d.name = "Second".into()).await;
    drain(&w.h, &w.clock, everything).await;
    let rows = messages(&w.h, second).await;
    assert!(rows.iter().all(|m| m.state != DeliveryState::Failed));
    assert_eq!(
        rows.iter()
            .filter(|m| m.state == DeliveryState::Queued)
            .count(),
        2,
        "back in the queue"
    );
    let outage = sending::outage(&w.h.db, w.admin.org_id(), Channel::Email)
        .await
        .unwrap()
        .expect("an outage is recorded");
    assert!(outage.1.contains("TooManyRequests"), "{}", outage.1);
    let detail = herald_core::campaigns::get(
        &w.h.db,
        &w.admin,
        second,
        w.h.settings.daily_run_at,
        w.h.now(),
    )
    .await
    .unwrap();
    assert!(
        detail
            .paused
            .as_deref()
            .is_some_and(|p| p.contains("not taking messages")),
        "{:?}",
        detail.paused
    );
    let status = sending::status(&w.h, &w.admin).await.unwrap();
    assert_eq!(status.outages.len(), 1, "{status:?}");
    assert_eq!(status.queued, 2);
    assert!(
        status.email_route.starts_with("Amazon SES (us-east-1"),
        "{}",
        status.email_route
    );
    ses.throttle(0).await;
    // The messages' backoff runs out; the provider answers again.
    for _ in 0..10 {
        w.clock.advance(chrono::Duration::minutes(2));
        drain(&w.h, &w.clock, everything).await;
    }
    let rows = messages(&w.h, second).await;
    assert!(
        rows.iter()
            .filter(|m| m.contact_id.is_some())
            .all(|m| matches!(m.state, DeliveryState::Sent | DeliveryState::Skipped))
    );
    assert_eq!(
        rows.iter()
            .filter(|m| m.state == DeliveryState::Sent)
            .count(),
        2
    );
    assert!(
        sending::outage(&w.h.db, w.admin.org_id(), Channel::Email)
            .await
            .unwrap()
            .is_none(),
        "resumed"
    );
    let status = sending::status(&w.h, &w.admin).await.unwrap();
    assert!(
        status.outages.is_empty() && status.queued == 0,
        "{status:?}"
    );
}

/// A Twilio-style SMS API on loopback: records each request; numbers ending in 0 are refused
/// (400), in 9 answered 429 (busy).
#[derive(Clone, Default)]
struct SmsFake {
    /// Each request's Authorization header and form fields.
    seen: Arc<Mutex<Vec<SmsRequest>>>,
}

type SmsRequest = (String, Vec<(String, String)>);

async fn sms_messages(
    State(fake): State<SmsFake>,
    axum::extract::Path(account): axum::extract::Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    fake.seen.lock().unwrap().push((auth.clone(), form.clone()));
    // Basic authentication with the account and its token ("AC123:secret-token").
    if account != "AC123" || auth != "Basic QUMxMjM6c2VjcmV0LXRva2Vu" {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"message":"Authenticate"}"#.into(),
        );
    }
    let to = form
        .iter()
        .find(|(k, _)| k == "To")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if to.ends_with('0') {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"code":21211,"message":"The 'To' number is not a valid phone number."}"#.into(),
        );
    }
    if to.ends_with('9') {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            r#"{"message":"Too many requests"}"#.into(),
        );
    }
    (
        StatusCode::CREATED,
        format!(
            r#"{{"sid":"SM{}","status":"queued"}}"#,
            to.trim_start_matches('+')
        ),
    )
}

#[tokio::test]
async fn sms_goes_through_the_organisations_http_provider() {
    let w = world().await;
    let fake = SmsFake::default();
    let app = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            axum::routing::post(sms_messages),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // Phones: ada's is accepted, fay's is refused as invalid, eve's is busy.
    for (name, phone) in [
        ("ada", "+447700900123"),
        ("fay", "+447700900120"),
        ("eve", "+447700900129"),
    ] {
        let c = contact::Entity::find_by_id(w.people[name])
            .one(&w.h.db)
            .await
            .unwrap()
            .unwrap();
        let mut c: contact::ActiveModel = c.into();
        c.phone = Set(Some(phone.into()));
        c.update(&w.h.db).await.unwrap();
    }
    let url = format!("http://AC123:secret-token@127.0.0.1:{port}");
    let bad = SendingInput {
        sms_provider: Some(SmsProvider::Http),
        sms_url: Some("http://127.0.0.1".into()),
        sms_from: Some("+15005550006".into()),
        ..Default::default()
    };
    let e = sending::set(&w.h, &w.admin, &bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("ACCOUNT:TOKEN"), "{e}");
    sending::set(
        &w.h,
        &w.admin,
        &SendingInput {
            sms_provider: Some(SmsProvider::Http),
            sms_url: Some(url),
            sms_from: Some("+15005550006".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let stored = sending_config::Entity::find_by_id(w.admin.org_id())
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.sms_url.unwrap().contains("secret-token"), "sealed");
    let shown = sending::overview(&w.h, &w.admin).await.unwrap();
    assert_eq!(
        shown.sms.as_deref(),
        Some(&*format!("http://AC123@127.0.0.1:{port}/"))
    );
    assert!(shown.sms_route.contains("SMS API"), "{}", shown.sms_route);
    assert_eq!(shown.email_provider, EmailProvider::Instance);

    let id = activate_with(&w, Trigger::Immediately, |d| {
        d.channel = Channel::Sms;
        d.message_type = MessageType::Operational;
    })
    .await;
    drain(&w.h, &w.clock, everything).await;
    let rows = messages(&w.h, id).await;
    let state = |name: &str| {
        rows.iter()
            .find(|m| m.contact_id == Some(w.people[name]))
            .map(|m| (m.state, m.error.clone(), m.provider_message_id.clone()))
            .unwrap()
    };
    assert_eq!(
        state("ada"),
        (DeliveryState::Sent, None, Some("SM447700900123".into()))
    );
    let (fay, error, _) = state("fay");
    assert_eq!(fay, DeliveryState::Failed);
    assert!(error.unwrap().contains("not a valid phone number"));
    assert_eq!(
        state("eve").0,
        DeliveryState::Queued,
        "busy: tried again later"
    );
    let seen = fake.seen.lock().unwrap().clone();
    let ada = seen
        .iter()
        .find(|(_, f)| f.contains(&("To".into(), "+447700900123".into())))
        .unwrap();
    assert!(ada.1.contains(&("From".into(), "+15005550006".into())));
    let body = &ada.1.iter().find(|(k, _)| k == "Body").unwrap().1;
    assert!(body.starts_with("Hello Test"), "{body}");
}
