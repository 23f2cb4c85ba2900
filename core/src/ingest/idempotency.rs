//! Idempotency keys: a request sent again with the same `Idempotency-Key` gets the first answer
//! back and changes nothing. The key is written in the same transaction as the request's
//! effects, so either both are stored or neither: a request that failed can be retried with
//! its key, and two copies racing each other cannot both take effect (the second one's insert
//! of the key conflicts, its transaction rolls back, and it answers with the first's result).

use crate::domain::access::Actor;
use crate::entity::idempotency_key;
use crate::{Error, Result};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};

/// A stored answer: status code and JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// This answer was stored by an earlier request with the same key.
    pub replayed: bool,
}

pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::Invalid(
            "Idempotency-Key must be 1 to 200 visible ASCII characters.".into(),
        ));
    }
    Ok(())
}

fn fingerprint(endpoint: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(endpoint.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn stored(
    db: &impl ConnectionTrait,
    org_id: i64,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Answer>> {
    let Some(row) = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::OrgId.eq(org_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.request_hash != fingerprint {
        return Err(Error::Invalid(
            "This Idempotency-Key was already used for a different request; use a new key.".into(),
        ));
    }
    Ok(Some(Answer {
        status: row.status_code as u16,
        body: row.response_body,
        replayed: true,
    }))
}

/// Runs `work` in a transaction. With a key: answers a repeated request from the stored answer,
/// and stores successful (2xx) answers together with their effects. Answers that are not 2xx
/// roll back whatever `work` did and are not stored.
pub async fn run<F>(
    db: &DatabaseConnection,
    actor: &Actor,
    key: Option<&str>,
    endpoint: &str,
    body: &[u8],
    work: F,
) -> Result<Answer>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<(u16, String)>,
{
    let org_id = actor.org_id();
    let fp = fingerprint(endpoint, body);
    let _writer = crate::db::write_lock(db).await;
    if let Some(key) = key {
        check_key(key)?;
        if let Some(answer) = stored(db, org_id, key, &fp).await? {
            return Ok(answer);
        }
    }
    let tx = crate::db::begin_write(db).await?;
    let (status, body) = work(&tx).await?;
    if !(200..300).contains(&status) {
        tx.rollback().await?;
        return Ok(Answer {
            status,
            body,
            replayed: false,
        });
    }
    if let Some(key) = key {
        let inserted = idempotency_key::ActiveModel {
            org_id: Set(org_id),
            key: Set(key.to_owned()),
            endpoint: Set(endpoint.to_owned()),
            request_hash: Set(fp.clone()),
            status_code: Set(i32::from(status)),
            response_body: Set(body.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&tx)
        .await;
        if let Err(e) = inserted {
            // Most likely a copy of this request committed first: answer with its result.
            tx.rollback().await.ok();
            if let Some(answer) = stored(db, org_id, key, &fp).await? {
                return Ok(answer);
            }
            return Err(e.into());
        }
    }
    let committed = tx.commit().await;
    if let Err(e) = committed {
        if let Some(key) = key
            && let Some(answer) = stored(db, org_id, key, &fp).await?
        {
            return Ok(answer);
        }
        return Err(e.into());
    }
    Ok(Answer {
        status,
        body,
        replayed: false,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys() {
        for (key, ok) in [
            ("8f14e45f-ceea-467f-a8f7-5d1e9b0b6a2c", true),
            ("retry-1", true),
            ("", false),
            ("has space", false),
            ("ключ", false),
        ] {
            assert_eq!(super::check_key(key).is_ok(), ok, "{key:?}");
        }
        assert!(super::check_key(&"k".repeat(201)).is_err());
    }

    #[test]
    fn fingerprints_differ_by_endpoint_and_body() {
        let a = super::fingerprint("contacts", b"{}");
        assert_eq!(a, super::fingerprint("contacts", b"{}"));
        assert_ne!(a, super::fingerprint("events", b"{}"));
        assert_ne!(a, super::fingerprint("contacts", b"{ }"));
    }
}
