//! Templates and the campaign builder's storage on the real database: checked and versioned
//! templates, drafts saved in any order, duplicate warnings counted by the audience engine,
//! activation with its checks and approvals, deactivation.

use crate::common;

use common::spawn_app;
use herald_core::auth::accounts;
use herald_core::campaigns::builder;
use herald_core::domain::access::Actor;
use herald_core::domain::audience::{Filter, Unit};
use herald_core::domain::campaign::{Draft, Settings};
use herald_core::domain::duplicates::Severity;
use herald_core::domain::template::{Content, Issue, Part, TemplateInput};
use herald_core::domain::trigger::{RecordDate, Relation, Trigger};
use herald_core::domain::{CampaignKind, CampaignStatus, CurrentUser, MessageType, Role};
use herald_core::entity::{contact_group, contact_group_member, template, template_version};
use herald_core::{Error, templates};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

pub(crate) async fn user(db: &DatabaseConnection, slug: &str, role: Role) -> Actor {
    let org = accounts::ensure_org(db, slug, slug).await.unwrap();
    let email = format!("{}@{slug}.test", role.as_str());
    let u = accounts::create_user(
        db,
        org.id,
        accounts::NewUser {
            email: &email,
            name: "",
            role,
            password: common::PASSWORD,
        },
    )
    .await
    .unwrap();
    Actor::User(CurrentUser {
        user_id: u.id,
        org_id: org.id,
        org_slug: slug.into(),
        org_name: slug.into(),
        email,
        name: String::new(),
        role,
    })
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub(crate) fn input(name: &str, html: &str) -> TemplateInput {
    TemplateInput {
        name: name.into(),
        kind: "renewal".into(),
        description: String::new(),
        language: "en".into(),
        content: Content {
            subject: "Your {{ record.name }} expires {{ record.expires_at|date }}".into(),
            preheader: String::new(),
            html: html.into(),
            text: "Hello {{ contact.first_name }}".into(),
        },
        variants: Default::default(),
    }
}

#[tokio::test]
async fn templates_are_checked_and_versioned() {
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;

    // A syntax error refuses the save and says where.
    let err = templates::save(db, &admin, None, &input("Broken", "<p>\n{% if x %}"))
        .await
        .unwrap_err();
    let Error::Invalid(msg) = err else {
        panic!("{err:?}")
    };
    assert!(msg.contains("HTML body, line 2, column"), "{msg}");
    assert_eq!(template::Entity::find().count(db).await.unwrap(), 0);

    // Unknown tags save, with warnings.
    let saved = templates::save(
        db,
        &admin,
        None,
        &input("Renewal", "<p>Hi {{ contact.first_name }} {{ coupon }}</p>"),
    )
    .await
    .unwrap();
    assert_eq!(saved.version, 1);
    assert_eq!(
        saved.warnings,
        vec![Issue::UnknownTag {
            part: Part::Html,
            tag: "coupon".into()
        }]
    );

    // A content change makes version 2; a rename alone does not.
    let mut edited = input("Renewal", "<p>Hi {{ contact.first_name }}</p>");
    let v2 = templates::save(db, &admin, Some(saved.id), &edited)
        .await
        .unwrap();
    assert_eq!((v2.version, v2.warnings.len()), (2, 0));
    edited.name = "Renewal notice".into();
    let same = templates::save(db, &admin, Some(saved.id), &edited)
        .await
        .unwrap();
    assert_eq!(same.version, 2);
    let versions = template_version::Entity::find()
        .filter(template_version::Column::TemplateId.eq(saved.id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(versions, 2);

    // The first version's content is still there for campaigns that send it.
    let first = template_version::Entity::find()
        .filter(template_version::Column::Number.eq(1))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let old = templates::version_content(db, &admin, first.id, "en")
        .await
        .unwrap();
    assert!(old.html.contains("coupon"));

    // Other organisations see nothing of it.
    let other = user(db, "globex", Role::Admin).await;
    assert!(matches!(
        templates::get(db, &other, saved.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        templates::save(db, &other, Some(saved.id), &edited).await,
        Err(Error::NotFound(_))
    ));
    assert!(templates::list(db, &other, false).await.unwrap().is_empty());
}

#[tokio::test]
async fn system_templates_are_listed_but_never_pickable() {
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;
    let system = template::ActiveModel {
        org_id: Set(admin.org_id()),
        name: Set("Password reset".into()),
        kind: Set("system".into()),
        subject: Set("Reset".into()),
        preheader: Set(String::new()),
        html_body: Set("<p>Reset</p>".into()),
        text_body: Set("Reset".into()),
        is_system: Set(true),
        created_at: Set(now()),
        updated_at: Set(now()),
        description: Set(String::new()),
        language: Set("en".into()),
        variants: Set(Default::default()),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let all = templates::list(db, &admin, false).await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(templates::list(db, &admin, true).await.unwrap().is_empty());
    let draft = Draft {
        template_id: Some(system.id),
        ..Draft::default()
    };
    let err = builder::save(db, &admin, None, &draft, now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert!(matches!(
        templates::save(db, &admin, Some(system.id), &input("X", "<p>x</p>")).await,
        Err(Error::Forbidden(_))
    ));
}

fn expiry(days: u32) -> Option<Trigger> {
    Some(Trigger::Relative {
        date: RecordDate::CredentialExpires,
        relation: Relation::Before,
        amount: days,
        unit: Unit::Days,
    })
}

fn complete(name: &str, template: i64, audience: Filter) -> Draft {
    Draft {
        name: name.into(),
        kind: CampaignKind::EventTriggered,
        message_type: MessageType::Marketing,
        audience,
        trigger: expiry(30),
        template_id: Some(template),
        settings: Settings {
            from_email: "news@acme.example".into(),
            ..Settings::default()
        },
        ..Draft::default()
    }
}

pub(crate) async fn group(db: &DatabaseConnection, org: i64, name: &str, members: &[i64]) -> i64 {
    let g = contact_group::ActiveModel {
        org_id: Set(org),
        name: Set(name.into()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    for &c in members {
        contact_group_member::ActiveModel {
            group_id: Set(g.id),
            contact_id: Set(c),
        }
        .insert(db)
        .await
        .unwrap();
    }
    g.id
}

#[tokio::test]
async fn builder_saves_in_any_order_warns_of_duplicates_and_activates() {
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;
    let org = admin.org_id();
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(
            app.contact("acme", &format!("p{i}@example.org"), None)
                .await,
        );
    }
    let early = group(db, org, "Early", &ids[..6]).await;
    let late = group(db, org, "Late", &ids[4..]).await;
    let t = templates::save(db, &admin, None, &input("Renewal", "<p>Hi</p>"))
        .await
        .unwrap()
        .id;

    // An active campaign to the early group.
    let running = builder::save(
        db,
        &admin,
        None,
        &complete("Running", t, Filter::InGroup { group_id: early }),
        now(),
    )
    .await
    .unwrap()
    .id;
    builder::activate(db, &admin, running, now()).await.unwrap();

    // A new draft, template first: no trigger, no audience yet → a duplicate already (everyone
    // overlaps, timing unknown).
    let mut draft = Draft {
        template_id: Some(t),
        ..Draft::default()
    };
    let id = builder::save(db, &admin, None, &draft, now())
        .await
        .unwrap()
        .id;
    let found = builder::conflicts(db, &admin, Some(id), &draft, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].other_id, found[0].overlap), (running, 6));
    assert_eq!(found[0].severity, Severity::Duplicate);

    // Then the trigger, 2 days off: still a duplicate. Then the audience: 2 people overlap.
    draft.trigger = expiry(28);
    draft.audience = Filter::InGroup { group_id: late };
    let found = builder::conflicts(db, &admin, Some(id), &draft, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (found[0].overlap, found[0].severity),
        (2, Severity::Duplicate)
    );
    // Far apart in time: only a possible duplicate.
    draft.trigger = expiry(90);
    let found = builder::conflicts(db, &admin, Some(id), &draft, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(found[0].severity, Severity::PossibleDuplicate);

    // Incomplete: activation answers what is missing, in words, and changes nothing.
    builder::save(db, &admin, Some(id), &draft, now())
        .await
        .unwrap();
    let err = builder::activate(db, &admin, id, now()).await.unwrap_err();
    let Error::Invalid(msg) = err else {
        panic!("{err:?}")
    };
    assert!(msg.contains("Give the campaign a name."), "{msg}");
    assert!(msg.contains("Set the sender's email address."), "{msg}");
    assert_eq!(
        builder::load(db, &admin, id).await.unwrap().status,
        CampaignStatus::Draft
    );

    // Completed, it activates once; the template version is fixed; deactivation stops it.
    draft.name = "Second reminder".into();
    draft.kind = CampaignKind::EventTriggered;
    draft.settings.from_email = "news@acme.example".into();
    builder::save(db, &admin, Some(id), &draft, now())
        .await
        .unwrap();
    builder::activate(db, &admin, id, now()).await.unwrap();
    assert!(builder::activate(db, &admin, id, now()).await.is_err());
    let loaded = builder::load(db, &admin, id).await.unwrap();
    assert_eq!(
        (loaded.draft, loaded.status),
        (draft.clone(), CampaignStatus::Active)
    );
    builder::deactivate(db, &admin, id, now()).await.unwrap();
    assert_eq!(
        builder::load(db, &admin, id).await.unwrap().status,
        CampaignStatus::Inactive
    );
    assert!(builder::deactivate(db, &admin, id, now()).await.is_err());

    // Another organisation can neither see nor change it.
    let other = user(db, "globex", Role::Admin).await;
    assert!(matches!(
        builder::load(db, &other, id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        builder::activate(db, &other, id, now()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        builder::deactivate(db, &other, id, now()).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn approval_is_required_when_the_organisation_asks_for_it() {
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;
    let marketer = user(db, "acme", Role::Marketer).await;
    let member = user(db, "acme", Role::Member).await;
    let t = templates::save(db, &admin, None, &input("Renewal", "<p>Hi</p>"))
        .await
        .unwrap()
        .id;
    builder::set_require_approval(db, &admin, true)
        .await
        .unwrap();
    assert!(matches!(
        builder::set_require_approval(db, &marketer, false).await,
        Err(Error::Forbidden(_))
    ));
    let id = builder::save(
        db,
        &marketer,
        None,
        &complete("Promo", t, Filter::everyone()),
        now(),
    )
    .await
    .unwrap()
    .id;
    let err = builder::activate(db, &marketer, id, now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("An admin must approve"), "{err}");
    assert!(matches!(
        builder::approve(db, &marketer, id, now()).await,
        Err(Error::Forbidden(_))
    ));
    builder::approve(db, &admin, id, now()).await.unwrap();
    // A marketer's edit after approval needs a new approval.
    builder::save(
        db,
        &marketer,
        Some(id),
        &complete("Promo!", t, Filter::everyone()),
        now(),
    )
    .await
    .unwrap();
    assert!(builder::activate(db, &marketer, id, now()).await.is_err());
    builder::approve(db, &admin, id, now()).await.unwrap();
    assert!(matches!(
        builder::activate(db, &member, id, now()).await,
        Err(Error::Forbidden(_))
    ));
    builder::activate(db, &marketer, id, now()).await.unwrap();
}

#[tokio::test]
async fn the_campaign_list_filters_by_goal_type_and_channel() {
    use herald_core::campaigns::{CampaignFilter, list};
    use herald_core::domain::Channel;
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;
    let specs = [
        (
            "Renewal",
            "Renewals",
            CampaignKind::EventTriggered,
            Channel::Email,
        ),
        (
            "Digest",
            "Engagement",
            CampaignKind::Recurring,
            Channel::Email,
        ),
        (
            "Text reminder",
            "Renewals",
            CampaignKind::EventTriggered,
            Channel::Sms,
        ),
    ];
    for (name, goal, kind, channel) in specs {
        let d = Draft {
            name: name.into(),
            goal: goal.into(),
            kind,
            channel,
            ..Draft::default()
        };
        builder::save(db, &admin, None, &d, now()).await.unwrap();
    }
    let admin = &admin;
    let names = |filter: CampaignFilter| async move {
        let mut n: Vec<String> = list(db, admin, filter)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.name.unwrap())
            .collect();
        n.sort();
        n
    };
    let cases: Vec<(CampaignFilter, Vec<&str>)> = vec![
        (
            CampaignFilter::default(),
            vec!["Digest", "Renewal", "Text reminder"],
        ),
        (
            CampaignFilter {
                goal: Some("Renewals".into()),
                ..Default::default()
            },
            vec!["Renewal", "Text reminder"],
        ),
        (
            CampaignFilter {
                kind: Some(CampaignKind::Recurring),
                ..Default::default()
            },
            vec!["Digest"],
        ),
        (
            CampaignFilter {
                goal: Some("Renewals".into()),
                channel: Some(Channel::Sms),
                ..Default::default()
            },
            vec!["Text reminder"],
        ),
        (
            CampaignFilter {
                status: Some(CampaignStatus::Active),
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(filter.clone()).await, expected, "{filter:?}");
    }
}

#[tokio::test]
async fn previews_render_a_real_contact_and_report_errors() {
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;
    let id = app.contact("acme", "ana@example.org", None).await;
    let contact = herald_core::contacts::find(db, &admin, id).await.unwrap();
    let ctx = templates::preview_context(Some(&contact), "Acme", Some("credential"));
    let content = Content {
        subject: "Hi {{ contact.first_name }} from {{ organisation.name }}".into(),
        preheader: String::new(),
        html: "<p>{{ contact.email }} · {{ record.expires_at|date }}</p>".into(),
        text: "{{ unsubscribe_url }}".into(),
    };
    let r = templates::preview(&content, &ctx).unwrap();
    assert_eq!(r.subject, "Hi Test from Acme");
    assert!(r.html.starts_with("<p>ana@example.org · "), "{}", r.html);
    assert!(r.text.starts_with("https://"), "{}", r.text);
    let bad = Content {
        text: "{{ contact.nickname }}".into(),
        ..content
    };
    let err = templates::preview(&bad, &ctx).unwrap_err();
    assert_eq!(err.part, Part::Text);
    // Another organisation's contact cannot be previewed.
    let other = user(db, "globex", Role::Admin).await;
    assert!(herald_core::contacts::find(db, &other, id).await.is_err());
}

/// Changes to an active campaign wait, as a pending revision, until they pass the activation
/// checks and (where required) an admin's approval; the campaign keeps running as it was.
/// Before: a marketer could remove the template of a running campaign and it kept running.
#[tokio::test]
async fn changes_to_an_active_campaign_wait_until_they_are_ready() {
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;
    let marketer = user(db, "acme", Role::Marketer).await;
    let t = templates::save(db, &admin, None, &input("Renewal", "<p>Hi</p>"))
        .await
        .unwrap()
        .id;
    let running = complete("Running", t, Filter::everyone());
    let id = builder::save(db, &admin, None, &running, now())
        .await
        .unwrap()
        .id;
    builder::activate(db, &admin, id, now()).await.unwrap();
    let version = |db| async move {
        herald_core::entity::campaign::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };

    // The marketer removes the template: saved, not live.
    let broken = Draft {
        template_id: None,
        ..running.clone()
    };
    let saved = builder::save(db, &marketer, Some(id), &broken, now())
        .await
        .unwrap();
    assert!(saved.pending);
    assert!(
        saved
            .waiting_for
            .contains(&"Choose the template to send.".to_string()),
        "{:?}",
        saved.waiting_for
    );
    let live = version(db).await;
    assert_eq!(
        (live.status, live.template_id),
        (CampaignStatus::Active, Some(t))
    );
    // The builder opens what was saved, marked pending.
    let loaded = builder::load(db, &marketer, id).await.unwrap();
    assert!(loaded.pending);
    assert_eq!(loaded.draft.template_id, None);

    // A complete change goes live at once when no approval is needed.
    let renamed = Draft {
        name: "Running, renamed".into(),
        ..running.clone()
    };
    let saved = builder::save(db, &marketer, Some(id), &renamed, now())
        .await
        .unwrap();
    assert!(!saved.pending, "{:?}", saved.waiting_for);
    let live = version(db).await;
    assert_eq!(live.name.as_deref(), Some("Running, renamed"));
    assert!(live.pending.is_none());

    // With approvals required, a marketer's change waits for an admin, who makes it live.
    builder::set_require_approval(db, &admin, true)
        .await
        .unwrap();
    let wider = Draft {
        name: "Running, for everyone".into(),
        ..running.clone()
    };
    let saved = builder::save(db, &marketer, Some(id), &wider, now())
        .await
        .unwrap();
    assert!(saved.pending);
    assert!(
        saved
            .waiting_for
            .iter()
            .any(|w| w.contains("An admin must approve these changes")),
        "{:?}",
        saved.waiting_for
    );
    assert_eq!(version(db).await.name.as_deref(), Some("Running, renamed"));
    builder::approve(db, &admin, id, now()).await.unwrap();
    let live = version(db).await;
    assert_eq!(live.name.as_deref(), Some("Running, for everyone"));
    assert!(live.pending.is_none());
    assert_eq!(live.status, CampaignStatus::Active);

    // Pending changes can be dropped; the campaign runs on as it is.
    builder::save(db, &marketer, Some(id), &broken, now())
        .await
        .unwrap();
    builder::discard_pending(db, &marketer, id).await.unwrap();
    let live = version(db).await;
    assert!(live.pending.is_none());
    assert_eq!(live.template_id, Some(t));
    assert!(!builder::load(db, &marketer, id).await.unwrap().pending);
}

/// A campaign may only name its own organisation's groups, segments, lists and templates.
/// Before: only its split templates were checked.
#[tokio::test]
async fn a_campaign_cannot_name_another_organisations_things() {
    use herald_core::contacts::lists;
    use herald_core::domain::ListKind;
    use herald_core::domain::campaign::Split;
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;
    let other = user(db, "globex", Role::Admin).await;
    let t = templates::save(db, &admin, None, &input("Mine", "<p>Hi</p>"))
        .await
        .unwrap()
        .id;
    let theirs = templates::save(db, &other, None, &input("Theirs", "<p>Hi</p>"))
        .await
        .unwrap()
        .id;
    let their_group = group(db, other.org_id(), "Globex VIPs", &[]).await;
    let their_segment = herald_core::audience::segments::create(
        db,
        &other,
        "Globex segment",
        &Filter::everyone(),
        now(),
    )
    .await
    .unwrap()
    .id;
    let their_seed = lists::create(db, &other, ListKind::Seed, "Globex seeds")
        .await
        .unwrap()
        .id;
    let their_suppression = lists::create(db, &other, ListKind::Suppression, "Globex no")
        .await
        .unwrap()
        .id;
    let my_suppression = lists::create(db, &admin, ListKind::Suppression, "Acme no")
        .await
        .unwrap()
        .id;
    let base = complete("Promo", t, Filter::everyone());
    let cases: Vec<(&str, Draft)> = vec![
        (
            "their group in the audience",
            Draft {
                audience: Filter::Not {
                    not: Box::new(Filter::InGroup {
                        group_id: their_group,
                    }),
                },
                ..base.clone()
            },
        ),
        (
            "their segment in the trigger",
            Draft {
                kind: CampaignKind::EventTriggered,
                trigger: Some(Trigger::SegmentEntered {
                    segment_id: their_segment,
                }),
                ..base.clone()
            },
        ),
        (
            "their template",
            Draft {
                template_id: Some(theirs),
                ..base.clone()
            },
        ),
        ("their seed list", {
            let mut d = base.clone();
            d.settings.seed_list_id = Some(their_seed);
            d
        }),
        ("their suppression list", {
            let mut d = base.clone();
            d.settings.suppression_list_ids = vec![my_suppression, their_suppression];
            d
        }),
        ("a suppression list as the seed list", {
            let mut d = base.clone();
            d.settings.seed_list_id = Some(my_suppression);
            d
        }),
        ("their segment in a split", {
            let mut d = base.clone();
            d.settings.splits = vec![Split {
                segment_id: their_segment,
                template_id: t,
            }];
            d
        }),
    ];
    for (what, draft) in cases {
        let err = builder::save(db, &admin, None, &draft, now()).await;
        assert!(
            matches!(&err, Err(Error::Invalid(m)) if m.contains("does not exist or belongs to another organisation")),
            "{what}: {err:?}"
        );
    }
    // Their group in a segment of ours is refused too.
    assert!(matches!(
        herald_core::audience::segments::create(
            db,
            &admin,
            "Stolen",
            &Filter::InGroup {
                group_id: their_group
            },
            now()
        )
        .await,
        Err(Error::Invalid(_))
    ));
    // Our own things are fine.
    let mut ours = base.clone();
    ours.settings.suppression_list_ids = vec![my_suppression];
    builder::save(db, &admin, None, &ours, now()).await.unwrap();
}

/// Activation checks a revision of the campaign and changes only that revision: an edit that
/// lands between the checks and the update makes it fail instead of activating what nobody
/// checked. Before: the update did not look at what had changed meanwhile.
#[tokio::test]
async fn activation_refuses_a_campaign_changed_since_it_was_checked() {
    let app = spawn_app().await;
    let db = &app.herald.db;
    let admin = user(db, "acme", Role::Admin).await;
    let t = templates::save(db, &admin, None, &input("Renewal", "<p>Hi</p>"))
        .await
        .unwrap()
        .id;
    let draft = complete("Promo", t, Filter::everyone());
    let id = builder::save(db, &admin, None, &draft, now())
        .await
        .unwrap()
        .id;
    // Activation loads the campaign (and checks it)...
    let checked = herald_core::entity::campaign::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    // ...meanwhile someone removes its template...
    builder::save(
        db,
        &admin,
        Some(id),
        &Draft {
            template_id: None,
            ..draft.clone()
        },
        now(),
    )
    .await
    .unwrap();
    // ...and the activation of what was checked is refused.
    let err = builder::activate_checked(db, &admin, checked, now())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("changed this campaign a moment ago"),
        "{err}"
    );
    let loaded = builder::load(db, &admin, id).await.unwrap();
    assert_eq!(loaded.status, CampaignStatus::Draft);
}
