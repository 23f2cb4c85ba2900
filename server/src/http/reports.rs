//! Report downloads: a campaign's per-recipient table as CSV, with the page's filter, search and
//! sort (`/campaigns/{id}/recipients.csv?filter=opened&sort=opens&desc=true&search=…`).

use crate::http::{AppState, signed_in};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_core::domain::reports::RecipientQuery;
use std::collections::HashMap;

/// The table's query from the page's parameters; a value that names nothing is refused.
pub fn query_of(params: &HashMap<String, String>) -> Result<RecipientQuery, String> {
    let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    Ok(RecipientQuery {
        filter: get("filter")
            .map(|f| f.parse().map_err(|_| format!("Unknown filter {f:?}.")))
            .transpose()?,
        sort: get("sort")
            .map(|s| s.parse().map_err(|_| format!("Unknown sort {s:?}.")))
            .transpose()?,
        desc: get("desc") == Some("true"),
        search: get("search")
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect(),
        page: get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
    })
}

pub async fn recipients_csv(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let actor = match signed_in(&state, &headers).await {
        Ok(Some(a)) => a,
        Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        Err(r) => return r,
    };
    let q = match query_of(&params) {
        Ok(q) => q,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    match herald_core::reports::recipients_csv(&state.herald.db, &actor, id, &q).await {
        Ok(csv) => {
            let mut r = csv.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "attachment; filename=\"campaign-{id}-recipients.csv\""
            )) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(herald_core::Error::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(herald_core::Error::Forbidden(m)) => (StatusCode::FORBIDDEN, m).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "recipients CSV");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
