//! Request plumbing for server functions (server only).

use crate::error::AppError;
use herald_core::auth::sessions::SESSION_COOKIE;
use herald_core::domain::CurrentUser;
use herald_core::domain::access::Actor;
use herald_core::{ClientIp, Herald};
use http::header::{ACCEPT, COOKIE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

pub fn herald() -> Result<Herald, AppError> {
    use_context::<Herald>().ok_or_else(|| {
        tracing::error!("Herald state missing from the server function context");
        AppError::Internal(error_reference())
    })
}

pub fn error_reference() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = chrono::Utc::now().timestamp_millis() as u64;
    format!("E{:X}", (t << 8) ^ n)
}

/// Sets the response status, except for plain HTML form posts (no JavaScript), which must stay
/// redirects back to the form so the browser shows it again with the error.
pub fn set_status(code: u16) {
    let (Some(parts), Some(res)) = (use_context::<Parts>(), use_context::<ResponseOptions>())
    else {
        return;
    };
    let accepts_html = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if parts.method == Method::POST && accepts_html {
        return;
    }
    if let Ok(code) = StatusCode::from_u16(code) {
        res.set_status(code);
    }
}

pub fn session_token() -> Option<String> {
    session_token_in(&use_context::<Parts>()?.headers)
}

/// The session cookie's value in request headers.
pub fn session_token_in(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|header| {
            header.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_owned())
            })
        })
}

pub fn client_ip() -> String {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<ClientIp>().cloned())
        .map(|ip| ip.0)
        .unwrap_or_else(|| "unknown".into())
}

/// The signed-in user of one request, looked up once: a server-rendered page asks for it in
/// the shell and again in each server function it calls.
#[derive(Clone, Debug, Default)]
pub struct RequestSession(std::sync::Arc<std::sync::OnceLock<Option<CurrentUser>>>);

/// What every request's reactive context holds; the server provides it per request.
pub fn provide_request_context(herald: Herald) {
    provide_context(herald);
    provide_context(RequestSession::default());
    provide_context(RequestSnapshot::default());
}

/// What one request has read, by key: see [`snapshot`].
#[derive(Clone, Default)]
pub struct RequestSnapshot(Arc<Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>>);

/// Loads `key` once per request: later calls with the same key, and calls made while the first
/// is still loading, answer the first call's result.
///
/// A server-rendered page must read one state of data that changes while it is open (an import
/// in progress, a campaign sending). Leptos builds a page under the shell's `<Suspense>` more
/// than once on the server (its `dry_resolve` re-runs child closures to find their resources),
/// so each page resource is created and fetched twice; the HTML came from one fetch and the
/// data the browser hydrates with from the other, and when the state changed in between the
/// browser's view no longer matched the HTML and hydration panicked. Through the snapshot both
/// see one state (and the database is asked once).
pub async fn snapshot<T, F>(key: String, load: impl FnOnce() -> F) -> Result<T, AppError>
where
    T: Clone + Send + Sync + 'static,
    F: Future<Output = Result<T, AppError>>,
{
    type Cell<T> = tokio::sync::OnceCell<Result<T, AppError>>;
    let Some(snapshot) = use_context::<RequestSnapshot>() else {
        return load().await;
    };
    let cell = {
        let mut map = snapshot.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(key).or_insert_with(|| Arc::new(Cell::<T>::new()));
        Arc::clone(entry).downcast::<Cell<T>>()
    };
    match cell {
        Ok(cell) => cell.get_or_init(load).await.clone(),
        // The key was used for another type: a programming error, but never a wrong answer.
        Err(_) => load().await,
    }
}

/// The signed-in user, if any.
pub async fn current_user(h: &Herald) -> Result<Option<CurrentUser>, AppError> {
    let cache = use_context::<RequestSession>();
    if let Some(user) = cache.as_ref().and_then(|c| c.0.get()) {
        return Ok(user.clone());
    }
    let user = match session_token() {
        Some(token) => herald_core::auth::sessions::user_for_session(&h.db, &token).await?,
        None => None,
    };
    if let Some(cache) = cache {
        let _ = cache.0.set(user.clone());
    }
    Ok(user)
}

/// The state and the signed-in user acting, or `Unauthenticated`. What they may do is
/// decided by `herald_core` (its functions take the actor), not here.
pub async fn require_actor() -> Result<(Herald, Actor), AppError> {
    let h = herald()?;
    match current_user(&h).await? {
        Some(user) => Ok((h, Actor::User(user))),
        None => Err(herald_core::Error::Unauthenticated.into()),
    }
}

fn set_cookie(h: &Herald, value: &str, max_age_seconds: i64) {
    let secure = if h.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    );
    if let (Some(res), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&cookie),
    ) {
        res.append_header(SET_COOKIE, value);
    }
}

pub fn set_session_cookie(h: &Herald, token: &str) {
    set_cookie(
        h,
        token,
        herald_core::auth::sessions::SESSION_IDLE_DAYS * 24 * 3600,
    );
}

pub fn clear_session_cookie(h: &Herald) {
    set_cookie(h, "", 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_request_loads_each_key_once_even_while_the_first_load_is_running() {
        let owner = Owner::new();
        owner.set();
        provide_context(RequestSnapshot::default());
        let loads = Arc::new(AtomicU32::new(0));
        let load = |value: u32| {
            let loads = Arc::clone(&loads);
            move || async move {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok::<_, AppError>(value)
            }
        };
        // Two readings of one key at once (a page built twice), then a third: the first's answer.
        let (a, b) = tokio::join!(
            snapshot("job/1".into(), load(1)),
            snapshot("job/1".into(), load(2))
        );
        let c = snapshot("job/1".into(), load(3)).await;
        assert_eq!((a, b, c), (Ok(1), Ok(1), Ok(1)));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // Another key is another reading; so is a key asked for as another type.
        assert_eq!(snapshot("job/2".into(), load(4)).await, Ok(4));
        let other = snapshot("job/1".into(), || async { Ok::<_, AppError>("text") }).await;
        assert_eq!(other, Ok("text"));
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        // Another request (its own snapshot) reads again.
        provide_context(RequestSnapshot::default());
        assert_eq!(snapshot("job/1".into(), load(5)).await, Ok(5));
    }
}
