//! The development mailbox, read: the messages an organisation "sent" into it, newest first,
//! searchable, each opened into its headers, HTML and text as a mail client would show them.

use crate::contacts::contains_pattern;
use crate::domain::access::{Action, Actor};
use crate::domain::mailbox::{MailboxItem, MailboxMessage, MailboxPage, headers_of};
use crate::entity::{mailbox_message, message};
use crate::{Error, Result};
use sea_orm::sea_query::{Condition, Expr, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

pub const PER_PAGE: u64 = 50;
const MAX_PAGE: u64 = 1_000_000;

fn item(m: &mailbox_message::Model, campaign_id: Option<i64>) -> MailboxItem {
    MailboxItem {
        id: m.id,
        sender: m.sender.clone(),
        recipient: m.recipient.clone(),
        subject: m.subject.clone(),
        received_at: m.created_at,
        campaign_id,
    }
}

/// Page `page` (from 1) of the messages whose recipient or subject contains `search`
/// (case-insensitive), newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    search: &str,
    page: u64,
) -> Result<MailboxPage> {
    actor.require(Action::ReadMailbox)?;
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(Error::Invalid(format!(
            "The page must be between 1 and {MAX_PAGE}."
        )));
    }
    let mut q =
        mailbox_message::Entity::find().filter(mailbox_message::Column::OrgId.eq(actor.org_id()));
    if !search.trim().is_empty() {
        let pattern = contains_pattern(search.trim());
        let like = |col: mailbox_message::Column| {
            Expr::expr(Func::lower(Expr::col((mailbox_message::Entity, col))))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        q = q.filter(
            Condition::any()
                .add(like(mailbox_message::Column::Recipient))
                .add(like(mailbox_message::Column::Subject)),
        );
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(mailbox_message::Column::Id)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    let campaigns = campaigns_of(db, &rows).await?;
    Ok(MailboxPage {
        total,
        page,
        pages: Ord::max(total.div_ceil(PER_PAGE), 1),
        items: rows
            .iter()
            .map(|m| item(m, m.message_id.and_then(|id| campaigns.get(&id).copied())))
            .collect(),
    })
}

/// The campaign of each listed message that has one.
async fn campaigns_of(
    db: &impl ConnectionTrait,
    rows: &[mailbox_message::Model],
) -> Result<std::collections::HashMap<i64, i64>> {
    let ids: Vec<i64> = rows.iter().filter_map(|m| m.message_id).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .column(message::Column::CampaignId)
        .filter(message::Column::Id.is_in(ids))
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Message `id` of the actor's organisation, opened.
pub async fn open(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<MailboxMessage> {
    actor.require(Action::ReadMailbox)?;
    let m = mailbox_message::Entity::find_by_id(id)
        .filter(mailbox_message::Column::OrgId.eq(actor.org_id()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("message"))?;
    let campaigns = campaigns_of(db, std::slice::from_ref(&m)).await?;
    let parsed = mail_parser::MessageParser::default().parse(m.raw.as_bytes());
    let (html, text) = match &parsed {
        Some(p) => (
            p.html_body_count()
                .gt(&0)
                .then(|| p.body_html(0).map(|b| b.into_owned()))
                .flatten(),
            p.text_body_count()
                .gt(&0)
                .then(|| p.body_text(0).map(|b| b.into_owned()))
                .flatten(),
        ),
        None => (None, None),
    };
    Ok(MailboxMessage {
        item: item(&m, m.message_id.and_then(|id| campaigns.get(&id).copied())),
        headers: headers_of(&m.raw),
        html,
        text,
    })
}

/// Whether the organisation's email goes to the development mailbox now (the Mailbox page is
/// offered then).
pub async fn in_use(h: &crate::Herald, actor: &Actor) -> Result<bool> {
    if !actor.may(Action::ReadMailbox) {
        return Ok(false);
    }
    let routes = super::sending::routes(h, actor.org_id()).await?;
    Ok(matches!(*routes.email, super::Provider::Mailbox))
}
