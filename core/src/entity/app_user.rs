use crate::domain::Role;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub password_changed_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
