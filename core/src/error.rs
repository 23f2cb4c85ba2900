//! The core's error type. Variants a person can act on carry a message for them; everything
//! else is `Internal` and is logged in full but shown opaquely.

use crate::domain::access::Denied;
use crate::domain::{InvalidEmail, PasswordPolicyError, UnknownValue};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not signed in")]
    Unauthenticated,
    /// The acting party may not do this; the message says why.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input is wrong; the message says how, in words a user understands.
    #[error("{0}")]
    Invalid(String),
    /// A CSV upload or mapping that cannot be imported (a closed list, so a page can show it
    /// from a code).
    #[error("{}", .0.message(&[]))]
    Upload(crate::domain::ingest::UploadProblem),
    #[error("too many attempts; try again in {minutes} minutes")]
    RateLimited { minutes: i64 },
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("corrupt stored value: {0}")]
    Corrupt(#[from] UnknownValue),
    #[error("{0}")]
    Internal(String),
}

impl From<Denied> for Error {
    fn from(e: Denied) -> Self {
        Error::Forbidden(e.message)
    }
}

impl From<InvalidEmail> for Error {
    fn from(e: InvalidEmail) -> Self {
        Error::Invalid(format!("Invalid email address: {e}."))
    }
}

impl From<PasswordPolicyError> for Error {
    fn from(e: PasswordPolicyError) -> Self {
        let mut msg = e.to_string();
        if let Some(first) = msg.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        Error::Invalid(format!("{msg}."))
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(e: sea_orm::TransactionError<Error>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(e) => Error::Db(e),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}
