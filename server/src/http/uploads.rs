//! CSV import form posts: plain HTML forms (multipart upload, mapping), so they work the same
//! with and without JavaScript. Each answers with a redirect to the import's page; a problem
//! goes back to the form as a code (`?error=not_utf8&line=3`) that the page puts in words, so
//! a link can never make the page say something of its own.

use crate::http::AppState;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use herald_core::domain::access::Actor;
use herald_core::domain::ingest::{ColumnTarget, UploadProblem};
use herald_core::ingest::imports;

fn back(to: &str, problem: UploadProblem) -> Response {
    Redirect::to(&format!("{to}?{}", problem.to_query())).into_response()
}

/// The signed-in user acting, or the response to send instead.
async fn actor(state: &AppState, headers: &HeaderMap) -> Result<Actor, Response> {
    super::signed_in(state, headers)
        .await?
        .ok_or_else(|| Redirect::to("/login").into_response())
}

/// What a refusal from core answers: its words as a code, a 403 or a 404.
fn refused(page: &str, e: herald_core::Error, otherwise: UploadProblem) -> Response {
    match e {
        herald_core::Error::Upload(problem) => back(page, problem),
        herald_core::Error::Forbidden(message) => (StatusCode::FORBIDDEN, message).into_response(),
        herald_core::Error::NotFound(_) => StatusCode::NOT_FOUND.into_response(),
        e => {
            tracing::error!(error = %e, "an import form failed");
            back(page, otherwise)
        }
    }
}

pub async fn upload_contacts(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let actor = match actor(&state, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let page = "/contacts/import";
    let Ok(mut multipart) = multipart else {
        return back(page, UploadProblem::NoFile);
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or("upload.csv").to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes.to_vec())),
                    Err(_) => return back(page, UploadProblem::Interrupted),
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return back(page, UploadProblem::Interrupted),
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return back(page, UploadProblem::NoFile);
    };
    match imports::upload(&state.herald.db, &actor, &name, &bytes).await {
        Ok(id) => Redirect::to(&format!("/contacts/import/{id}")).into_response(),
        Err(e) => refused(page, e, UploadProblem::StoreFailed),
    }
}

pub async fn start_import(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let actor = match actor(&state, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let page = format!("/contacts/import/{id}");
    let Ok(axum::Form(fields)) = form else {
        return back(&page, UploadProblem::FormUnreadable);
    };
    // Fields col0, col1, ... in any order.
    let mut columns: Vec<(usize, ColumnTarget)> = Vec::new();
    for (name, value) in fields {
        let Some(i) = name.strip_prefix("col").and_then(|i| i.parse().ok()) else {
            continue;
        };
        match ColumnTarget::from_form(&value) {
            Some(t) => columns.push((i, t)),
            None => return back(&page, UploadProblem::UnknownField),
        }
    }
    columns.sort_by_key(|(i, _)| *i);
    if columns.iter().enumerate().any(|(n, (i, _))| n != *i) {
        return back(&page, UploadProblem::Incomplete);
    }
    let mapping = columns.into_iter().map(|(_, t)| t).collect();
    match imports::start(&state.herald, &actor, id, mapping).await {
        Ok(()) => Redirect::to(&page).into_response(),
        Err(e) => refused(&page, e, UploadProblem::StartFailed),
    }
}

pub async fn import_errors_csv(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let actor = match actor(&state, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match imports::errors_csv(&state.herald.db, &actor, id).await {
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
        Err(herald_core::Error::Forbidden(message)) => {
            (StatusCode::FORBIDDEN, message).into_response()
        }
        Err(herald_core::Error::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error report failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
