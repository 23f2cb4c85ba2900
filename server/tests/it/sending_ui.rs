//! Sending as people do it, on the real database: send now to a selection (and account managers
//! only to their own contacts), what could not be sent becoming actions that are fixed and sent
//! or ignored, the run's notification with its outcome, and the development mailbox read back.

use crate::builder::user;
use crate::delivery::{World, drain, everything, messages, world};
use herald_core::campaigns::send_now::{Message, SendNow, send_now};
use herald_core::delivery::{actions, mailbox, notify};
use herald_core::domain::actions::ActionFilter;
use herald_core::domain::audience::Filter;
use herald_core::domain::{
    ActionState, CampaignStatus, Channel, DeliveryState, MessageType, Role, RunOutcome,
};
use herald_core::entity::{action, campaign, mailbox_message, notification};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

fn quick(audience: Filter) -> SendNow {
    SendNow {
        name: String::new(),
        channel: Channel::Email,
        message_type: MessageType::Operational,
        audience,
        message: Message::Quick {
            subject: "Your invoice, {{ contact.first_name }}".into(),
            body: "Hello {{ contact.first_name }},\n\nIt is <due> & waiting.".into(),
        },
    }
}

fn picked(w: &World, names: &[&str]) -> Filter {
    Filter::Contacts {
        ids: names.iter().map(|n| w.people[n]).collect(),
    }
}

async fn actions_of(w: &World, campaign_id: i64) -> Vec<action::Model> {
    action::Entity::find()
        .filter(action::Column::CampaignId.eq(campaign_id))
        .all(&w.h.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn send_now_goes_out_records_the_campaign_and_tells_its_sender() {
    let w = world().await;
    // ada and cy can be reached by an operational message (cy only unsubscribed from
    // marketing); eve has no address; dee is inactive.
    let id = send_now(
        &w.h.db,
        &w.admin,
        &quick(picked(&w, &["ada", "cy", "eve", "dee"])),
        w.h.now(),
    )
    .await
    .unwrap();
    drain(&w.h, &w.clock, everything).await;

    let c = campaign::Entity::find_by_id(id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.name, None, "shown as Untitled");
    assert_eq!(c.created_by, w.admin.user_id());
    assert_eq!(c.status, CampaignStatus::Completed);
    let summary = herald_core::campaigns::list(
        &w.h.db,
        &w.admin,
        herald_core::campaigns::CampaignFilter::default(),
    )
    .await
    .unwrap();
    assert!(
        summary.iter().any(|s| s.id == id && s.name.is_none()),
        "in the campaign list, untitled"
    );

    let sent: Vec<_> = messages(&w.h, id)
        .await
        .into_iter()
        .map(|m| (m.contact_id.unwrap(), m.state))
        .collect();
    assert_eq!(sent.len(), 4);
    for (name, state) in [
        ("ada", DeliveryState::Sent),
        ("cy", DeliveryState::Sent),
        ("eve", DeliveryState::Skipped),
        ("dee", DeliveryState::Skipped),
    ] {
        assert!(sent.contains(&(w.people[name], state)), "{name}: {sent:?}");
    }
    // The quick message rendered as text and escaped HTML.
    let mail = mailbox_message::Entity::find()
        .filter(mailbox_message::Column::Recipient.eq("ada@example.org"))
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    let opened = mailbox::open(&w.h.db, &w.admin, mail.id).await.unwrap();
    assert_eq!(opened.item.campaign_id, Some(id));
    assert!(
        opened.item.subject.starts_with("Your invoice, "),
        "{opened:?}"
    );
    let html = opened.html.unwrap();
    assert!(html.contains("It is &lt;due&gt; &amp; waiting."), "{html}");
    assert!(opened.text.unwrap().contains("It is <due> & waiting."));

    // eve became an action for the sender; dee (inactive) did not.
    let todo = actions_of(&w, id).await;
    assert_eq!(todo.len(), 1);
    assert_eq!(todo[0].contact_id, w.people["eve"]);
    assert_eq!(todo[0].reason, "No email address");
    assert_eq!(todo[0].owner_id, w.admin.user_id());
    let detail =
        herald_core::campaigns::get(&w.h.db, &w.admin, id, chrono::NaiveTime::MIN, w.h.now())
            .await
            .unwrap();
    assert_eq!(detail.open_actions, 1);

    // One notification: partially successful, with the numbers.
    let bell = notify::list(&w.h.db, &w.admin, 10).await.unwrap();
    assert_eq!(bell.unread, 1);
    let n = &bell.latest[0];
    assert_eq!(n.outcome, RunOutcome::Partial);
    assert_eq!(n.campaign_id, Some(id));
    assert!(n.body.contains("2 sent, 2 not sent"), "{}", n.body);
    assert!(n.body.contains("1 could not be sent"), "{}", n.body);
    // And by email, from Herald's system template, to the person who sent it.
    let me = w.admin.user().unwrap().email.clone();
    let emailed = mailbox::list(&w.h.db, &w.admin, &me, 1).await.unwrap();
    assert_eq!(emailed.total, 1, "{emailed:?}");
    assert_eq!(
        emailed.items[0].subject,
        "Campaign partially successful: “Untitled”"
    );
    let report = mailbox::open(&w.h.db, &w.admin, emailed.items[0].id)
        .await
        .unwrap();
    let text = report.text.unwrap();
    assert!(text.contains("2 sent, 2 not sent"), "{text}");
    assert!(text.contains(&format!("/actions?campaign={id}")), "{text}");
    assert_eq!(
        notify::mark_read(&w.h.db, &w.admin, w.h.now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(notify::list(&w.h.db, &w.admin, 10).await.unwrap().unread, 0);

    // Fix eve's address and send: one more message, to the new address; a second click sends
    // nothing more.
    let done = actions::fix_and_send(&w.h.db, &w.admin, todo[0].id, "Eve@Example.org", w.h.now())
        .await
        .unwrap();
    assert_eq!(done.sent, 1);
    let again = actions::send(&w.h.db, &w.admin, &[todo[0].id], w.h.now())
        .await
        .unwrap();
    assert_eq!(again.sent, 0);
    drain(&w.h, &w.clock, everything).await;
    let to_eve = mailbox_message::Entity::find()
        .filter(mailbox_message::Column::Recipient.eq("eve@example.org"))
        .all(&w.h.db)
        .await
        .unwrap();
    assert_eq!(to_eve.len(), 1, "sent once to the fixed address");
    let fixed = actions_of(&w, id).await;
    assert_eq!(fixed[0].state, ActionState::Sent);
    assert_eq!(fixed[0].resolved_by, w.admin.user_id());
    // Sending one contact again is no run of its own to report.
    assert_eq!(
        notification::Entity::find()
            .all(&w.h.db)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn account_managers_send_to_their_own_contacts_only() {
    let w = world().await;
    let manager = user(&w.h.db, "acme", Role::Member).await;
    herald_core::contacts::assign(
        &w.h.db,
        &w.admin,
        &[w.people["ada"], w.people["eve"]],
        manager.user_id(),
    )
    .await
    .unwrap();
    // Everyone, as the account manager asks: only ada and eve are theirs.
    let id = send_now(&w.h.db, &manager, &quick(Filter::everyone()), w.h.now())
        .await
        .unwrap();
    drain(&w.h, &w.clock, everything).await;
    let to: Vec<i64> = messages(&w.h, id)
        .await
        .iter()
        .filter_map(|m| m.contact_id)
        .collect();
    assert_eq!(to, vec![w.people["ada"], w.people["eve"]]);
    // Others' contacts only: nothing to send, nothing created.
    let before = campaign::Entity::find().all(&w.h.db).await.unwrap().len();
    let refused = send_now(
        &w.h.db,
        &manager,
        &quick(picked(&w, &["bob", "fay"])),
        w.h.now(),
    )
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("None of these contacts is assigned to you")
    );
    assert_eq!(
        campaign::Entity::find().all(&w.h.db).await.unwrap().len(),
        before
    );

    // The action for eve is the manager's to see (their contact); an action for a contact
    // of someone else's is not.
    let admin_send = send_now(&w.h.db, &w.admin, &quick(picked(&w, &["eve"])), w.h.now())
        .await
        .unwrap();
    drain(&w.h, &w.clock, everything).await;
    let seen = actions::list(&w.h.db, &manager, &ActionFilter::default(), 1)
        .await
        .unwrap();
    assert_eq!(seen.total, 2, "eve's two actions: {seen:?}");
    let mine = actions::list(
        &w.h.db,
        &manager,
        &ActionFilter {
            mine: true,
            ..ActionFilter::default()
        },
        1,
    )
    .await
    .unwrap();
    assert_eq!(mine.total, 1, "one from the manager's own send");
    let admins = actions::list(
        &w.h.db,
        &w.admin,
        &ActionFilter {
            campaign_id: Some(admin_send),
            ..ActionFilter::default()
        },
        1,
    )
    .await
    .unwrap();
    assert_eq!(admins.total, 1);
    // Ignoring: gone from the to-do list, listed as ignored.
    let ignored = actions::ignore(&w.h.db, &manager, &[admins.rows[0].id], w.h.now())
        .await
        .unwrap();
    assert_eq!(ignored.ignored, 1);
    let todo = actions::list(
        &w.h.db,
        &w.admin,
        &ActionFilter {
            state: Some(ActionState::Todo),
            ..ActionFilter::default()
        },
        1,
    )
    .await
    .unwrap();
    assert_eq!(todo.total, 1);
}

#[tokio::test]
async fn a_refusal_for_good_becomes_an_action_and_a_failed_run() {
    let w = world().await;
    // No SMS provider is configured: every SMS is refused for good.
    let mut sms = quick(picked(&w, &["ada"]));
    sms.channel = Channel::Sms;
    let phone = "+44 20 7946 0958";
    {
        use sea_orm::{ActiveModelTrait, Set};
        let k = herald_core::entity::contact::Entity::find_by_id(w.people["ada"])
            .one(&w.h.db)
            .await
            .unwrap()
            .unwrap();
        let mut k: herald_core::entity::contact::ActiveModel = k.into();
        k.phone = Set(Some(phone.into()));
        k.update(&w.h.db).await.unwrap();
    }
    let id = send_now(&w.h.db, &w.admin, &sms, w.h.now()).await.unwrap();
    drain(&w.h, &w.clock, everything).await;
    let todo = actions_of(&w, id).await;
    assert_eq!(todo.len(), 1);
    assert!(
        todo[0].reason.contains("No SMS provider is configured"),
        "the provider's words: {}",
        todo[0].reason
    );
    let n = notify::list(&w.h.db, &w.admin, 10).await.unwrap();
    assert_eq!(n.latest[0].outcome, RunOutcome::Failed);
    // A bad phone number is refused with a reason and changes nothing.
    let e = actions::fix_and_send(&w.h.db, &w.admin, todo[0].id, "call me", w.h.now())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is not a phone number"), "{e}");
    assert_eq!(actions_of(&w, id).await[0].state, ActionState::Todo);
}

#[tokio::test]
async fn the_mailbox_lists_newest_first_searches_and_is_for_admins() {
    let w = world().await;
    for subject in ["First", "Second"] {
        let mut input = quick(picked(&w, &["ada", "fay"]));
        input.message = Message::Quick {
            subject: subject.into(),
            body: "Hi".into(),
        };
        send_now(&w.h.db, &w.admin, &input, w.h.now())
            .await
            .unwrap();
        drain(&w.h, &w.clock, everything).await;
    }
    // Two messages to each of ada and fay, and a run report each to the sender.
    assert_eq!(
        mailbox::list(&w.h.db, &w.admin, "", 1).await.unwrap().total,
        6
    );
    let all = mailbox::list(&w.h.db, &w.admin, "example.org", 1)
        .await
        .unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(all.items[0].subject, "Second", "newest first");
    let fay = mailbox::list(&w.h.db, &w.admin, "FAY@", 1).await.unwrap();
    assert_eq!(fay.total, 2);
    assert!(fay.items.iter().all(|m| m.recipient == "fay@example.org"));
    let first = mailbox::list(&w.h.db, &w.admin, "first", 1).await.unwrap();
    assert_eq!(first.total, 2);
    // LIKE's wildcards are taken literally.
    assert_eq!(
        mailbox::list(&w.h.db, &w.admin, "%", 1)
            .await
            .unwrap()
            .total,
        0
    );
    let opened = mailbox::open(&w.h.db, &w.admin, first.items[0].id)
        .await
        .unwrap();
    let names: Vec<&str> = opened.headers.iter().map(|(n, _)| n.as_str()).collect();
    for header in ["From", "To", "Subject", "Message-ID"] {
        assert!(
            names.iter().any(|n| n.eq_ignore_ascii_case(header)),
            "{header} in {names:?}"
        );
    }
    let marketer = user(&w.h.db, "acme", Role::Marketer).await;
    assert!(mailbox::list(&w.h.db, &marketer, "", 1).await.is_err());
    assert!(mailbox::list(&w.h.db, &w.admin, "", 0).await.is_err());
}

#[tokio::test]
async fn a_test_send_goes_to_me_or_a_seed_list_marked_and_left_out_of_statistics() {
    use herald_core::delivery::test_send::{TestOf, TestTo, send_test};
    let w = world().await;
    let id = crate::delivery::activate_with(
        &w,
        herald_core::domain::trigger::Trigger::Event {
            name: "never".into(),
        },
        |d| d.message_type = MessageType::Marketing,
    )
    .await;
    let c = campaign::Entity::find_by_id(id)
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    let me = w.admin.user().unwrap().email.clone();
    let report = send_test(&w.h, &w.admin, TestOf::Campaign(id), TestTo::Me)
        .await
        .unwrap();
    assert_eq!(report.sent, vec![me.clone()]);
    assert_eq!(report.describe(), format!("Test sent to {me}."));
    let seeds = herald_core::contacts::lists::create(
        &w.h.db,
        &w.admin,
        herald_core::domain::ListKind::Seed,
        "Inbox checks",
    )
    .await
    .unwrap()
    .id;
    herald_core::contacts::lists::add(
        &w.h.db,
        &w.admin,
        seeds,
        "seed1@example.net\nseed2@example.net",
    )
    .await
    .unwrap();
    let report = send_test(
        &w.h,
        &w.admin,
        TestOf::Template(c.template_id.unwrap()),
        TestTo::Seeds(seeds),
    )
    .await
    .unwrap();
    assert_eq!(report.sent.len(), 2, "{report:?}");

    let tests = mailbox_message::Entity::find().all(&w.h.db).await.unwrap();
    assert_eq!(tests.len(), 3);
    for t in &tests {
        assert!(t.subject.starts_with("[Test] Welcome, "), "{}", t.subject);
        assert_eq!(t.message_id, None, "no message row");
        assert!(t.raw.starts_with("X-Herald-Test: yes\r\n"));
    }
    // The campaign's test (marketing) shows its unsubscribe link, which unsubscribes no one.
    let mine = tests.iter().find(|t| t.recipient == me).unwrap();
    assert!(mine.raw.contains("/u/test"), "{}", mine.raw);
    // Personalised with a sample contact: the organisation's first active one.
    let sample = herald_core::entity::contact::Entity::find_by_id(w.people["ada"])
        .one(&w.h.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        mine.subject,
        format!("[Test] Welcome, {}", sample.first_name)
    );
    assert!(messages(&w.h, id).await.is_empty(), "no statistics");
    // Account managers do not send tests; an empty or foreign list is refused.
    let manager = user(&w.h.db, "acme", Role::Member).await;
    assert!(
        send_test(&w.h, &manager, TestOf::Campaign(id), TestTo::Me)
            .await
            .is_err()
    );
    let empty = herald_core::contacts::lists::create(
        &w.h.db,
        &w.admin,
        herald_core::domain::ListKind::Seed,
        "Empty",
    )
    .await
    .unwrap()
    .id;
    let e = send_test(&w.h, &w.admin, TestOf::Campaign(id), TestTo::Seeds(empty))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("has no addresses"), "{e}");
}
