//! Reach agrees with the sender: for random contacts (inactive, without an address, with blank
//! ones, suppressed globally or by the campaign's own list, unsubscribed, never asked) the
//! builder's reach breakdown, counted in one query, equals what the delivery engine then does:
//! as many messages sent as it said would be, and as many skipped for each reason.

use crate::delivery::{World, activate_with, drain, everything, messages, world};
use herald_core::audience::reach;
use herald_core::domain::audience::Filter;
use herald_core::domain::delivery::ReachRule;
use herald_core::domain::trigger::Trigger;
use herald_core::domain::{Channel, ContactStatus, DeliveryState, MessageType, SkipReason};
use herald_core::entity::{contact, organisation};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use std::collections::HashMap;

/// 80 more contacts with every combination of the facts reach depends on.
async fn populate(w: &World, rng: &mut StdRng, campaign_list: i64) {
    let global = herald_core::contacts::lists::all(&w.h.db, &w.admin)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.global)
        .unwrap()
        .id;
    let now = w.h.now();
    for i in 0..80 {
        let email = format!("p{i}@example.org");
        let id = w.app.contact("acme", &email, None).await;
        let mut c: contact::ActiveModel = contact::Entity::find_by_id(id)
            .one(&w.h.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        if rng.gen_bool(0.15) {
            c.status = Set(ContactStatus::Inactive);
        }
        match rng.gen_range(0..10) {
            0 => c.email = Set(None),
            // Blank (unique per organisation, so of a different length each).
            1 => c.email = Set(Some(" ".repeat(i + 1))),
            _ => {}
        }
        c.phone = Set(match rng.gen_range(0..3) {
            0 => None,
            1 => Some(" ".into()),
            _ => Some(format!("+4470000{i:05}")),
        });
        let consent = |rng: &mut StdRng| match rng.gen_range(0..3) {
            0 => (true, Some(now)),
            1 => (false, Some(now)),
            _ => (false, None),
        };
        let (given, at) = consent(rng);
        c.marketing_consent = Set(given);
        c.marketing_consent_at = Set(at);
        let (given, at) = consent(rng);
        c.newsletter_consent = Set(given);
        c.newsletter_consent_at = Set(at);
        c.update(&w.h.db).await.unwrap();
        let list = match rng.gen_range(0..8) {
            0 => Some(global),
            1 => Some(campaign_list),
            _ => None,
        };
        if let Some(list) = list {
            herald_core::contacts::lists::add(&w.h.db, &w.admin, list, &email)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn the_reach_breakdown_is_what_the_sender_then_does() {
    let w = world().await;
    let mut rng = StdRng::seed_from_u64(10);
    let list = herald_core::contacts::lists::create(
        &w.h.db,
        &w.admin,
        herald_core::domain::ListKind::Suppression,
        "Former customers",
    )
    .await
    .unwrap()
    .id;
    populate(&w, &mut rng, list).await;

    let cases = [
        (MessageType::Marketing, Channel::Email, vec![], false),
        (MessageType::Marketing, Channel::Email, vec![list], false),
        (MessageType::Newsletter, Channel::Email, vec![list], true),
        (MessageType::Operational, Channel::Email, vec![], true),
        (MessageType::Marketing, Channel::Sms, vec![list], true),
        (MessageType::Operational, Channel::Sms, vec![], false),
    ];
    for (message_type, channel, lists, opt_in) in cases {
        let org = organisation::Entity::find_by_id(w.admin.org_id())
            .one(&w.h.db)
            .await
            .unwrap()
            .unwrap();
        let mut org: organisation::ActiveModel = org.into();
        org.require_opt_in = Set(opt_in);
        org.update(&w.h.db).await.unwrap();

        let rule = ReachRule {
            message_type,
            channel,
            suppression_list_ids: lists.clone(),
        };
        let case = format!("{message_type:?} by {channel:?}, lists {lists:?}, opt-in {opt_in}");
        let predicted = reach::reach(&w.h.db, &w.admin, &Filter::everyone(), &rule, w.h.now())
            .await
            .unwrap();
        assert!(predicted.reachable > 0, "{case}: {predicted:?}");
        assert!(!predicted.left_out.is_empty(), "{case}: {predicted:?}");

        let id = activate_with(&w, Trigger::Immediately, |d| {
            d.message_type = message_type;
            d.channel = channel;
            d.settings.suppression_list_ids = lists.clone();
        })
        .await;
        drain(&w.h, &w.clock, everything).await;
        let sent = messages(&w.h, id).await;
        let mut skipped: HashMap<SkipReason, u64> = HashMap::new();
        let mut reached = 0;
        for m in &sent {
            match (m.state, m.skip_reason) {
                (DeliveryState::Skipped, Some(r)) => *skipped.entry(r).or_default() += 1,
                // Decided to send: sent, or (SMS here, with no SMS provider configured)
                // handed to no one and failed.
                (DeliveryState::Sent, None) => reached += 1,
                (DeliveryState::Failed, None) if channel == Channel::Sms => reached += 1,
                other => panic!("{case}: a message left {other:?}"),
            }
        }
        assert_eq!(sent.len() as u64, predicted.matched, "{case}");
        assert_eq!(reached, predicted.reachable, "{case}");
        assert_eq!(
            skipped,
            predicted.left_out.iter().copied().collect(),
            "{case}"
        );
    }
}

#[tokio::test]
async fn duplicate_warnings_count_only_contacts_both_would_reach() {
    let w = world().await;
    // An active campaign to everyone, sending on an event with the same template: a duplicate
    // of the same campaign drafted again.
    let event = || Trigger::Event {
        name: "signed_up".into(),
    };
    let other = activate_with(&w, event(), |_| {}).await;
    let mut draft = herald_core::campaigns::builder::load(&w.h.db, &w.admin, other)
        .await
        .unwrap()
        .draft;
    draft.name = "Again".into();
    let overlap = |draft: herald_core::domain::campaign::Draft| {
        let w = &w;
        async move {
            herald_core::campaigns::builder::conflicts(&w.h.db, &w.admin, None, &draft, w.h.now())
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.other_id == other)
                .map(|c| c.overlap)
        }
    };
    // Six contacts match both; of them ada and fay may receive marketing (the world's rules).
    assert_eq!(overlap(draft.clone()).await, Some(2));
    // Operational messages ignore consent: cy (unsubscribed) counts too; bob stays suppressed,
    // dee inactive, eve without an address.
    let mut operational = draft.clone();
    operational.message_type = MessageType::Operational;
    assert_eq!(overlap(operational).await, Some(3));
    // The draft's own suppression list leaves ada out.
    let list = herald_core::contacts::lists::create(
        &w.h.db,
        &w.admin,
        herald_core::domain::ListKind::Suppression,
        "Do not disturb",
    )
    .await
    .unwrap()
    .id;
    herald_core::contacts::lists::add(&w.h.db, &w.admin, list, "ada@example.org")
        .await
        .unwrap();
    draft.settings.suppression_list_ids = vec![list];
    assert_eq!(overlap(draft).await, Some(1));
}
