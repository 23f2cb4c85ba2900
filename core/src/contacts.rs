//! The contact list: search and pages, within the caller's scope (an account manager sees only
//! the contacts assigned to them).

use crate::Result;
use crate::audience::Scope;
use crate::domain::{ContactPage, ContactSummary};
use crate::entity::contact;
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

pub const PER_PAGE: u64 = 50;

/// `%text%` with the LIKE wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// Page `page` (from 1) of the contacts matching `search` (in first name, last name or email,
/// case-insensitive), sorted by last name.
pub async fn list(
    db: &DatabaseConnection,
    scope: Scope,
    search: &str,
    page: u64,
) -> Result<ContactPage> {
    let mut query = contact::Entity::find().filter(contact::Column::OrgId.eq(scope.org_id));
    if let Some(user) = scope.assigned_to {
        query = query.filter(contact::Column::AssignedUserId.eq(user));
    }
    let search = search.trim();
    if !search.is_empty() {
        let pattern = contains_pattern(search);
        let like = |col: contact::Column| {
            Expr::expr(Func::lower(Expr::col((contact::Entity, col))))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        query = query.filter(
            Condition::any()
                .add(like(contact::Column::FirstName))
                .add(like(contact::Column::LastName))
                .add(like(contact::Column::Email)),
        );
    }
    let paginator = query
        .order_by_asc(contact::Column::LastName)
        .order_by_asc(contact::Column::FirstName)
        .order_by_asc(contact::Column::Id)
        .paginate(db, PER_PAGE);
    let total = paginator.num_items().await?;
    let page = Ord::max(page, 1);
    let rows = paginator.fetch_page(page - 1).await?;
    Ok(ContactPage {
        total,
        page,
        pages: Ord::max(total.div_ceil(PER_PAGE), 1),
        rows: rows
            .into_iter()
            .map(|c| ContactSummary {
                id: c.id,
                name: c.display_name(),
                email: c.email,
                language: c.language,
                active: c.status == "active",
                marketing_consent: c.marketing_consent,
                newsletter_consent: c.newsletter_consent,
                created_at: c.created_at,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_literal() {
        for (input, pattern) in [
            ("Olsen", "%olsen%"),
            ("50%", "%50\\%%"),
            ("a_b", "%a\\_b%"),
            ("x\\y", "%x\\\\y%"),
        ] {
            assert_eq!(super::contains_pattern(input), pattern, "{input}");
        }
    }
}
