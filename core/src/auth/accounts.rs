//! Organisations, users, passwords and sessions.
//!
//! Passwords are hashed with argon2id. Session tokens are 256 random bits; only their SHA-256
//! is stored, so a leaked database holds no usable session. Failed sign-ins are recorded and
//! limited per address and per client address, in the database so that several instances share
//! the limit.

use crate::domain::{
    CurrentUser, EmailAddress, Role, UserSummary, check_new_password, check_org_slug,
};
use crate::entity::{app_user, login_attempt, organisation, session};
use crate::{Error, Result};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, RngCore};
use sea_orm::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "herald_session";
/// Sessions end after this long without use.
pub const SESSION_IDLE_DAYS: i64 = 14;
/// Failed sign-ins allowed per address in [`LOGIN_WINDOW_MINUTES`].
pub const MAX_FAILURES_PER_EMAIL: u64 = 5;
/// Failed sign-ins allowed per client address in [`LOGIN_WINDOW_MINUTES`].
pub const MAX_FAILURES_PER_IP: u64 = 30;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

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

async fn verify_password(hash: String, password: &str) -> bool {
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
        role: Set(new.role.as_str().to_owned()),
        password_hash: Set(hash_password(new.password).await?),
        password_changed_at: Set(now),
        created_at: Set(now),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

async fn find_user_by_email(
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

fn summary(u: app_user::Model) -> Result<UserSummary> {
    Ok(UserSummary {
        id: u.id,
        role: u.role.parse()?,
        email: u.email,
        name: u.name,
        created_at: u.created_at,
        last_login_at: u.last_login_at,
    })
}

fn require_admin(acting: &CurrentUser) -> Result<()> {
    if acting.is_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The users of the acting admin's organisation.
pub async fn list_users(db: &DatabaseConnection, acting: &CurrentUser) -> Result<Vec<UserSummary>> {
    require_admin(acting)?;
    app_user::Entity::find()
        .filter(app_user::Column::OrgId.eq(acting.org_id))
        .order_by_asc(app_user::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(summary)
        .collect()
}

/// Adds a user to the acting admin's organisation. Without a password, one is generated and
/// returned so it can be shown once.
pub async fn add_user(
    db: &DatabaseConnection,
    acting: &CurrentUser,
    email: &str,
    name: &str,
    role: Role,
    password: Option<&str>,
) -> Result<(UserSummary, Option<String>)> {
    require_admin(acting)?;
    let generated = password.is_none().then(generate_password);
    let password = password.or(generated.as_deref()).unwrap_or_default();
    let user = create_user(
        db,
        acting.org_id,
        NewUser {
            email,
            name,
            role,
            password,
        },
    )
    .await?;
    Ok((summary(user)?, generated))
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
        .filter(app_user::Column::Role.eq(Role::Admin.as_str()))
        .count(db)
        .await?)
}

pub async fn set_role(
    db: &DatabaseConnection,
    acting: &CurrentUser,
    user_id: i64,
    role: Role,
) -> Result<()> {
    require_admin(acting)?;
    let user = org_user(db, acting.org_id, user_id).await?;
    if user.role == Role::Admin.as_str()
        && role != Role::Admin
        && admins_in(db, acting.org_id).await? <= 1
    {
        return Err(Error::Invalid(
            "An organisation needs at least one admin.".into(),
        ));
    }
    let mut active: app_user::ActiveModel = user.into();
    active.role = Set(role.as_str().to_owned());
    active.update(db).await?;
    Ok(())
}

pub async fn remove_user(
    db: &DatabaseConnection,
    acting: &CurrentUser,
    user_id: i64,
) -> Result<()> {
    require_admin(acting)?;
    if user_id == acting.user_id {
        return Err(Error::Invalid("You cannot remove your own account.".into()));
    }
    let user = org_user(db, acting.org_id, user_id).await?;
    // Sessions go with the user (ON DELETE CASCADE); campaigns keep their history.
    app_user::Entity::delete_by_id(user.id).exec(db).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sessions

pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn start_session(db: &impl ConnectionTrait, user: &app_user::Model) -> Result<String> {
    let token = new_token();
    let now = Utc::now();
    session::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(user.id),
        org_id: Set(user.org_id),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(SESSION_IDLE_DAYS)),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

async fn current_user(db: &impl ConnectionTrait, user: app_user::Model) -> Result<CurrentUser> {
    let org = organisation::Entity::find_by_id(user.org_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("organisation"))?;
    Ok(CurrentUser {
        user_id: user.id,
        org_id: org.id,
        org_slug: org.slug,
        org_name: org.name,
        role: user.role.parse()?,
        email: user.email,
        name: user.name,
    })
}

/// A successful sign-in: the session token for the cookie, and who signed in.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub user: CurrentUser,
}

async fn failures_since(
    db: &DatabaseConnection,
    column: login_attempt::Column,
    value: &str,
    since: DateTime<Utc>,
) -> Result<u64> {
    Ok(login_attempt::Entity::find()
        .filter(column.eq(value))
        .filter(login_attempt::Column::Succeeded.eq(false))
        .filter(login_attempt::Column::AttemptedAt.gt(since))
        .count(db)
        .await?)
}

/// Checks `email` and `password`; on success starts a session. `ip` is the client's address,
/// used only for rate limiting.
pub async fn sign_in(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<SignedIn> {
    let email = email.trim().to_lowercase();
    let now = Utc::now();
    let window_start = now - Duration::minutes(LOGIN_WINDOW_MINUTES);
    // Failures count from the last success for this address, so that a user who got in is not
    // locked out by their earlier typos.
    let last_success = login_attempt::Entity::find()
        .filter(login_attempt::Column::Email.eq(&email))
        .filter(login_attempt::Column::Succeeded.eq(true))
        .filter(login_attempt::Column::AttemptedAt.gt(window_start))
        .order_by_desc(login_attempt::Column::AttemptedAt)
        .one(db)
        .await?
        .map(|a| a.attempted_at);
    let email_failures = failures_since(
        db,
        login_attempt::Column::Email,
        &email,
        last_success.unwrap_or(window_start),
    )
    .await?;
    let ip_failures = failures_since(db, login_attempt::Column::Ip, ip, window_start).await?;
    if email_failures >= MAX_FAILURES_PER_EMAIL || ip_failures >= MAX_FAILURES_PER_IP {
        return Err(Error::RateLimited {
            minutes: LOGIN_WINDOW_MINUTES,
        });
    }

    let user = find_user_by_email(db, &email).await?;
    // Verify against a fixed hash when the user is unknown, so timing does not reveal accounts.
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Gq4D9cYhG0uRi2E4tP2rRxIuR5dK4h1n2Uo8o1HJm3k";
    let hash = user
        .as_ref()
        .map_or(DUMMY.to_owned(), |u| u.password_hash.clone());
    let ok = verify_password(hash, password).await && user.is_some();

    login_attempt::ActiveModel {
        email: Set(email),
        ip: Set(ip.to_owned()),
        succeeded: Set(ok),
        attempted_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::AttemptedAt.lt(now - Duration::days(1)))
        .exec(db)
        .await?;

    match user {
        Some(user) if ok => {
            let token = start_session(db, &user).await?;
            let mut active: app_user::ActiveModel = user.clone().into();
            active.last_login_at = Set(Some(now));
            let user = active.update(db).await?;
            Ok(SignedIn {
                token,
                user: current_user(db, user).await?,
            })
        }
        _ => Err(Error::Invalid("Wrong email address or password.".into())),
    }
}

/// The user a session token belongs to, if the session is still valid. Extends the session.
pub async fn user_for_session(db: &DatabaseConnection, token: &str) -> Result<Option<CurrentUser>> {
    let now = Utc::now();
    let Some(session) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if session.expires_at <= now {
        session::Entity::delete_by_id(session.id).exec(db).await?;
        return Ok(None);
    }
    let Some(user) = app_user::Entity::find_by_id(session.user_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // Sliding expiry, written at most every few minutes rather than on every request.
    if now - session.last_seen_at > Duration::minutes(5) {
        let mut active: session::ActiveModel = session.into();
        active.last_seen_at = Set(now);
        active.expires_at = Set(now + Duration::days(SESSION_IDLE_DAYS));
        active.update(db).await?;
    }
    Ok(Some(current_user(db, user).await?))
}

pub async fn sign_out(db: &DatabaseConnection, token: &str) -> Result<()> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .exec(db)
        .await?;
    Ok(())
}

/// Changes the user's password and ends all their sessions, then starts a new one for the
/// browser that made the change; returns its token.
pub async fn change_password(
    db: &DatabaseConnection,
    acting: &CurrentUser,
    current: &str,
    new: &str,
) -> Result<String> {
    let user = org_user(db, acting.org_id, acting.user_id).await?;
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
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in unpadded base64url");
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(token_hash(&a).len(), 64);
    }

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
