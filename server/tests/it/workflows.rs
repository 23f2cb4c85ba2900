//! Workflows on the real database, with the injectable clock: a welcome series branches on
//! whether its first message was opened (through the real pixel); keyed event entries run side
//! by side and a goal ends one; the entry frequency holds per contact; publishing a new version
//! moves or exits the people at removed steps; quiet periods defer a send step; contact updates,
//! to-dos, waits for events and random splits do what they say; the numbers come from the
//! counters and match the runs and the log.

use crate::delivery::{World, drain, everything, world};
use crate::tracking::{CHROME, client, html_of, local, urls};
use chrono::{DateTime, Duration, Utc};
use herald_core::campaigns::builder;
use herald_core::domain::audience::Filter;
use herald_core::domain::campaign::{Draft, Frequency, QuietPeriod, Settings};
use herald_core::domain::ingest::EventInput;
use herald_core::domain::template::{Content, TemplateInput};
use herald_core::domain::trigger::Trigger;
use herald_core::domain::workflow::{
    Assignee, Condition, ContactChange, Path, Removal, Share, Span, SpanUnit, Step, StepKind,
    Workflow,
};
use herald_core::domain::{
    CampaignKind, Channel, DeliveryState, ExitReason, MessageType, RunStatus,
};
use herald_core::entity::{
    action, contact, contact_group, contact_group_member, mailbox_message, message, workflow_log,
    workflow_run,
};
use herald_core::workflows::{manage, report};
use herald_core::{ingest, templates};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeMap;

fn step(id: &str, kind: StepKind) -> Step {
    Step {
        id: id.into(),
        kind,
    }
}

fn n(s: &str) -> Option<String> {
    Some(s.into())
}

fn days(amount: u32) -> Span {
    Span {
        amount,
        unit: SpanUnit::Days,
    }
}

/// A marketing template whose subject is `subject` (and whose HTML has a link and the pixel).
async fn template(w: &World, subject: &str) -> i64 {
    templates::save(
        &w.h.db,
        &w.admin,
        None,
        &TemplateInput {
            name: subject.into(),
            kind: "marketing".into(),
            description: String::new(),
            language: "en".into(),
            content: Content {
                subject: subject.into(),
                preheader: String::new(),
                html: "<html><body><p>Hello {{ contact.first_name }}</p>\
                       <a href=\"https://shop.example/\">Shop</a></body></html>"
                    .into(),
                text: "Hello {{ contact.first_name }}".into(),
            },
            variants: Default::default(),
        },
    )
    .await
    .unwrap()
    .id
}

fn send(id: &str, template_id: i64, next: Option<String>) -> Step {
    step(
        id,
        StepKind::Send {
            channel: Channel::Email,
            template_id,
            next,
        },
    )
}

/// A workflow campaign to everyone with `trigger`, saved and activated (which publishes its
/// first version).
async fn start(w: &World, trigger: Trigger, wf: Workflow, adjust: impl FnOnce(&mut Draft)) -> i64 {
    let mut draft = Draft {
        name: "Series".into(),
        kind: match trigger {
            Trigger::Immediately | Trigger::At { .. } => CampaignKind::OneTime,
            _ => CampaignKind::EventTriggered,
        },
        message_type: MessageType::Marketing,
        audience: Filter::everyone(),
        trigger: Some(trigger),
        template_id: None,
        settings: Settings {
            from_name: "Acme".into(),
            from_email: "news@acme.example".into(),
            ..Settings::default()
        },
        ..Draft::default()
    };
    adjust(&mut draft);
    let id = builder::save(&w.h.db, &w.admin, None, &draft, w.h.now())
        .await
        .unwrap()
        .id;
    let problems = manage::save(&w.h.db, &w.admin, id, wf, w.h.now())
        .await
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    builder::activate(&w.h.db, &w.admin, id, w.h.now())
        .await
        .unwrap();
    id
}

async fn runs(w: &World, campaign: i64) -> Vec<workflow_run::Model> {
    workflow_run::Entity::find()
        .filter(workflow_run::Column::CampaignId.eq(campaign))
        .order_by_asc(workflow_run::Column::Id)
        .all(&w.h.db)
        .await
        .unwrap()
}

/// Each contact's runs as (name, status, step, exit reason), by name.
async fn where_are(
    w: &World,
    campaign: i64,
) -> Vec<(String, RunStatus, String, Option<ExitReason>)> {
    let mut out: Vec<_> = runs(w, campaign)
        .await
        .into_iter()
        .map(|r| {
            let name = w
                .people
                .iter()
                .find(|(_, id)| **id == r.contact_id)
                .map_or("?", |(n, _)| *n);
            (name.to_string(), r.status, r.step_id, r.exit_reason)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The subjects each contact received in the development mailbox, by name.
async fn inbox(w: &World) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in mailbox_message::Entity::find()
        .order_by_asc(mailbox_message::Column::Id)
        .all(&w.h.db)
        .await
        .unwrap()
    {
        let who = m.recipient.split('@').next().unwrap_or_default().to_owned();
        out.entry(who).or_default().push(m.subject);
    }
    out
}

/// Every run is where its log says it is: its last arrival row names its step, and a run that
/// ended has its end logged once; no run has two messages at one position.
async fn consistent(w: &World, campaign: i64) {
    for r in runs(w, campaign).await {
        let log = workflow_log::Entity::find()
            .filter(workflow_log::Column::RunId.eq(r.id))
            .order_by_asc(workflow_log::Column::Seq)
            .order_by_asc(workflow_log::Column::Id)
            .all(&w.h.db)
            .await
            .unwrap();
        let last_arrival = log.iter().rfind(|l| l.status == RunStatus::Active).unwrap();
        assert_eq!(
            (last_arrival.seq, last_arrival.step_id.as_str()),
            (r.seq, r.step_id.as_str()),
            "run {} is where its log says",
            r.id
        );
        let ends = log.iter().filter(|l| l.status != RunStatus::Active).count();
        assert_eq!(
            ends,
            usize::from(r.status != RunStatus::Active),
            "run {}",
            r.id
        );
        let msgs = message::Entity::find()
            .filter(message::Column::RunId.eq(r.id))
            .all(&w.h.db)
            .await
            .unwrap();
        let mut seqs: Vec<i32> = msgs.iter().filter_map(|m| m.run_seq).collect();
        seqs.dedup();
        assert_eq!(
            seqs.len(),
            msgs.len(),
            "one message per position of run {}",
            r.id
        );
    }
}

async fn open_pixel(w: &World, who: &str) {
    let html = html_of(w, who).await;
    let pixel = urls(&html, &w.h.settings.public_url, "o");
    assert_eq!(pixel.len(), 1, "{html}");
    let r = client()
        .get(local(&w.app, &pixel[0]))
        .header("user-agent", CHROME)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    // The recorder writes in batches: wait for the open to reach the message.
    for _ in 0..100 {
        let opened = message::Entity::find()
            .filter(message::Column::Recipient.eq(format!("{who}@example.org")))
            .filter(message::Column::FirstOpenedAt.is_not_null())
            .one(&w.h.db)
            .await
            .unwrap();
        if opened.is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{who}'s open was not recorded");
}

fn reason_counts(
    v: &[herald_core::domain::workflow::report::ExitCount],
) -> BTreeMap<&'static str, i64> {
    v.iter().map(|e| (e.reason.as_str(), e.n)).collect()
}

#[tokio::test]
async fn a_welcome_series_branches_on_the_open_and_counts_every_step() {
    let w = world().await;
    let welcome = template(&w, "Welcome").await;
    let follow = template(&w, "Glad you liked it").await;
    let reminder = template(&w, "Did you see this?").await;
    let wf = Workflow {
        entry: "welcome".into(),
        steps: vec![
            send("welcome", welcome, n("wait")),
            step(
                "wait",
                StepKind::Wait {
                    span: days(3),
                    next: n("opened?"),
                },
            ),
            step(
                "opened?",
                StepKind::Branch {
                    paths: vec![Path {
                        condition: Condition::Opened {
                            step: "welcome".into(),
                        },
                        next: n("follow-up"),
                    }],
                    otherwise: n("reminder"),
                },
            ),
            send("follow-up", follow, None),
            send("reminder", reminder, None),
        ],
        ..Workflow::default()
    };
    let id = start(&w, Trigger::Immediately, wf, |_| {}).await;
    drain(&w.h, &w.clock, everything).await;

    // bob is suppressed, dee inactive, cy unsubscribed: they leave at once, with the reason.
    // eve has no address: her message is skipped, and she goes on waiting like the others.
    let at = |name: &str, status, step: &str, reason| {
        (name.to_string(), status, step.to_string(), reason)
    };
    use RunStatus::{Active, Completed, Exited};
    assert_eq!(
        where_are(&w, id).await,
        vec![
            at("ada", Active, "wait", None),
            at("bob", Exited, "welcome", Some(ExitReason::Unreachable)),
            at("cy", Exited, "welcome", Some(ExitReason::Unsubscribed)),
            at("dee", Exited, "welcome", Some(ExitReason::Unreachable)),
            at("eve", Active, "wait", None),
            at("fay", Active, "wait", None),
        ]
    );
    let mail = inbox(&w).await;
    assert_eq!(mail["ada"], ["Welcome"]);
    assert_eq!(mail["fay"], ["Welcome"]);
    assert_eq!(mail.len(), 2, "{mail:?}");

    let r = report::report(&w.h.db, &w.admin, id, None).await.unwrap();
    assert_eq!((r.whole.entered, r.whole.in_progress), (6, 3));
    assert_eq!(
        reason_counts(&r.whole.exited),
        [("unreachable", 2), ("unsubscribed", 1)].into()
    );
    let s = &r.steps[0];
    assert_eq!(s.words, "Send the email “Welcome”");
    assert_eq!((s.entered, s.here, s.proceeded), (6, 0, 3));
    let m = s.messages.unwrap();
    assert_eq!((m.recipients, m.sent, m.skipped), (3, 2, 1));
    assert_eq!((r.steps[1].entered, r.steps[1].here), (3, 3));
    let (total, waiting) = report::runs_at(&w.h.db, &w.admin, id, "wait", 10)
        .await
        .unwrap();
    assert_eq!(total, 3);
    let mut names: Vec<String> = waiting
        .iter()
        .map(|r| r.email.clone().unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(names, ["", "ada@example.org", "fay@example.org"]);
    assert!(
        waiting
            .iter()
            .all(|r| r.wake_at == Some(r.arrived_at + Duration::days(3)))
    );

    // ada opens her welcome; three days later she gets the follow-up, the others a reminder.
    open_pixel(&w, "ada").await;
    w.clock.advance(Duration::days(3));
    drain(&w.h, &w.clock, everything).await;
    let mail = inbox(&w).await;
    assert_eq!(mail["ada"], ["Welcome", "Glad you liked it"]);
    assert_eq!(mail["fay"], ["Welcome", "Did you see this?"]);
    assert_eq!(
        where_are(&w, id).await[0],
        at("ada", Completed, "follow-up", None)
    );
    let r = report::report(&w.h.db, &w.admin, id, None).await.unwrap();
    assert_eq!((r.whole.completed, r.whole.in_progress), (3, 0));
    let branch = &r.steps[2];
    assert_eq!(branch.words, "If they opened “Welcome”");
    let paths: Vec<(&str, i64, String)> = branch
        .paths
        .iter()
        .map(|p| (p.label.as_str(), p.n, p.share.display()))
        .collect();
    assert_eq!(
        paths,
        [("Yes", 1, "33.3 %".into()), ("No", 2, "66.7 %".into())]
    );
    assert_eq!(r.steps[3].messages.unwrap().sent, 1);
    assert_eq!(r.steps[4].messages.unwrap().sent, 1);
    assert_eq!(
        r.steps[4].messages.unwrap().skipped,
        1,
        "eve has no address"
    );
    assert!(r.steps.iter().all(|s| s.here == 0));
    consistent(&w, id).await;

    // Advancing again (as a restarted worker would) sends nothing more.
    w.clock.advance(Duration::days(30));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(inbox(&w).await, mail);
    // The contact's timeline shows the run and where it ended.
    let timeline = report::of_contact(&w.h.db, &w.admin, w.people["ada"])
        .await
        .unwrap();
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].status, RunStatus::Completed);
    assert_eq!(timeline[0].step, "Send the email “Glad you liked it”");
    // And the contact page's timeline says so.
    let page = herald_core::contacts::detail(&w.h.db, &w.admin, w.people["ada"])
        .await
        .unwrap();
    let item = page.timeline.iter().find(|t| t.kind == "workflow").unwrap();
    assert_eq!(item.title, "Entered the workflow “Series”");
    assert_eq!(
        item.detail,
        "Completed at: Send the email “Glad you liked it”"
    );
    let bob = herald_core::contacts::detail(&w.h.db, &w.admin, w.people["bob"])
        .await
        .unwrap();
    let item = bob.timeline.iter().find(|t| t.kind == "workflow").unwrap();
    assert_eq!(
        item.detail,
        "Left at: Send the email “Welcome” · No longer reachable"
    );
}

fn event(email: &str, name: &str, ext: &str, props: &[(&str, &str)]) -> EventInput {
    EventInput {
        email: email.into(),
        name: name.into(),
        occurred_at: None,
        properties: props
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect(),
        external_id: Some(ext.into()),
    }
}

async fn events(w: &World, list: &[EventInput]) {
    ingest::add_events(&w.h.db, &w.admin, list, w.h.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn keyed_entries_run_side_by_side_and_the_goal_ends_only_its_own() {
    let w = world().await;
    let first = template(&w, "Your invoice is due").await;
    let last = template(&w, "Last reminder").await;
    let wf = Workflow {
        entry: "wait".into(),
        steps: vec![
            step(
                "wait",
                StepKind::Wait {
                    span: days(7),
                    next: n("remind"),
                },
            ),
            send("remind", first, n("again")),
            step(
                "again",
                StepKind::Wait {
                    span: days(7),
                    next: n("last"),
                },
            ),
            send("last", last, None),
        ],
        goal: Some("invoice_paid".into()),
        key: Some("invoice".into()),
        ..Workflow::default()
    };
    let id = start(
        &w,
        Trigger::Event {
            name: "invoice_created".into(),
        },
        wf,
        |d| d.settings.frequency = Frequency::EveryTime,
    )
    .await;
    events(
        &w,
        &[
            event(
                "ada@example.org",
                "invoice_created",
                "i1",
                &[("invoice", "A1")],
            ),
            event(
                "ada@example.org",
                "invoice_created",
                "i2",
                &[("invoice", "A2")],
            ),
            event(
                "fay@example.org",
                "invoice_created",
                "i3",
                &[("invoice", "F1")],
            ),
            // No key: it starts nothing.
            event("fay@example.org", "invoice_created", "i4", &[]),
        ],
    )
    .await;
    // A2 again (another event): one run per contact and key at a time.
    events(
        &w,
        &[event(
            "ada@example.org",
            "invoice_created",
            "i5",
            &[("invoice", "A2")],
        )],
    )
    .await;
    let keys = |rs: Vec<workflow_run::Model>| -> Vec<(String, RunStatus)> {
        rs.into_iter().map(|r| (r.run_key, r.status)).collect()
    };
    assert_eq!(
        keys(runs(&w, id).await),
        [
            ("A1".to_string(), RunStatus::Active),
            ("A2".to_string(), RunStatus::Active),
            ("F1".to_string(), RunStatus::Active)
        ]
    );
    // A1 is paid (fay's payment of an invoice of hers that has no run changes nothing).
    w.clock.advance(Duration::days(1));
    events(
        &w,
        &[
            event(
                "ada@example.org",
                "invoice_paid",
                "p1",
                &[("invoice", "A1")],
            ),
            event(
                "fay@example.org",
                "invoice_paid",
                "p2",
                &[("invoice", "F9")],
            ),
        ],
    )
    .await;
    let all = runs(&w, id).await;
    assert_eq!(all[0].status, RunStatus::Exited);
    assert_eq!(all[0].exit_reason, Some(ExitReason::Goal));
    assert_eq!(all[1].status, RunStatus::Active);
    assert_eq!(all[2].status, RunStatus::Active);

    w.clock.advance(Duration::days(7));
    drain(&w.h, &w.clock, everything).await;
    let mail = inbox(&w).await;
    assert_eq!(mail["ada"], ["Your invoice is due"], "only A2 reminds");
    assert_eq!(mail["fay"], ["Your invoice is due"]);
    w.clock.advance(Duration::days(7));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(
        inbox(&w).await["ada"],
        ["Your invoice is due", "Last reminder"]
    );

    let r = report::report(&w.h.db, &w.admin, id, None).await.unwrap();
    assert_eq!(r.whole.entered, 3);
    assert_eq!(r.whole.goal, 1);
    assert_eq!(r.whole.completed, 2);
    assert_eq!(r.whole.conversion.display(), "33.3 %");
    assert_eq!(reason_counts(&r.steps[0].exited), [("goal", 1)].into());
    consistent(&w, id).await;

    // A run can be ended by hand, by contact and key: F1 has completed, so there is none.
    assert!(
        !manage::exit_run(&w.h.db, &w.admin, id, w.people["fay"], "F1", w.h.now())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_entry_frequency_holds_per_contact() {
    let w = world().await;
    let hello = template(&w, "Hello").await;
    let wf = || Workflow {
        entry: "hello".into(),
        steps: vec![send("hello", hello, None)],
        ..Workflow::default()
    };
    let signup = || Trigger::Event {
        name: "signup".into(),
    };
    let once = start(&w, signup(), wf(), |d| {
        d.settings.frequency = Frequency::Once
    })
    .await;
    let every = start(&w, signup(), wf(), |d| {
        d.settings.frequency = Frequency::EveryTime
    })
    .await;
    let weekly = start(&w, signup(), wf(), |d| {
        d.settings.frequency = Frequency::AtMostEvery { days: 7 }
    })
    .await;
    events(&w, &[event("ada@example.org", "signup", "s1", &[])]).await;
    w.clock.advance(Duration::days(2));
    events(&w, &[event("ada@example.org", "signup", "s2", &[])]).await;
    w.clock.advance(Duration::days(6));
    events(&w, &[event("ada@example.org", "signup", "s3", &[])]).await;
    let count = |id| {
        let w = &w;
        async move { runs(w, id).await.len() }
    };
    assert_eq!(count(once).await, 1, "once, ever");
    assert_eq!(count(every).await, 3, "every time (each run had completed)");
    assert_eq!(count(weekly).await, 2, "days 0 and 8, not day 2");
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(inbox(&w).await["ada"].len(), 6);
}

#[tokio::test]
async fn a_new_version_moves_or_exits_the_people_at_removed_steps() {
    let w = world().await;
    let hello = template(&w, "Hello").await;
    let later = template(&w, "Later").await;
    let v1 = Workflow {
        entry: "hello".into(),
        steps: vec![
            send("hello", hello, n("long")),
            step(
                "long",
                StepKind::Wait {
                    span: days(30),
                    next: n("later"),
                },
            ),
            send("later", later, None),
        ],
        ..Workflow::default()
    };
    let id = start(&w, Trigger::Immediately, v1.clone(), |_| {}).await;
    drain(&w.h, &w.clock, everything).await;
    let waiting = || async {
        report::runs_at(&w.h.db, &w.admin, id, "long", 10)
            .await
            .unwrap()
            .0
    };
    assert_eq!(waiting().await, 3);

    // v2 replaces the 30-day wait with a 1-day one.
    let mut v2 = v1.clone();
    v2.steps[0] = send("hello", hello, n("short"));
    v2.steps[1] = step(
        "short",
        StepKind::Wait {
            span: days(1),
            next: n("later"),
        },
    );
    manage::save(&w.h.db, &w.admin, id, v2.clone(), w.h.now())
        .await
        .unwrap();
    let p = manage::preview(&w.h.db, &w.admin, id).await.unwrap();
    assert_eq!(p.changes.removed, ["long"]);
    assert_eq!(p.changes.added, ["short"]);
    assert_eq!(p.waiting_at_removed, [("long".to_string(), 3)]);
    assert_eq!(p.version, 2);
    let refused = manage::publish(&w.h.db, &w.admin, id, &BTreeMap::new(), w.h.now())
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("“long”"), "{refused}");
    let choices: BTreeMap<String, Removal> = [(
        "long".to_string(),
        Removal::MoveTo {
            step: "short".into(),
        },
    )]
    .into();
    assert_eq!(
        manage::publish(&w.h.db, &w.admin, id, &choices, w.h.now())
            .await
            .unwrap(),
        2
    );
    assert_eq!(waiting().await, 0);
    let moved = runs(&w, id).await;
    assert!(
        moved
            .iter()
            .filter(|r| r.status == RunStatus::Active)
            .all(|r| r.step_id == "short")
    );
    w.clock.advance(Duration::days(1));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(inbox(&w).await["ada"], ["Hello", "Later"]);
    // The versions' numbers, apart and together.
    let all = report::report(&w.h.db, &w.admin, id, None).await.unwrap();
    assert_eq!(all.versions.len(), 2);
    assert_eq!(all.whole.completed, 3);
    let first = report::report(&w.h.db, &w.admin, id, Some(all.versions[1].id))
        .await
        .unwrap();
    assert_eq!(first.whole.entered, 6);
    assert_eq!(first.whole.completed, 0, "they completed in version 2");
    consistent(&w, id).await;

    // A second campaign: its waiting people exit when their step goes.
    let id2 = start(&w, Trigger::Immediately, v1.clone(), |_| {}).await;
    drain(&w.h, &w.clock, everything).await;
    manage::save(&w.h.db, &w.admin, id2, v2, w.h.now())
        .await
        .unwrap();
    let choices: BTreeMap<String, Removal> = [("long".to_string(), Removal::Exit)].into();
    manage::publish(&w.h.db, &w.admin, id2, &choices, w.h.now())
        .await
        .unwrap();
    let reasons: Vec<Option<ExitReason>> = runs(&w, id2)
        .await
        .into_iter()
        .filter(|r| r.step_id == "long")
        .map(|r| r.exit_reason)
        .collect();
    assert_eq!(reasons, vec![Some(ExitReason::StepRemoved); 3]);
    let r = report::report(&w.h.db, &w.admin, id2, None).await.unwrap();
    assert_eq!(reason_counts(&r.whole.exited).get("step_removed"), Some(&3));
    consistent(&w, id2).await;
}

#[tokio::test]
async fn quiet_periods_defer_a_send_step_and_the_other_steps_do_what_they_say() {
    let w = world().await;
    let hello = template(&w, "Hello").await;
    let wf = Workflow {
        entry: "hello".into(),
        steps: vec![
            send("hello", hello, n("vip")),
            step(
                "vip",
                StepKind::UpdateContact {
                    change: ContactChange::AddToGroup {
                        group: "Welcomed".into(),
                    },
                    next: n("attr"),
                },
            ),
            step(
                "attr",
                StepKind::UpdateContact {
                    change: ContactChange::SetAttribute {
                        name: "stage".into(),
                        value: "welcomed".into(),
                    },
                    next: n("call"),
                },
            ),
            step(
                "call",
                StepKind::CreateAction {
                    assignee: Assignee::CampaignCreator,
                    title: "Call to say hello".into(),
                    next: n("booked?"),
                },
            ),
            step(
                "booked?",
                StepKind::WaitForEvent {
                    event: "booked".into(),
                    timeout: days(2),
                    next: n("split"),
                    on_timeout: None,
                },
            ),
            step(
                "split",
                StepKind::RandomSplit {
                    shares: vec![
                        Share {
                            percent: 50,
                            next: None,
                        },
                        Share {
                            percent: 50,
                            next: None,
                        },
                    ],
                },
            ),
        ],
        ..Workflow::default()
    };
    // 23:00 UTC, in a quiet period from 22:00 to 07:00 (the contacts' zone is UTC).
    let day: DateTime<Utc> = (Utc::now() + Duration::days(1))
        .date_naive()
        .and_hms_opt(23, 0, 0)
        .unwrap()
        .and_utc();
    w.clock.set(day);
    let id = start(&w, Trigger::Immediately, wf, |d| {
        d.settings.quiet_periods = vec![QuietPeriod {
            start: 22 * 60,
            end: 7 * 60,
        }];
    })
    .await;
    drain(&w.h, &w.clock, everything).await;
    let ada = runs(&w, id)
        .await
        .into_iter()
        .find(|r| r.contact_id == w.people["ada"])
        .unwrap();
    assert_eq!(ada.step_id, "hello", "waits at the send step");
    assert_eq!(ada.wake_at, Some(day + Duration::hours(8)));
    assert!(inbox(&w).await.is_empty());

    w.clock.set(day + Duration::hours(8));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(inbox(&w).await["ada"], ["Hello"]);
    let ada_contact = contact::Entity::find_by_id(w.people["ada"])
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada_contact.attributes.0["stage"], "welcomed");
    let group = contact_group::Entity::find()
        .filter(contact_group::Column::Name.eq("Welcomed"))
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    let members = contact_group_member::Entity::find()
        .filter(contact_group_member::Column::GroupId.eq(group.id))
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(members.len(), 3, "ada, eve and fay");
    let todos = action::Entity::find()
        .filter(action::Column::CampaignId.eq(id))
        .filter(action::Column::RunId.is_not_null())
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(todos.len(), 3);
    assert!(
        todos
            .iter()
            .all(|a| a.reason == "Call to say hello" && a.message_id.is_none())
    );

    // fay books: she goes on at once, in the event's transaction; the others time out.
    events(&w, &[event("fay@example.org", "booked", "b1", &[])]).await;
    let fay = runs(&w, id)
        .await
        .into_iter()
        .find(|r| r.contact_id == w.people["fay"])
        .unwrap();
    assert_eq!(fay.status, RunStatus::Completed);
    w.clock.advance(Duration::days(2));
    drain(&w.h, &w.clock, everything).await;
    let r = report::report(&w.h.db, &w.admin, id, None).await.unwrap();
    let wait = r.steps.iter().find(|s| s.id == "booked?").unwrap();
    let paths: Vec<(&str, i64)> = wait.paths.iter().map(|p| (p.label.as_str(), p.n)).collect();
    assert_eq!(paths, [("“booked” arrived", 1), ("Timed out", 2)]);
    let split = r.steps.iter().find(|s| s.id == "split").unwrap();
    assert_eq!(split.entered, 1);
    assert_eq!(split.paths.iter().map(|p| p.n).sum::<i64>(), 1);
    assert_eq!(r.whole.completed, 3);
    consistent(&w, id).await;
    // Every message the workflow queued went out or was skipped.
    let states: Vec<DeliveryState> = message::Entity::find()
        .filter(message::Column::CampaignId.eq(id))
        .all(&w.h.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.state)
        .collect();
    assert!(
        states
            .iter()
            .all(|s| *s == DeliveryState::Sent || *s == DeliveryState::Skipped),
        "{states:?}"
    );
}

#[tokio::test]
async fn a_paused_workflow_freezes_runs_and_resumes_sending_or_skipping_what_fell_due() {
    let w = world().await;
    let hello = template(&w, "Hello").await;
    let later = template(&w, "Later").await;
    let wf = || Workflow {
        entry: "hello".into(),
        steps: vec![
            send("hello", hello, n("wait")),
            step(
                "wait",
                StepKind::Wait {
                    span: days(1),
                    next: n("later"),
                },
            ),
            send("later", later, None),
        ],
        ..Workflow::default()
    };
    let skip = start(&w, Trigger::Immediately, wf(), |_| {}).await;
    let send_now = start(&w, Trigger::Immediately, wf(), |_| {}).await;
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(inbox(&w).await["ada"], ["Hello", "Hello"]);
    for id in [skip, send_now] {
        builder::deactivate(&w.h.db, &w.admin, id, w.h.now())
            .await
            .unwrap();
    }
    // Two days pass while paused: nobody moves.
    w.clock.advance(Duration::days(2));
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(inbox(&w).await["ada"].len(), 2);
    assert!(
        runs(&w, skip)
            .await
            .iter()
            .filter(|r| r.status == RunStatus::Active)
            .all(|r| r.step_id == "wait")
    );

    manage::resume(&w.h.db, &w.admin, skip, manage::Overdue::Skip, w.h.now())
        .await
        .unwrap();
    manage::resume(
        &w.h.db,
        &w.admin,
        send_now,
        manage::Overdue::Send,
        w.h.now(),
    )
    .await
    .unwrap();
    drain(&w.h, &w.clock, everything).await;
    assert_eq!(
        inbox(&w).await["ada"],
        ["Hello", "Hello", "Later"],
        "only the campaign resumed with send"
    );
    let skipped: Vec<_> = message::Entity::find()
        .filter(message::Column::CampaignId.eq(skip))
        .filter(message::Column::SkipReason.eq(herald_core::domain::SkipReason::Paused))
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(skipped.len(), 3, "ada's, eve's and fay's “Later”");
    for id in [skip, send_now] {
        let r = report::report(&w.h.db, &w.admin, id, None).await.unwrap();
        assert_eq!(r.whole.completed, 3);
        consistent(&w, id).await;
    }
    // After the skip, the runs' next messages would go again (the mark is cleared).
    assert!(runs(&w, skip).await.iter().all(|r| !r.skip_sends));
}
