//! Tracking, provider events and reports through the real server: the links of a sent message
//! lead through click URLs to where they pointed and nowhere else, opens and clicks are counted
//! (machines flagged), the counters the triggers keep equal a recount of the rows, SES events
//! arrive signed through SNS (and anything else is refused), SMS receipts are authenticated,
//! and the live stream sends the numbers as they move.

use crate::common::{self, spawn_app_with};
use crate::delivery::{World, activate_with, drain, everything, messages, world, world_with};
use chrono::{Duration, Utc};
use herald_core::domain::reports::RecipientQuery;
use herald_core::domain::trigger::Trigger;
use herald_core::domain::{DeliveryState, HitKind, Machine, MessageType, Role};
use herald_core::entity::{
    address_list_entry, campaign_stats, contact, job, link, mailbox_message, message,
    tracking_event,
};
use herald_core::webhooks::sns::{self, SnsKind, SnsMessage};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

pub(crate) const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const HTML: &str = "<html><body><p>Hello {{ contact.first_name }}</p>\
    <p><a href=\"https://shop.example/a?x=1&amp;y=2\">Shop</a> \
    <a href='https://blog.example/b'>Blog</a> <a href=\"mailto:help@acme.example\">Mail us</a> \
    <a href=\"{{ unsubscribe_url }}\">Leave</a> <a href=\"{{ view_url }}\">View online</a></p></body></html>";

/// A marketing campaign with links sent to the world's reachable contacts (ada and fay), with
/// every message dated an hour back (so that hits now are not "within seconds of delivery").
async fn sent(w: &World) -> i64 {
    let id = activate_with(w, Trigger::Immediately, |d| {
        d.message_type = MessageType::Marketing;
    })
    .await;
    // The campaign's template gets links before it goes out: a new version, then activation
    // fixed the old one; so change the version's own content.
    let c = herald_core::entity::campaign::Entity::find_by_id(id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    let v =
        herald_core::entity::template_version::Entity::find_by_id(c.template_version_id.unwrap())
            .one(&w.h.db)
            .await
            .unwrap()
            .unwrap();
    let mut content = v.content.clone();
    content.html = HTML.into();
    let mut a: herald_core::entity::template_version::ActiveModel = v.into();
    a.content = Set(content);
    a.update(&w.h.db).await.unwrap();
    drain(&w.h, &w.clock, everything).await;
    let hour_ago = Utc::now() - Duration::hours(1);
    message::Entity::update_many()
        .col_expr(
            message::Column::SentAt,
            sea_orm::sea_query::Expr::value(hour_ago),
        )
        .filter(message::Column::CampaignId.eq(id))
        .filter(message::Column::SentAt.is_not_null())
        .exec(&w.h.db)
        .await
        .unwrap();
    id
}

/// The HTML ada received.
pub(crate) async fn html_of(w: &World, who: &str) -> String {
    let m = mailbox_message::Entity::find()
        .filter(mailbox_message::Column::Recipient.eq(format!("{who}@example.org")))
        .order_by_desc(mailbox_message::Column::Id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    herald_core::delivery::mailbox::open(&w.h.db, &w.admin, m.id)
        .await
        .unwrap()
        .html
        .unwrap()
        // The template escapes what it prints into attributes (the unsubscribe and view URLs).
        .replace("&#x2f;", "/")
}

/// Every `{base}/{kind}/…` URL in `html`, in order.
pub(crate) fn urls(html: &str, base: &str, kind: &str) -> Vec<String> {
    let prefix = format!("{base}/{kind}/");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&prefix) {
        let tail = &rest[at..];
        let end = tail.find(['"', '\'', '<', ' ']).unwrap_or(tail.len());
        out.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The app's address for a URL built with the public URL.
pub(crate) fn local(app: &common::TestApp, url: &str) -> String {
    url.replacen(&app.herald.settings.public_url, &app.base, 1)
}

/// Waits until the recorder has written `n` events for `campaign`.
async fn events(w: &World, campaign: i64, n: usize) -> Vec<tracking_event::Model> {
    for _ in 0..100 {
        let e = tracking_event::Entity::find()
            .filter(tracking_event::Column::CampaignId.eq(campaign))
            .order_by_asc(tracking_event::Column::Id)
            .all(&w.h.db)
            .await
            .unwrap();
        if e.len() >= n {
            return e;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the recorder did not write {n} events");
}

async fn counters(w: &World, campaign: i64) -> herald_core::domain::DeliveryStats {
    herald_core::reports::live(&w.h.db, &w.admin, campaign)
        .await
        .unwrap()
}

#[tokio::test]
async fn opens_and_clicks_are_recorded_counted_and_flagged() {
    let w = world().await;
    let id = sent(&w).await;
    let public = w.h.settings.public_url.clone();
    let html = html_of(&w, "ada").await;
    // Links go through click URLs; mailto, unsubscribe and view links stay as they are; the
    // pixel is in.
    let clicks = urls(&html, &public, "c");
    assert_eq!(clicks.len(), 2, "{html}");
    assert!(!html.contains("https://shop.example"), "{html}");
    assert!(html.contains("mailto:help@acme.example"));
    assert_eq!(urls(&html, &public, "u").len(), 1, "{html}");
    assert_eq!(urls(&html, &public, "v").len(), 1, "{html}");
    let pixel = urls(&html, &public, "o");
    assert_eq!(pixel.len(), 1, "{html}");
    let links = link::Entity::find()
        .filter(link::Column::CampaignId.eq(id))
        .order_by_asc(link::Column::Url)
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(
        links.iter().map(|l| l.url.as_str()).collect::<Vec<_>>(),
        ["https://blog.example/b", "https://shop.example/a?x=1&y=2"],
        "one row per link of the campaign, whoever it was sent to"
    );

    let http = client();
    let get = |url: String, ua: &'static str| {
        let http = http.clone();
        async move { http.get(url).header("user-agent", ua).send().await.unwrap() }
    };
    let o = local(&w.app, &pixel[0]);
    let r = get(o.clone(), CHROME).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/gif");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    assert_eq!(r.bytes().await.unwrap().len(), 43);
    // Apple's proxy opening it too.
    assert_eq!(get(o, "Mozilla/5.0").await.status(), StatusCode::OK);
    let shop = local(&w.app, &clicks[0]);
    let r = get(shop.clone(), CHROME).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "https://shop.example/a?x=1&y=2");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    // A query added to the click URL changes nothing about where it goes.
    let r = get(format!("{shop}?url=https://evil.example"), CHROME).await;
    assert_eq!(r.headers()["location"], "https://shop.example/a?x=1&y=2");
    // A scanner checks the link with HEAD.
    let r = http.head(&shop).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);

    let e = events(&w, id, 5).await;
    assert_eq!(
        e.iter().map(|e| (e.kind, e.machine)).collect::<Vec<_>>(),
        [
            (HitKind::Open, None),
            (HitKind::Open, Some(Machine::AppleProxy)),
            (HitKind::Click, None),
            (HitKind::Click, None),
            (HitKind::Click, Some(Machine::Head)),
        ]
    );
    let ada = w.people["ada"];
    assert!(e.iter().all(|e| e.contact_id == Some(ada)));
    let s = counters(&w, id).await;
    assert_eq!((s.opened, s.human_opened, s.opens), (1, 1, 2));
    assert_eq!((s.clicked, s.human_clicked, s.clicks), (1, 1, 3));
    assert_eq!(s.sent, 2);
    assert_eq!(
        s,
        herald_core::reports::recount(&w.h.db, id).await.unwrap(),
        "the counters equal a recount of the rows"
    );
    let report = herald_core::reports::report(&w.h.db, &w.admin, id)
        .await
        .unwrap();
    let shop_row = report
        .links
        .iter()
        .find(|l| l.url.starts_with("https://shop"))
        .unwrap();
    assert_eq!(
        (
            shop_row.clicks,
            shop_row.unique_clicks,
            shop_row.human_clicks
        ),
        (3, 1, 1)
    );
    let bars = &report.activity.bars;
    assert_eq!(bars.iter().map(|h| h.opens).sum::<i64>(), 2);
    assert_eq!(bars.iter().map(|h| h.clicks).sum::<i64>(), 3);

    // The per-recipient table: ada opened and clicked, fay did neither.
    let page = herald_core::reports::recipients(
        &w.h.db,
        &w.admin,
        id,
        &RecipientQuery {
            filter: Some(herald_core::domain::RecipientFilter::Opened),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].contact_id, Some(ada));
    assert_eq!((page.rows[0].opens, page.rows[0].clicks), (2, 3));
    assert_eq!(page.rows[0].tone(), "good");
    let csv = herald_core::reports::recipients_csv(&w.h.db, &w.admin, id, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        csv.lines().count(),
        7,
        "a header and every recipient: {csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains("ada@example.org") && l.contains(",2,")),
        "{csv}"
    );

    // The message in the browser: its links tracked, no script allowed.
    let view = urls(&html, &public, "v");
    let r = get(local(&w.app, &view[0]), CHROME).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'none'")
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("Hello Test"), "{page}");
    assert_eq!(urls(&page, &public, "c").len(), 2, "{page}");
    let e = events(&w, id, 6).await;
    assert_eq!(e[5].kind, HitKind::View);
}

#[tokio::test]
async fn no_tracking_url_redirects_anywhere_herald_did_not_store() {
    let w = world().await;
    let id = sent(&w).await;
    let other = activate_with(&w, Trigger::Immediately, |d| d.name = "Other".into()).await;
    drain(&w.h, &w.clock, everything).await;
    let s = &w.h.settings;
    let ada = messages(&w.h, id)
        .await
        .into_iter()
        .find(|m| m.contact_id == Some(w.people["ada"]))
        .unwrap();
    let mine = link::Entity::find()
        .filter(link::Column::CampaignId.eq(id))
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    // A link of another campaign, stored under a URL of its own.
    let foreign = herald_core::tracking::link_ids(
        &w.h.db,
        ada.org_id,
        other,
        &["https://evil.example/".to_owned()],
    )
    .await
    .unwrap()["https://evil.example/"];
    let sign = |kind, m, l| herald_core::tracking::sign(&s.secret_key, kind, m, l);
    let good = sign(HitKind::Click, ada.id, Some(mine.id));
    let stranger = herald_core::secret::SecretKey::from_text(&"z".repeat(40)).unwrap();
    let mut flipped = good.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let table: Vec<(&str, String)> = vec![
        (
            "tampered",
            format!("/c/{}", String::from_utf8(flipped).unwrap()),
        ),
        (
            "another key",
            format!(
                "/c/{}",
                herald_core::tracking::sign(&stranger, HitKind::Click, ada.id, Some(mine.id))
            ),
        ),
        (
            "an open token",
            format!("/c/{}", sign(HitKind::Open, ada.id, None)),
        ),
        (
            "a link of another campaign",
            format!("/c/{}", sign(HitKind::Click, ada.id, Some(foreign))),
        ),
        (
            "no such message",
            format!("/c/{}", sign(HitKind::Click, 999_999, Some(mine.id))),
        ),
        (
            "no such link",
            format!("/c/{}", sign(HitKind::Click, ada.id, Some(999_999))),
        ),
        ("empty", "/c/".into()),
        ("a URL as the token", "/c/https:%2F%2Fevil.example".into()),
        ("a protocol-relative URL", "/c///evil.example".into()),
        ("a path", "/c/..%2F..%2Fetc%2Fpasswd".into()),
        (
            "a URL after the token",
            format!("/c/{good}/https://evil.example"),
        ),
        ("huge", format!("/c/{}", "A".repeat(8000))),
        (
            "a view token",
            format!("/v/{}", sign(HitKind::Click, ada.id, Some(mine.id))),
        ),
        (
            "a view of a message never sent",
            format!("/v/{}", sign(HitKind::View, 999_999, None)),
        ),
    ];
    let http = client();
    for (name, path) in table {
        let r = http
            .get(format!("{}{path}", w.app.base))
            .send()
            .await
            .unwrap();
        assert!(
            !r.status().is_redirection() && r.headers().get("location").is_none(),
            "{name}: {path} answered {} {:?}",
            r.status(),
            r.headers().get("location")
        );
        assert!(
            r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::URI_TOO_LONG,
            "{name}: {}",
            r.status()
        );
    }
    let ok = http
        .get(format!("{}/c/{good}", w.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.status(),
        StatusCode::FOUND,
        "the genuine token still works"
    );
    // A bad pixel token still gets the pixel (and nothing is recorded for it).
    let r = http
        .get(format!("{}/o/not-a-token", w.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/gif");
}

#[tokio::test]
async fn links_signed_with_a_replaced_key_keep_working() {
    let old = "old-secret-key-old-secret-key-0123456789";
    let app = spawn_app_with(|c| {
        c.workers = 0;
        c.previous_secret_keys = vec![old.into()];
    })
    .await;
    let org = herald_core::auth::accounts::ensure_org(&app.herald.db, "acme", "Acme")
        .await
        .unwrap();
    let c = common::campaign_with_id(&app.herald.db, org.id).await;
    common::message_for(&app.herald.db, org.id, c, None, None, None).await;
    let m = message::Entity::find()
        .filter(message::Column::CampaignId.eq(c))
        .one(&app.herald.db)
        .await
        .unwrap()
        .unwrap();
    let url = herald_core::tracking::link_ids(
        &app.herald.db,
        org.id,
        c,
        &["https://acme.example/".to_owned()],
    )
    .await
    .unwrap()["https://acme.example/"];
    let old_key = herald_core::secret::SecretKey::from_text(old).unwrap();
    let stranger = herald_core::secret::SecretKey::from_text(&"q".repeat(40)).unwrap();
    let http = client();
    for (key, want) in [
        (&app.herald.settings.secret_key, StatusCode::FOUND),
        (&old_key, StatusCode::FOUND),
        (&stranger, StatusCode::NOT_FOUND),
    ] {
        let token = herald_core::tracking::sign(key, HitKind::Click, m.id, Some(url));
        let r = http
            .get(format!("{}/c/{token}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), want);
    }
}

#[tokio::test]
async fn the_counters_always_equal_a_recount_of_the_rows() {
    use rand::{Rng, SeedableRng};
    let w = world().await;
    let id = sent(&w).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let base = messages(&w.h, id).await[0].clone();
    let t = Utc::now();
    let maybe = |rng: &mut rand::rngs::StdRng| rng.gen_bool(0.5).then_some(t);
    let links: Vec<i64> = link::Entity::find()
        .filter(link::Column::CampaignId.eq(id))
        .all(&w.h.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert!(!links.is_empty(), "the sent template has links");
    for round in 0..80 {
        let all = messages(&w.h, id).await;
        match rng.gen_range(0..5) {
            // A new row, in any state, sometimes a seed copy.
            0 => {
                let states = DeliveryState::ALL;
                message::ActiveModel {
                    org_id: Set(base.org_id),
                    campaign_id: Set(id),
                    send_id: Set(base.send_id),
                    contact_id: Set(None),
                    channel: Set(base.channel),
                    recipient: Set(format!("r{round}@example.org")),
                    state: Set(states[rng.gen_range(0..states.len())]),
                    seed: Set(rng.gen_bool(0.2)),
                    attempts: Set(0),
                    queued_at: Set(t),
                    sent_at: Set(maybe(&mut rng)),
                    delivered_at: Set(maybe(&mut rng)),
                    opens: Set(rng.gen_range(0..3)),
                    first_opened_at: Set(maybe(&mut rng)),
                    human_opened_at: Set(maybe(&mut rng)),
                    ..Default::default()
                }
                .insert(&w.h.db)
                .await
                .unwrap();
            }
            // A change of some counted columns (not the tracking ones: the recorder alone
            // writes those).
            1 => {
                let m = &all[rng.gen_range(0..all.len())];
                let mut a: message::ActiveModel = m.clone().into();
                a.state = Set(DeliveryState::ALL[rng.gen_range(0..DeliveryState::ALL.len())]);
                a.sent_at = Set(maybe(&mut rng));
                a.bounced_at = Set(maybe(&mut rng));
                a.bounce_type = Set(rng
                    .gen_bool(0.5)
                    .then_some(herald_core::domain::BounceType::Transient));
                a.complained_at = Set(maybe(&mut rng));
                a.unsubscribed_at = Set(maybe(&mut rng));
                a.update(&w.h.db).await.unwrap();
            }
            // A batch of opens and clicks through the recorder: people and machines, several
            // on one message, seed copies' too, now and then one for a message that is gone.
            2 | 3 => {
                use herald_core::tracking::recorder::{Hit, apply};
                let hits: Vec<Hit> = (0..rng.gen_range(1..6))
                    .map(|_| {
                        let m = &all[rng.gen_range(0..all.len())];
                        let click = rng.gen_bool(0.5);
                        Hit {
                            kind: if click { HitKind::Click } else { HitKind::Open },
                            message_id: if rng.gen_bool(0.05) { 1 << 40 } else { m.id },
                            link_id: click.then(|| links[rng.gen_range(0..links.len())]),
                            at: t + Duration::seconds(rng.gen_range(0..100_000)),
                            // Half of them a machine's (a HEAD request, a scanner).
                            head: rng.gen_bool(0.25),
                            user_agent: rng
                                .gen_bool(0.75)
                                .then(|| CHROME.into())
                                .or_else(|| rng.gen_bool(0.5).then(String::new)),
                            ip: None,
                        }
                    })
                    .collect();
                apply(&w.h.db, &hits).await.unwrap();
            }
            // A row gone.
            _ if all.len() > 2 => {
                let m = &all[rng.gen_range(0..all.len())];
                herald_core::entity::tracking_event::Entity::delete_many()
                    .filter(tracking_event::Column::MessageId.eq(m.id))
                    .exec(&w.h.db)
                    .await
                    .unwrap();
                herald_core::entity::message_event::Entity::delete_many()
                    .filter(herald_core::entity::message_event::Column::MessageId.eq(m.id))
                    .exec(&w.h.db)
                    .await
                    .unwrap();
                herald_core::entity::action::Entity::delete_many()
                    .filter(herald_core::entity::action::Column::MessageId.eq(m.id))
                    .exec(&w.h.db)
                    .await
                    .unwrap();
                herald_core::entity::mailbox_message::Entity::delete_many()
                    .filter(mailbox_message::Column::MessageId.eq(m.id))
                    .exec(&w.h.db)
                    .await
                    .unwrap();
                message::Entity::delete_by_id(m.id)
                    .exec(&w.h.db)
                    .await
                    .unwrap();
            }
            _ => {}
        }
        assert_eq!(
            counters(&w, id).await,
            herald_core::reports::recount(&w.h.db, id).await.unwrap(),
            "round {round}"
        );
    }
    let runs = herald_core::reports::runs(&w.h.db, &w.admin, id, 10)
        .await
        .unwrap();
    let total = counters(&w, id).await;
    assert!(total.opened > 0 && total.clicked > 0, "{total:?}");
    let mut summed = [0; 7];
    for r in runs {
        let s = r.stats;
        for (sum, n) in summed.iter_mut().zip([
            s.recipients,
            s.opened,
            s.human_opened,
            s.clicked,
            s.human_clicked,
            s.opens,
            s.clicks,
        ]) {
            *sum += n;
        }
    }
    assert_eq!(
        summed,
        [
            total.recipients,
            total.opened,
            total.human_opened,
            total.clicked,
            total.human_clicked,
            total.opens,
            total.clicks
        ],
        "runs add up"
    );
    let row = campaign_stats::Entity::find_by_id(id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.org_id, base.org_id);
}

/// Several recorders (several instances against one PostgreSQL) write hits for the same
/// messages at once: every hit counts once, on its message, its link and the counters, and a
/// first open or click is first once.
#[tokio::test]
async fn recorders_writing_at_once_count_every_hit_once() {
    use herald_core::tracking::recorder::{Hit, apply};
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;
    let w = world().await;
    let id = sent(&w).await;
    let sent_messages: Vec<i64> = messages(&w.h, id)
        .await
        .into_iter()
        .filter(|m| m.sent_at.is_some())
        .map(|m| m.id)
        .collect();
    assert_eq!(sent_messages.len(), 2, "ada and fay");
    let links: Vec<i64> = link::Entity::find()
        .filter(link::Column::CampaignId.eq(id))
        .all(&w.h.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let t = Utc::now();
    let mut all = Vec::new();
    let mut writers = Vec::new();
    for _ in 0..4 {
        let batches: Vec<Vec<Hit>> = (0..15)
            .map(|_| {
                (0..rng.gen_range(1..20))
                    .map(|_| {
                        let click = rng.gen_bool(0.5);
                        Hit {
                            kind: if click { HitKind::Click } else { HitKind::Open },
                            message_id: sent_messages[rng.gen_range(0..sent_messages.len())],
                            link_id: click.then(|| links[rng.gen_range(0..links.len())]),
                            at: t + Duration::seconds(rng.gen_range(0..1000)),
                            head: rng.gen_bool(0.3),
                            user_agent: Some(CHROME.into()),
                            ip: None,
                        }
                    })
                    .collect()
            })
            .collect();
        all.extend(batches.iter().flatten().cloned());
        let db = w.h.db.clone();
        writers.push(tokio::spawn(async move {
            for b in batches {
                apply(&db, &b).await.unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let opens = all.iter().filter(|h| h.kind == HitKind::Open).count() as i64;
    let clicks = all.len() as i64 - opens;
    let total = counters(&w, id).await;
    assert_eq!(
        total,
        herald_core::reports::recount(&w.h.db, id).await.unwrap()
    );
    assert_eq!((total.opens, total.clicks), (opens, clicks));
    assert_eq!((total.opened, total.clicked), (2, 2), "{total:?}");
    for m in messages(&w.h, id).await {
        let mine = |kind| {
            all.iter()
                .filter(|h| h.message_id == m.id && h.kind == kind)
                .count() as i32
        };
        assert_eq!(
            (m.opens, m.clicks),
            (mine(HitKind::Open), mine(HitKind::Click))
        );
    }
    let mut pairs: BTreeMap<(i64, i64), bool> = BTreeMap::new();
    for h in all.iter().filter(|h| h.kind == HitKind::Click) {
        *pairs.entry((h.message_id, h.link_id.unwrap())).or_default() |= !h.head;
    }
    let stored = link::Entity::find()
        .filter(link::Column::CampaignId.eq(id))
        .all(&w.h.db)
        .await
        .unwrap();
    for l in &stored {
        let of_link: Vec<bool> = pairs
            .iter()
            .filter(|((_, link), _)| *link == l.id)
            .map(|(_, human)| *human)
            .collect();
        let hits = all.iter().filter(|h| h.link_id == Some(l.id)).count() as i64;
        assert_eq!(
            (l.clicks, l.unique_clicks, l.human_clicks),
            (
                hits,
                of_link.len() as i64,
                of_link.iter().filter(|human| **human).count() as i64
            ),
            "link {}",
            l.url
        );
    }
    let events = tracking_event::Entity::find()
        .filter(tracking_event::Column::CampaignId.eq(id))
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(events.len(), all.len());
}

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:herald-ses";
const CERT_URL: &str = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem";
const KEY: &str = include_str!("../../../core/src/webhooks/testdata/sns-test-key.pem");

fn cert_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/src/webhooks/testdata")
}

/// An SES event for Herald's message `message_id`, signed as SNS signs it.
fn notification(id: &str, message_id: i64, event: serde_json::Value) -> SnsMessage {
    let mut ses = event;
    ses["mail"] = serde_json::json!({
        "timestamp": "2026-11-25T10:00:00.000Z",
        "messageId": format!("ses-{message_id}"),
        "destination": ["ada@example.org"],
        "tags": {"herald_message_id": [message_id.to_string()]},
    });
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut m = SnsMessage {
        kind: SnsKind::Notification,
        message_id: id.into(),
        topic_arn: TOPIC.into(),
        message: ses.to_string(),
        subject: None,
        timestamp: Utc::now(),
        timestamp_text: now,
        signature_version: "2".into(),
        signature: String::new(),
        signing_cert_url: CERT_URL.into(),
        subscribe_url: None,
        token: None,
    };
    m.signature = sns::sign(&m, KEY);
    m
}

fn body(m: &SnsMessage) -> serde_json::Value {
    let mut v = serde_json::json!({
        "Type": match m.kind {
            SnsKind::Notification => "Notification",
            SnsKind::SubscriptionConfirmation => "SubscriptionConfirmation",
            SnsKind::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        },
        "MessageId": m.message_id,
        "TopicArn": m.topic_arn,
        "Message": m.message,
        "Timestamp": m.timestamp_text,
        "SignatureVersion": m.signature_version,
        "Signature": m.signature,
        "SigningCertURL": m.signing_cert_url,
    });
    if let Some(s) = &m.subject {
        v["Subject"] = s.clone().into();
    }
    if let Some(u) = &m.subscribe_url {
        v["SubscribeURL"] = u.clone().into();
        v["Token"] = m.token.clone().unwrap_or_default().into();
    }
    v
}

async fn post_sns(w: &World, v: &serde_json::Value) -> StatusCode {
    client()
        .post(format!("{}/webhooks/ses", w.app.base))
        // As SNS sends it.
        .header("content-type", "text/plain; charset=UTF-8")
        .header("x-amz-sns-message-type", "Notification")
        .body(v.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

async fn sns_world() -> World {
    world_with(|c| {
        c.ses_topic_arns = vec![TOPIC.into()];
        c.sns_cert_dir = Some(cert_dir());
    })
    .await
}

#[tokio::test]
async fn ses_events_arrive_signed_through_sns_and_nothing_else_does() {
    let w = sns_world().await;
    let id = sent(&w).await;
    let all = messages(&w.h, id).await;
    let ada = all
        .iter()
        .find(|m| m.contact_id == Some(w.people["ada"]))
        .unwrap()
        .clone();
    let fay = all
        .iter()
        .find(|m| m.contact_id == Some(w.people["fay"]))
        .unwrap()
        .clone();
    let delivery = notification(
        "n-1",
        ada.id,
        serde_json::json!({"eventType": "Delivery", "delivery": {"timestamp": "2026-11-25T10:00:02.000Z", "recipients": ["ada@example.org"]}}),
    );
    // Hostile variants of it, each refused with a 4xx and changing nothing.
    let mut table: Vec<(&str, serde_json::Value)> = Vec::new();
    let mut v = body(&delivery);
    v["Message"] = v["Message"]
        .as_str()
        .unwrap()
        .replace("Delivery", "Bounce")
        .into();
    table.push(("a tampered message", v));
    let mut v = body(&delivery);
    v["TopicArn"] = "arn:aws:sns:eu-west-1:123456789012:other".into();
    table.push(("a tampered topic", v));
    let mut v = body(&delivery);
    v["SigningCertURL"] =
        "https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-test.pem"
            .into();
    table.push(("the wrong certificate host", v));
    let mut v = body(&delivery);
    v["SigningCertURL"] =
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-other.pem".into();
    table.push(("another certificate", v));
    let mut v = body(&delivery);
    v.as_object_mut().unwrap().remove("Signature");
    table.push(("unsigned", v));
    let mut v = body(&delivery);
    v["SignatureVersion"] = "1".into();
    table.push(("the other signature version", v));
    let mut unknown_topic = notification(
        "n-9",
        ada.id,
        serde_json::json!({"eventType": "Delivery", "delivery": {}}),
    );
    unknown_topic.topic_arn = "arn:aws:sns:eu-west-1:666666666666:attacker".into();
    unknown_topic.signature = sns::sign(&unknown_topic, KEY);
    table.push(("a topic Herald does not know, signed", body(&unknown_topic)));
    let mut stale = delivery.clone();
    stale.timestamp_text = "2026-01-01T00:00:00.000Z".into();
    stale.signature = sns::sign(&stale, KEY);
    table.push(("a day too old", body(&stale)));
    table.push(("not JSON", serde_json::Value::String("{{{".into())));
    for (name, v) in &table {
        let status = post_sns(&w, v).await;
        assert!(status.is_client_error(), "{name}: {status}");
    }
    let after = message::Entity::find_by_id(ada.id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.state, DeliveryState::Sent, "nothing changed");

    // The genuine notification, and its repeat.
    assert_eq!(post_sns(&w, &body(&delivery)).await, StatusCode::OK);
    assert_eq!(post_sns(&w, &body(&delivery)).await, StatusCode::OK);
    let after = message::Entity::find_by_id(ada.id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.state, DeliveryState::Delivered);
    let delivered_events = herald_core::entity::message_event::Entity::find()
        .filter(herald_core::entity::message_event::Column::MessageId.eq(ada.id))
        .filter(herald_core::entity::message_event::Column::State.eq(DeliveryState::Delivered))
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(delivered_events.len(), 1, "a repeat changes nothing");

    // fay bounces for good: suppressed, an action for the campaign's creator; then complains
    // about the earlier message too (version 1 signature this time).
    let mut bounce = notification(
        "n-2",
        fay.id,
        serde_json::json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-11-25T10:00:03.000Z", "bouncedRecipients": [{"emailAddress": "fay@example.org", "diagnosticCode": "smtp; 550 5.1.1 <script>alert(1)</script> user unknown"}]}}),
    );
    bounce.signature_version = "1".into();
    bounce.signature = sns::sign(&bounce, KEY);
    assert_eq!(post_sns(&w, &body(&bounce)).await, StatusCode::OK);
    let fay_after = message::Entity::find_by_id(fay.id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fay_after.state, DeliveryState::Bounced);
    assert!(fay_after.error.unwrap().contains("550 5.1.1"));
    let suppressed = address_list_entry::Entity::find()
        .filter(address_list_entry::Column::Email.eq("fay@example.org"))
        .one(&w.h.db)
        .await
        .unwrap();
    assert!(
        suppressed.is_some(),
        "a permanent bounce suppresses the address"
    );
    let todo = herald_core::entity::action::Entity::find()
        .filter(herald_core::entity::action::Column::MessageId.eq(fay.id))
        .one(&w.h.db)
        .await
        .unwrap();
    assert!(todo.is_some(), "and becomes an action");
    // The provider's words reach the page escaped.
    let admin = w.app.signed_in("admin@acme.test").await;
    let page = w
        .app
        .get(&admin, &format!("/campaigns/{id}?filter=bounced"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("550 5.1.1"), "the diagnostic is shown");
    assert!(
        !page.body.contains("<script>alert(1)</script>"),
        "and never as markup"
    );

    let complaint = notification(
        "n-3",
        ada.id,
        serde_json::json!({"eventType": "Complaint", "complaint": {"timestamp": "2026-11-25T11:00:00.000Z", "complainedRecipients": [{"emailAddress": "ada@example.org"}], "complaintFeedbackType": "abuse"}}),
    );
    assert_eq!(post_sns(&w, &body(&complaint)).await, StatusCode::OK);
    let ada_contact = contact::Entity::find_by_id(w.people["ada"])
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!ada_contact.marketing_consent, "a complaint unsubscribes");
    let s = counters(&w, id).await;
    assert_eq!(
        (s.delivered, s.bounced, s.complained, s.unsubscribed),
        (1, 1, 1, 1)
    );
    assert_eq!(s, herald_core::reports::recount(&w.h.db, id).await.unwrap());

    // A subscription confirmation is confirmed by a job; one for another host is refused.
    let mut confirm = notification("n-4", ada.id, serde_json::json!({}));
    confirm.kind = SnsKind::SubscriptionConfirmation;
    confirm.message = "You have chosen to subscribe".into();
    confirm.token = Some("2336412f37".into());
    confirm.subscribe_url = Some(format!(
        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37"
    ));
    confirm.signature = sns::sign(&confirm, KEY);
    let mut evil = confirm.clone();
    evil.subscribe_url = Some("https://evil.example/?Action=ConfirmSubscription".into());
    evil.signature = sns::sign(&evil, KEY);
    assert!(post_sns(&w, &body(&evil)).await.is_client_error());
    assert_eq!(post_sns(&w, &body(&confirm)).await, StatusCode::OK);
    let jobs = job::Entity::find()
        .filter(job::Column::Kind.eq("sns.confirm"))
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "one confirmation, for AWS's URL");
}

#[tokio::test]
async fn sms_receipts_must_be_signed_with_the_providers_token() {
    let w = world().await;
    let org_id = w.admin.org_id();
    let c = common::campaign_with_id(&w.h.db, org_id).await;
    common::message_for(&w.h.db, org_id, c, None, None, None).await;
    let mut m: message::ActiveModel = message::Entity::find()
        .filter(message::Column::CampaignId.eq(c))
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    m.channel = Set(herald_core::domain::Channel::Sms);
    m.state = Set(DeliveryState::Sent);
    m.delivered_at = Set(None);
    m.provider_message_id = Set(Some("SM123".into()));
    let m = m.update(&w.h.db).await.unwrap();
    herald_core::delivery::sending::set(
        &w.h,
        &w.admin,
        &herald_core::domain::sending::SendingInput {
            sms_provider: Some(herald_core::domain::sending::SmsProvider::Http),
            sms_url: Some("https://AC1:tok3n@sms.invalid".into()),
            sms_from: Some("+15550001".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let url = format!("{}/webhooks/sms", w.h.settings.public_url);
    let params: Vec<(String, String)> = [
        ("MessageSid", "SM123"),
        ("MessageStatus", "delivered"),
        ("To", "+15550002"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let post = |sig: String, params: Vec<(String, String)>| {
        let base = w.app.base.clone();
        async move {
            client()
                .post(format!("{base}/webhooks/sms"))
                .header("x-twilio-signature", sig)
                .form(&params)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let good = herald_core::webhooks::twilio::signature("tok3n", &url, &params);
    let wrong_token = herald_core::webhooks::twilio::signature("other", &url, &params);
    let mut changed = params.clone();
    changed[1].1 = "failed".into();
    assert_eq!(
        post(wrong_token, params.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(post(good.clone(), changed).await, StatusCode::FORBIDDEN);
    assert_eq!(
        post(String::new(), params.clone()).await,
        StatusCode::FORBIDDEN
    );
    let still = message::Entity::find_by_id(m.id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.state, DeliveryState::Sent);
    assert_eq!(post(good, params).await, StatusCode::OK);
    let done = message::Entity::find_by_id(m.id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, DeliveryState::Delivered);
}

#[tokio::test]
async fn the_live_stream_sends_the_numbers_as_they_move() {
    let w = world().await;
    let id = sent(&w).await;
    let email = "live@acme.test";
    w.app.user("acme", email, Role::Admin).await;
    let browser = w.app.signed_in(email).await;
    // Not signed in: refused; another organisation's campaign: not found.
    let r = client()
        .get(format!("{}/campaigns/{id}/live", w.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    w.app.user("other", "x@other.test", Role::Admin).await;
    let stranger = w.app.signed_in("x@other.test").await;
    let r = stranger
        .get(format!("{}/campaigns/{id}/live", w.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = stranger
        .get(format!("{}/campaigns/{id}/recipients.csv", w.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let csv = browser
        .get(format!(
            "{}/campaigns/{id}/recipients.csv?filter=opened",
            w.app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );

    let r = browser
        .get(format!("{}/campaigns/{id}/live", w.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut r = r;
    let mut seen = String::new();
    let mut next_stats = async || -> serde_json::Value {
        loop {
            if let Some(at) = seen.find("\n\n") {
                let event: String = seen.drain(..at + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return serde_json::from_str(data).unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), r.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .expect("the stream goes on");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    let first = next_stats().await;
    assert_eq!(first["opened"], 0);
    assert_eq!(first["sent"], 2);
    let html = html_of(&w, "fay").await;
    let pixel = urls(&html, &w.h.settings.public_url, "o");
    client()
        .get(local(&w.app, &pixel[0]))
        .header("user-agent", CHROME)
        .send()
        .await
        .unwrap();
    let moved = next_stats().await;
    assert_eq!(moved["opened"], 1);
    assert_eq!(moved["human_opened"], 1);
}

#[tokio::test]
async fn no_get_ever_unsubscribes() {
    let w = world().await;
    let id = sent(&w).await;
    let public = w.h.settings.public_url.clone();
    let html = html_of(&w, "ada").await;
    let unsubscribe = local(&w.app, &urls(&html, &public, "u")[0]);
    let http = client();
    let ua = |r: reqwest::RequestBuilder| r.header("user-agent", CHROME);
    // Everything a scanner, a prefetcher or a curious person might do with the links by GET.
    let table: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("the link", ua(http.get(&unsubscribe))),
        ("HEAD", ua(http.head(&unsubscribe))),
        (
            "the one-click body in the query",
            ua(http.get(format!("{unsubscribe}?List-Unsubscribe=One-Click"))),
        ),
        (
            "a one-click header",
            ua(http
                .get(&unsubscribe)
                .header("list-unsubscribe", "One-Click")),
        ),
        (
            "a body on a GET",
            ua(http
                .get(&unsubscribe)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click")),
        ),
        (
            "the marketing box unticked in the query",
            ua(http.get(format!("{unsubscribe}?marketing=off&newsletter=off"))),
        ),
        (
            "the pixel",
            ua(http.get(local(&w.app, &urls(&html, &public, "o")[0]))),
        ),
        (
            "a click",
            ua(http.get(local(&w.app, &urls(&html, &public, "c")[0]))),
        ),
        (
            "the view in the browser",
            ua(http.get(local(&w.app, &urls(&html, &public, "v")[0]))),
        ),
    ];
    for (name, request) in table {
        let r = request.send().await.unwrap();
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{name}: {}",
            r.status()
        );
    }
    let ada = contact::Entity::find_by_id(w.people["ada"])
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        ada.marketing_consent_at.is_none(),
        "still never asked: {ada:?}"
    );
    // The one-click POST does it, and the message counts an unsubscribe.
    let r = http
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let s = counters(&w, id).await;
    assert_eq!(s.unsubscribed, 1);
}
