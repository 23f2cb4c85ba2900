//! Signing in and browser sessions.
//!
//! Session tokens are 256 random bits; only their SHA-256 is stored, so a leaked database holds
//! no usable session. Sign-in attempts are recorded in the database (several instances share
//! the limits) and limited so that guessing is slow but the owner is never locked out:
//! - five failures for one account **from one client address** stop that address guessing that
//!   account for [`LOGIN_WINDOW_MINUTES`]; the owner, signing in from their own address, is
//!   not affected;
//! - thirty failures from one address stop it guessing any account;
//! - an account attacked from many addresses is slowed, not locked: past
//!   [`SLOW_AFTER_FAILURES`] failures in the window, each attempt from an address that has not
//!   signed in to it before waits longer ([`slow_down`]); addresses that signed in to it in the
//!   last [`KNOWN_ADDRESS_DAYS`] days are not slowed.

use super::accounts::{find_user_by_email, verify_password};
use crate::domain::CurrentUser;
use crate::entity::{app_user, login_attempt, organisation, session};
use crate::{Error, Result};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "herald_session";
/// Sessions end after this long without use.
pub const SESSION_IDLE_DAYS: i64 = 14;
/// Failed sign-ins allowed for one account from one client address in the window.
pub const MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: u64 = 5;
/// Failed sign-ins allowed from one client address, whatever the accounts, in the window.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 30;
/// Failures of one account, from all addresses, before attempts from new addresses are slowed.
pub const SLOW_AFTER_FAILURES: u64 = 10;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;
/// An address that signed in to an account within this many days is that account's own.
pub const KNOWN_ADDRESS_DAYS: i64 = 30;
/// The longest an attempt is held back.
pub const MAX_SLOW_DOWN_SECONDS: i64 = 8;

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

pub(crate) async fn start_session(
    db: &impl ConnectionTrait,
    user: &app_user::Model,
) -> Result<String> {
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
        role: user.role,
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

/// How long an attempt on an account with `failures` recent failures (from all addresses) is
/// held back, when it comes from an address the account has not signed in from: nothing up to
/// [`SLOW_AFTER_FAILURES`], then one more second for every five failures, up to
/// [`MAX_SLOW_DOWN_SECONDS`].
pub fn slow_down(failures: u64) -> Duration {
    match failures.checked_sub(SLOW_AFTER_FAILURES) {
        None => Duration::zero(),
        Some(over) => Duration::seconds(Ord::min(1 + (over / 5) as i64, MAX_SLOW_DOWN_SECONDS)),
    }
}

fn attempts(email: &str) -> sea_orm::Select<login_attempt::Entity> {
    login_attempt::Entity::find().filter(login_attempt::Column::Email.eq(email))
}

/// Checks `email` and `password`; on success starts a session. `ip` is the client's address,
/// used only for the limits described in the module comment.
pub async fn sign_in(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<SignedIn> {
    use login_attempt::Column as A;
    let email = email.trim().to_lowercase();
    let now = Utc::now();
    let window_start = now - Duration::minutes(LOGIN_WINDOW_MINUTES);
    let failed = |since: DateTime<Utc>| {
        login_attempt::Entity::find()
            .filter(A::Succeeded.eq(false))
            .filter(A::AttemptedAt.gt(since))
    };
    // Failures of this account from this address count from its last success from here, so
    // that a user who got in is not held back by their own earlier typos.
    let last_success_here = attempts(&email)
        .filter(A::Ip.eq(ip))
        .filter(A::Succeeded.eq(true))
        .filter(A::AttemptedAt.gt(now - Duration::days(KNOWN_ADDRESS_DAYS)))
        .count(db)
        .await?;
    let pair_since = match last_success_here {
        0 => window_start,
        _ => attempts(&email)
            .filter(A::Ip.eq(ip))
            .filter(A::Succeeded.eq(true))
            .filter(A::AttemptedAt.gt(window_start))
            .all(db)
            .await?
            .into_iter()
            .map(|a| a.attempted_at)
            .max()
            .unwrap_or(window_start),
    };
    let pair_failures = failed(pair_since)
        .filter(A::Email.eq(&email))
        .filter(A::Ip.eq(ip))
        .count(db)
        .await?;
    let address_failures = failed(window_start).filter(A::Ip.eq(ip)).count(db).await?;
    if pair_failures >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
        || address_failures >= MAX_FAILURES_PER_ADDRESS
    {
        return Err(Error::RateLimited {
            minutes: LOGIN_WINDOW_MINUTES,
        });
    }
    if last_success_here == 0 {
        let account_failures = failed(window_start)
            .filter(A::Email.eq(&email))
            .count(db)
            .await?;
        let wait = slow_down(account_failures);
        if wait > Duration::zero() {
            tracing::warn!(
                failures = account_failures,
                "sign-in attempts on one account from many addresses: slowing down"
            );
            tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
        }
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
    // Failures matter for the window; successes tell an account's own addresses for longer.
    login_attempt::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(A::Succeeded.eq(false))
                        .add(A::AttemptedAt.lt(now - Duration::days(1))),
                )
                .add(A::AttemptedAt.lt(now - Duration::days(KNOWN_ADDRESS_DAYS))),
        )
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
    fn attacks_from_many_addresses_are_slowed_not_locked() {
        for (failures, seconds) in [
            (0, 0),
            (9, 0),
            (10, 1),
            (14, 1),
            (15, 2),
            (40, 7),
            (45, 8),
            (10_000, 8),
        ] {
            assert_eq!(slow_down(failures).num_seconds(), seconds, "{failures}");
        }
    }
}
