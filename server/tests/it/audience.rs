//! One answer everywhere: random filter trees over random contacts and records select the same
//! contacts in the database (SQLite or PostgreSQL, whichever this run uses) as in the plain
//! in-memory evaluator. Another organisation's rows are present and must never count.

use crate::common;

use chrono::{DateTime, Duration, Utc};
use common::spawn_app;
use herald_core::audience;
use herald_core::domain::ContactStatus;
use herald_core::domain::MessageType;
use herald_core::domain::access::Actor;
use herald_core::domain::audience::*;
use herald_core::entity::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use std::collections::BTreeSet;

const LANGUAGES: &[&str] = &["en", "fr", "de"];
const COLLECTIONS: &[&str] = &["First aid", "Forklift", "Welding"];
const CATEGORIES: &[&str] = &["Safety", "Languages"];
const TRAINERS: &[&str] = &["Ines", "Omar"];
const EVENTS: &[&str] = &["course_completed", "invoice_paid"];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

/// A time around now, biased towards the edges where off-by-one errors live: exactly now, whole
/// days near now (window bounds are whole days, weeks and months from now), or any hour from a
/// year and a half back to a year ahead.
fn time(rng: &mut StdRng) -> DateTime<Utc> {
    match rng.gen_range(0..10) {
        0..=2 => now(),
        3..=6 => now() + Duration::days(rng.gen_range(-20..20)),
        _ => now() + Duration::hours(rng.gen_range(-13_000..9_000)),
    }
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

struct World {
    data: Dataset,
    org_id: i64,
    groups: Vec<i64>,
    /// (manager user id, contacts assigned to them)
    manager: (i64, BTreeSet<i64>),
}

async fn org_with_user(db: &DatabaseConnection, slug: &str) -> (i64, i64) {
    let org = herald_core::auth::accounts::ensure_org(db, slug, slug)
        .await
        .unwrap();
    let user = herald_core::auth::accounts::create_user(
        db,
        org.id,
        herald_core::auth::accounts::NewUser {
            email: &format!("am@{slug}.test"),
            name: "",
            role: herald_core::domain::Role::Member,
            password: common::PASSWORD,
        },
    )
    .await
    .unwrap();
    (org.id, user.id)
}

/// Random contacts and records in `org_id`; returns what the evaluator needs to know.
async fn populate(
    db: &DatabaseConnection,
    rng: &mut StdRng,
    org_id: i64,
    manager: i64,
    contacts: usize,
) -> World {
    let mut data = Dataset::default();
    let mut groups = Vec::new();
    for name in ["Alumni", "Staff", "Partners"] {
        let g = contact_group::ActiveModel {
            org_id: Set(org_id),
            name: Set(name.into()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        groups.push(g.id);
    }
    let campaign = common::campaign_with_id(db, org_id).await;
    let mut assigned = BTreeSet::new();
    for i in 0..contacts {
        let active = rng.gen_bool(0.8);
        let language = pick(rng, LANGUAGES).to_owned();
        let created_at = time(rng).min(now());
        let (marketing, newsletter) = (rng.gen_bool(0.5), rng.gen_bool(0.4));
        let manager_id = rng.gen_bool(0.3).then_some(manager);
        let c = contact::ActiveModel {
            org_id: Set(org_id),
            email: Set(Some(format!("c{i}-{org_id}@example.org"))),
            phone: Set(None),
            first_name: Set("C".into()),
            last_name: Set(format!("{i}")),
            language: Set(language.clone()),
            time_zone: Set("UTC".into()),
            status: Set(if active {
                ContactStatus::Active
            } else {
                ContactStatus::Inactive
            }),
            created_at: Set(created_at),
            updated_at: Set(created_at),
            assigned_user_id: Set(manager_id),
            marketing_consent: Set(marketing),
            newsletter_consent: Set(newsletter),
            attributes: Set(Default::default()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        let id = c.id;
        if manager_id.is_some() {
            assigned.insert(id);
        }
        data.contacts.push(ContactRow {
            id,
            active,
            language,
            created_at,
            marketing_consent: marketing,
            newsletter_consent: newsletter,
        });
        for &g in &groups {
            if rng.gen_bool(0.3) {
                contact_group_member::ActiveModel {
                    group_id: Set(g),
                    contact_id: Set(id),
                }
                .insert(db)
                .await
                .unwrap();
                data.group_members.push((g, id));
            }
        }
        for _ in 0..rng.gen_range(0..3) {
            let published_at = time(rng);
            let renewed_at = rng
                .gen_bool(0.4)
                .then(|| published_at + Duration::days(rng.gen_range(30..400)));
            let expires_at = rng
                .gen_bool(0.7)
                .then(|| published_at + Duration::days(rng.gen_range(30..800)));
            let collection = pick(rng, COLLECTIONS).to_owned();
            credential::ActiveModel {
                org_id: Set(org_id),
                contact_id: Set(id),
                collection: Set(collection.clone()),
                name: Set("Cert".into()),
                published_at: Set(published_at),
                renewed_at: Set(renewed_at),
                expires_at: Set(expires_at),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
            data.credentials.push(CredentialRow {
                contact_id: id,
                collection,
                published_at,
                renewed_at,
                expires_at,
            });
        }
        for _ in 0..rng.gen_range(0..3) {
            let starts_at = time(rng);
            let ends_at = starts_at + Duration::days(rng.gen_range(0..20));
            let (category, trainer) = (
                pick(rng, CATEGORIES).to_owned(),
                pick(rng, TRAINERS).to_owned(),
            );
            let (online, remote) = (rng.gen_bool(0.5), rng.gen_bool(0.3));
            enrollment::ActiveModel {
                org_id: Set(org_id),
                contact_id: Set(id),
                course: Set("Course".into()),
                category: Set(category.clone()),
                trainer: Set(trainer.clone()),
                online: Set(online),
                remote: Set(remote),
                starts_at: Set(starts_at),
                ends_at: Set(ends_at),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
            data.enrollments.push(EnrollmentRow {
                contact_id: id,
                category,
                trainer,
                online,
                remote,
                starts_at,
                ends_at,
            });
        }
        if rng.gen_bool(0.4) {
            let t = time(rng);
            booking::ActiveModel {
                org_id: Set(org_id),
                contact_id: Set(id),
                starts_at: Set(t),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
            data.bookings.push((id, t));
        }
        if rng.gen_bool(0.4) {
            let from = time(rng);
            let to = from + Duration::days(rng.gen_range(1..365));
            pass::ActiveModel {
                org_id: Set(org_id),
                contact_id: Set(id),
                valid_from: Set(from),
                valid_to: Set(to),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
            data.passes.push((id, from, to));
        }
        if rng.gen_bool(0.4) {
            let status = if rng.gen_bool(0.6) {
                "active"
            } else {
                "cancelled"
            }
            .to_owned();
            let end = rng.gen_bool(0.6).then(|| time(rng));
            subscription::ActiveModel {
                org_id: Set(org_id),
                contact_id: Set(id),
                status: Set(status.parse().unwrap()),
                period_start: Set(time(rng)),
                period_end: Set(end),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
            data.subscriptions.push((id, status, end));
        }
        for _ in 0..rng.gen_range(0..3) {
            let t = time(rng);
            purchase::ActiveModel {
                org_id: Set(org_id),
                contact_id: Set(id),
                ordered_at: Set(t),
                amount_cents: Set(1000),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
            data.purchases.push((id, t));
        }
        for _ in 0..rng.gen_range(0..3) {
            let (name, t) = (pick(rng, EVENTS).to_owned(), time(rng));
            contact_event::ActiveModel {
                org_id: Set(org_id),
                contact_id: Set(id),
                name: Set(name.clone()),
                occurred_at: Set(t),
                properties: Set(Default::default()),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
            data.events.push((id, name, t));
        }
        for _ in 0..rng.gen_range(0..3) {
            let opened = rng.gen_bool(0.5).then(|| time(rng).min(now()));
            let clicked = opened.filter(|_| rng.gen_bool(0.5));
            common::message_for(db, org_id, campaign, Some(id), opened, clicked).await;
            data.messages.push((id, opened, clicked));
        }
    }
    // History whose contact was deleted: must not confuse NOT IN.
    common::message_for(db, org_id, campaign, None, Some(now()), Some(now())).await;
    World {
        data,
        org_id,
        groups,
        manager: (manager, assigned),
    }
}

fn window(rng: &mut StdRng) -> Window {
    let unit = [Unit::Days, Unit::Weeks, Unit::Months][rng.gen_range(0..3)];
    let amount = match unit {
        Unit::Days => rng.gen_range(0..60),
        Unit::Weeks => rng.gen_range(0..60),
        Unit::Months => rng.gen_range(0..15),
    };
    if rng.gen_bool(0.5) {
        Window::Last { amount, unit }
    } else {
        Window::Next { amount, unit }
    }
}

fn maybe<T>(rng: &mut StdRng, f: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    if rng.gen_bool(0.5) {
        Some(f(rng))
    } else {
        None
    }
}

fn leaf(rng: &mut StdRng, groups: &[i64]) -> Filter {
    match rng.gen_range(0..15) {
        0 => Filter::ActiveContact,
        1 => Filter::Language {
            code: pick(rng, &["en", "fr", "de", "es"]).into(),
        },
        2 => Filter::Created {
            within: window(rng),
        },
        3 => Filter::InGroup {
            group_id: if rng.gen_bool(0.9) {
                groups[rng.gen_range(0..groups.len())]
            } else {
                -1
            },
        },
        4 => Filter::Credential {
            collection: maybe(rng, |r| pick(r, COLLECTIONS).to_owned()),
            date: maybe(rng, |r| {
                (
                    [
                        CredentialDate::Published,
                        CredentialDate::Renewed,
                        CredentialDate::Expires,
                    ][r.gen_range(0..3)],
                    window(r),
                )
            }),
        },
        5 => Filter::Enrollment(EnrollmentFilter {
            state: maybe(rng, |r| {
                [
                    EnrollmentState::Ongoing,
                    EnrollmentState::Upcoming,
                    EnrollmentState::Current,
                    EnrollmentState::Ended,
                ][r.gen_range(0..4)]
            }),
            online: maybe(rng, |r| r.gen_bool(0.5)),
            exclude_remote: rng.gen_bool(0.3),
            trainer: maybe(rng, |r| pick(r, TRAINERS).to_owned()),
            category: maybe(rng, |r| pick(r, CATEGORIES).to_owned()),
        }),
        6 => Filter::Booking {
            within: window(rng),
        },
        7 => Filter::ValidPass,
        8 => Filter::ActiveSubscription,
        9 => Filter::Ordered {
            within: window(rng),
        },
        10 => Filter::Event {
            name: pick(rng, EVENTS).into(),
            within: maybe(rng, window),
        },
        11 => Filter::Engagement {
            activity: [
                Engagement::Opened,
                Engagement::Clicked,
                Engagement::NeverEngaged,
            ][rng.gen_range(0..3)],
            within: window(rng),
        },
        12 => Filter::Consent {
            message_type: [
                MessageType::Operational,
                MessageType::Marketing,
                MessageType::Newsletter,
            ][rng.gen_range(0..3)],
        },
        // A hand-picked selection; ids run over both organisations (the noise one's must
        // never be selected) and past the last contact.
        13 => Filter::Contacts {
            ids: (0..rng.gen_range(0..8))
                .map(|_| rng.gen_range(1..100))
                .collect(),
        },
        _ => Filter::Any { of: vec![] },
    }
}

fn tree(rng: &mut StdRng, groups: &[i64], depth: u32) -> Filter {
    if depth == 0 || rng.gen_bool(0.35) {
        return leaf(rng, groups);
    }
    match rng.gen_range(0..3) {
        0 => Filter::All {
            of: (0..rng.gen_range(0..4))
                .map(|_| tree(rng, groups, depth - 1))
                .collect(),
        },
        1 => Filter::Any {
            of: (0..rng.gen_range(0..4))
                .map(|_| tree(rng, groups, depth - 1))
                .collect(),
        },
        _ => Filter::Not {
            not: Box::new(tree(rng, groups, depth - 1)),
        },
    }
}

const CASES: usize = 1000;

#[tokio::test]
async fn database_and_evaluator_agree_on_random_audiences() {
    let app = spawn_app().await;
    let db = &app.herald.db;
    let seed: u64 = std::env::var("HERALD_AUDIENCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261123);
    let mut rng = StdRng::seed_from_u64(seed);
    let (org, manager) = org_with_user(db, "target").await;
    let (other_org, other_manager) = org_with_user(db, "noise").await;
    let world = populate(db, &mut rng, org, manager, 60).await;
    populate(db, &mut rng, other_org, other_manager, 20).await;
    assert_eq!(world.org_id, org);

    let mut non_trivial = 0;
    for case in 0..CASES {
        let filter = tree(&mut rng, &world.groups, 3);
        let expected = world.data.select(&filter, now());
        let scope = Actor::system(org);
        let got: BTreeSet<i64> = audience::contact_ids(db, &scope, &filter, now())
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(
            got,
            expected,
            "case {case} (seed {seed}, {}): {}",
            app.backend,
            serde_json::to_string(&filter).unwrap()
        );
        assert_eq!(
            audience::count(db, &scope, &filter, now()).await.unwrap() as usize,
            expected.len()
        );
        if !expected.is_empty() && expected.len() < world.data.contacts.len() {
            non_trivial += 1;
        }
        // An account manager reaches only their assigned contacts, whatever the filter.
        let (manager, assigned) = &world.manager;
        let scoped = common::account_manager(org, *manager);
        let got: BTreeSet<i64> = audience::contact_ids(db, &scoped, &filter, now())
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(
            got,
            expected.intersection(assigned).copied().collect(),
            "case {case}, account manager"
        );
    }
    assert!(
        non_trivial > CASES / 3,
        "the generator should mostly produce selective audiences, got {non_trivial}/{CASES}"
    );
    println!(
        "{}: {CASES} random audiences agree (seed {seed})",
        app.backend
    );
}
