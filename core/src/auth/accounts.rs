//! Organisations, users and their passwords (hashed with argon2id). Signing in and sessions
//! are in [`super::sessions`].

use super::sessions::start_session;
use crate::domain::access::{Action, Actor};
use crate::domain::{EmailAddress, Role, UserSummary, check_new_password, check_org_slug};
use crate::entity::{app_user, organisation, session};
use crate::{Error, Result};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use rand::Rng;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

// ---------------------------------------------------------------------------------------------
// Organisations

/// Finds the organisation with `slug`, creating it (named `name`) when missing.
pub async fn ensure_org(
    db: &impl ConnectionTrait,
    slug: &str,
    name: &str,
) -> Result<organisation::Model> {
    check_org_slug(slug).map_err(Error::Invalid)?;
    if let Some(org) = find_org(db, slug).await? {
        return Ok(org);
    }
    Ok(organisation::ActiveModel {
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(Utc::now()),
        require_approval: Set(false),
        require_opt_in: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn find_org(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<organisation::Model>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// The organisation's time zone (IANA name): recurring campaigns send at a local time in it.
pub async fn time_zone(db: &impl ConnectionTrait, actor: &Actor) -> Result<String> {
    Ok(organisation::Entity::find_by_id(actor.org_id())
        .one(db)
        .await?
        .map_or_else(|| "UTC".into(), |o| o.time_zone))
}

/// Sets the organisation's time zone; active recurring campaigns keep their next run (the
/// following ones are counted in the new zone).
pub async fn set_time_zone(db: &impl ConnectionTrait, actor: &Actor, name: &str) -> Result<()> {
    actor.require(Action::ManageSettings)?;
    let name = crate::ingest::normalise_time_zone(name)
        .map_err(|e| Error::Invalid(format!("“{}” is {e}.", name.trim())))?;
    organisation::Entity::update_many()
        .col_expr(organisation::Column::TimeZone, Expr::value(name))
        .filter(organisation::Column::Id.eq(actor.org_id()))
        .exec(db)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Passwords

pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

pub(crate) async fn verify_password(hash: String, password: &str) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A readable random password (for `herald user add` without `--password`, and for admins who
/// add a user without choosing one): 20 characters from an alphabet without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Users

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: &'a str,
}

/// Creates a user in `org_id`. The address must be free across all organisations: it is what
/// people sign in with.
pub async fn create_user(
    db: &impl ConnectionTrait,
    org_id: i64,
    new: NewUser<'_>,
) -> Result<app_user::Model> {
    let email = EmailAddress::parse(new.email)?;
    check_new_password(new.password, None)?;
    if find_user_by_email(db, email.as_str()).await?.is_some() {
        return Err(Error::Invalid(format!(
            "A user with the address {email} already exists."
        )));
    }
    let name = match new.name.trim() {
        "" => email
            .as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned(),
        name => name.to_owned(),
    };
    let now = Utc::now();
    Ok(app_user::ActiveModel {
        org_id: Set(org_id),
        email: Set(email.to_string()),
        name: Set(name),
        role: Set(new.role),
        password_hash: Set(hash_password(new.password).await?),
        password_changed_at: Set(now),
        created_at: Set(now),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub(crate) async fn find_user_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<app_user::Model>> {
    // Addresses are stored normalised; compare case-insensitively all the same.
    Ok(app_user::Entity::find()
        .filter(
            sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(
                sea_orm::sea_query::Expr::col(app_user::Column::Email),
            ))
            .eq(email.to_lowercase()),
        )
        .one(db)
        .await?)
}

fn summary(u: app_user::Model) -> UserSummary {
    UserSummary {
        id: u.id,
        role: u.role,
        email: u.email,
        name: u.name,
        created_at: u.created_at,
        last_login_at: u.last_login_at,
    }
}

/// The users of the actor's organisation.
pub async fn list_users(db: &DatabaseConnection, actor: &Actor) -> Result<Vec<UserSummary>> {
    actor.require(Action::ManageUsers)?;
    Ok(app_user::Entity::find()
        .filter(app_user::Column::OrgId.eq(actor.org_id()))
        .order_by_asc(app_user::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// Adds a user to the acting admin's organisation. Without a password, one is generated and
/// returned so it can be shown once.
pub async fn add_user(
    db: &DatabaseConnection,
    actor: &Actor,
    email: &str,
    name: &str,
    role: Role,
    password: Option<&str>,
) -> Result<(UserSummary, Option<String>)> {
    actor.require(Action::ManageUsers)?;
    let generated = password.is_none().then(generate_password);
    let password = password.or(generated.as_deref()).unwrap_or_default();
    let user = create_user(
        db,
        actor.org_id(),
        NewUser {
            email,
            name,
            role,
            password,
        },
    )
    .await?;
    Ok((summary(user), generated))
}

async fn org_user(db: &DatabaseConnection, org_id: i64, user_id: i64) -> Result<app_user::Model> {
    app_user::Entity::find_by_id(user_id)
        .filter(app_user::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("user"))
}

async fn admins_in(db: &DatabaseConnection, org_id: i64) -> Result<u64> {
    Ok(app_user::Entity::find()
        .filter(app_user::Column::OrgId.eq(org_id))
        .filter(app_user::Column::Role.eq(Role::Admin))
        .count(db)
        .await?)
}

pub async fn set_role(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: i64,
    role: Role,
) -> Result<()> {
    actor.require(Action::ManageUsers)?;
    let user = org_user(db, actor.org_id(), user_id).await?;
    if user.role == Role::Admin && role != Role::Admin && admins_in(db, actor.org_id()).await? <= 1
    {
        return Err(Error::Invalid(
            "An organisation needs at least one admin.".into(),
        ));
    }
    let mut active: app_user::ActiveModel = user.into();
    active.role = Set(role);
    active.update(db).await?;
    Ok(())
}

pub async fn remove_user(db: &DatabaseConnection, actor: &Actor, user_id: i64) -> Result<()> {
    actor.require(Action::ManageUsers)?;
    if Some(user_id) == actor.user_id() {
        return Err(Error::Invalid("You cannot remove your own account.".into()));
    }
    let user = org_user(db, actor.org_id(), user_id).await?;
    // Sessions go with the user (ON DELETE CASCADE); campaigns keep their history.
    app_user::Entity::delete_by_id(user.id).exec(db).await?;
    Ok(())
}

/// Changes the user's password and ends all their sessions, then starts a new one for the
/// browser that made the change; returns its token.
pub async fn change_password(
    db: &DatabaseConnection,
    actor: &Actor,
    current: &str,
    new: &str,
) -> Result<String> {
    let Some(me) = actor.user() else {
        return Err(Error::Forbidden(
            "Only a signed-in user can change their password.".into(),
        ));
    };
    let user = org_user(db, me.org_id, me.user_id).await?;
    if !verify_password(user.password_hash.clone(), current).await {
        return Err(Error::Invalid(
            "The current password is not correct.".into(),
        ));
    }
    check_new_password(new, Some(current))?;
    let hash = hash_password(new).await?;
    let mut active: app_user::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.password_changed_at = Set(Utc::now());
    let user = active.update(db).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.id))
        .exec(db)
        .await?;
    start_session(db, &user).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_the_policy() {
        let p = generate_password();
        assert!(check_new_password(&p, None).is_ok());
        assert_ne!(p, generate_password());
    }

    #[tokio::test]
    async fn password_hashes_verify() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(hash.clone(), "correct horse battery").await);
        assert!(!verify_password(hash, "correct horse battery!").await);
        assert!(!verify_password("not a hash".into(), "x").await);
    }
}
