//! The error every server function returns. Its text is what the user sees: never a database
//! message. Internal failures are logged in full on the server with a reference the user can
//! quote.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in.")]
    Unauthenticated,
    /// Not allowed; the message says what and why.
    #[error("{0}")]
    Forbidden(String),
    #[error("This {0} does not exist, or belongs to another organisation.")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("Too many attempts. Try again in {0} minutes.")]
    RateLimited(i64),
    #[error(
        "Something went wrong on our side. Please try again; if it persists, quote reference {0}."
    )]
    Internal(String),
    /// The request did not reach the server or its answer could not be read.
    #[error("Herald could not be reached ({0}). Check your connection and try again.")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => malformed(msg),
            // On the server, a decoding failure can only be the request's arguments.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(msg) => malformed(msg),
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// A request whose arguments could not be read: the client's mistake (400), said with the reason.
fn malformed(msg: String) -> AppError {
    #[cfg(feature = "ssr")]
    crate::api::ssr::set_status(400);
    AppError::Invalid(format!("The request is incomplete or malformed: {msg}"))
}

#[cfg(feature = "ssr")]
impl From<herald_core::Error> for AppError {
    fn from(e: herald_core::Error) -> Self {
        use herald_core::Error as E;
        let (status, app) = match e {
            E::Unauthenticated => (401, AppError::Unauthenticated),
            E::Forbidden(message) => (403, AppError::Forbidden(message)),
            E::NotFound(what) => (404, AppError::NotFound(what.to_owned())),
            E::Invalid(msg) => (422, AppError::Invalid(msg)),
            E::Upload(p) => (422, AppError::Invalid(p.message(&[]))),
            E::RateLimited { minutes } => (429, AppError::RateLimited(minutes)),
            other => {
                let reference = crate::api::ssr::error_reference();
                tracing::error!(reference, error = %other, "server function failed");
                (500, AppError::Internal(reference))
            }
        };
        crate::api::ssr::set_status(status);
        app
    }
}
