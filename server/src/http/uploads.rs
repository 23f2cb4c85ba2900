//! CSV import form posts: plain HTML forms (multipart upload, mapping), so they work the same
//! with and without JavaScript. Each answers with a redirect to the import's page; a problem
//! goes back to the form as `?error=` for the page to show.

use crate::http::AppState;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use herald_core::domain::ingest::ColumnTarget;
use herald_core::domain::{CurrentUser, Role};
use herald_core::ingest::imports;

fn back(to: &str, error: &str) -> Response {
    Redirect::to(&format!(
        "{to}?error={}",
        app::pages::contacts::encode(error)
    ))
    .into_response()
}

/// The signed-in user who may import (admins and marketers), or the response to send instead.
async fn importer(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, Response> {
    let user = match app::api::ssr::session_token_in(headers) {
        Some(token) => herald_core::auth::accounts::user_for_session(&state.herald.db, &token)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "session lookup failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            })?,
        None => None,
    };
    match user {
        None => Err(Redirect::to("/login").into_response()),
        Some(u) if u.role == Role::Member => Err((
            StatusCode::FORBIDDEN,
            "Account managers cannot import contacts.",
        )
            .into_response()),
        Some(u) => Ok(u),
    }
}

pub async fn upload_contacts(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let user = match importer(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(mut multipart) = multipart else {
        return back("/contacts/import", "Choose a CSV file to upload.");
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or("upload.csv").to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes.to_vec())),
                    Err(_) => {
                        return back(
                            "/contacts/import",
                            "The upload was interrupted or is larger than 20 MB.",
                        );
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                return back(
                    "/contacts/import",
                    "The upload was interrupted or is larger than 20 MB.",
                );
            }
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return back("/contacts/import", "Choose a CSV file to upload.");
    };
    match imports::upload(
        &state.herald.db,
        user.org_id,
        Some(user.user_id),
        &name,
        &bytes,
    )
    .await
    {
        Ok(id) => Redirect::to(&format!("/contacts/import/{id}")).into_response(),
        Err(herald_core::Error::Invalid(message)) => back("/contacts/import", &message),
        Err(e) => {
            tracing::error!(error = %e, "upload failed");
            back(
                "/contacts/import",
                "The file could not be stored; try again.",
            )
        }
    }
}

pub async fn start_import(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let user = match importer(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let page = format!("/contacts/import/{id}");
    let Ok(axum::Form(fields)) = form else {
        return back(&page, "The mapping form could not be read.");
    };
    // Fields col0, col1, ... in any order.
    let mut columns: Vec<(usize, ColumnTarget)> = Vec::new();
    for (name, value) in fields {
        let Some(i) = name.strip_prefix("col").and_then(|i| i.parse().ok()) else {
            continue;
        };
        match ColumnTarget::from_form(&value) {
            Some(t) => columns.push((i, t)),
            None => return back(&page, &format!("Unknown field “{value}” in the mapping.")),
        }
    }
    columns.sort_by_key(|(i, _)| *i);
    if columns.iter().enumerate().any(|(n, (i, _))| n != *i) {
        return back(&page, "The mapping form is incomplete; reload the page.");
    }
    let mapping = columns.into_iter().map(|(_, t)| t).collect();
    match imports::start(&state.herald.db, user.org_id, id, mapping).await {
        Ok(()) => Redirect::to(&page).into_response(),
        Err(herald_core::Error::Invalid(message)) => back(&page, &message),
        Err(herald_core::Error::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "starting an import failed");
            back(&page, "The import could not be started; try again.")
        }
    }
}

pub async fn import_errors_csv(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let user = match importer(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match imports::errors_csv(&state.herald.db, user.org_id, id).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"import-{id}-errors.csv\""),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(herald_core::Error::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error report failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
