//! `/u/{token}`: unsubscribing from a message's link, for anyone on the internet.
//!
//! - `POST` with `List-Unsubscribe=One-Click` (RFC 8058, sent by mail providers on the
//!   recipient's behalf, form-encoded or multipart) withdraws consent for the message's type at
//!   once and answers 200: no cookie, no sign-in, no redirect.
//! - `GET` never changes anything (link scanners fetch every URL in a message): it shows a
//!   button that unsubscribes and a small preference centre, plain HTML forms that work without
//!   JavaScript.
//! - `POST` from that page applies the button or the preferences.
//!
//! A token that does not verify, and one whose message is gone, get a plain 404. Bodies are
//! bounded; nothing from the request is echoed without escaping.

use crate::http::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use herald_core::delivery::unsubscribe::{self, Preferences};
use herald_core::domain::MessageType;

/// Larger bodies are not an unsubscribe.
const MAX_BODY: usize = 8 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/u/{token}", get(page).post(submit))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found").into_response()
}

fn private(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The token is in the URL: it goes nowhere else.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

fn failed(e: herald_core::Error) -> Response {
    match e {
        herald_core::Error::NotFound(_) => not_found(),
        e => {
            tracing::error!(error = %e, "unsubscribe");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong; please try again.",
            )
                .into_response()
        }
    }
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let h = &state.herald;
    match unsubscribe::preferences(&h.db, &h.settings.secret_key, &token).await {
        Ok(p) => private(Html(render(&p, None)).into_response()),
        Err(e) => failed(e),
    }
}

/// Whether a body is RFC 8058's one-click request, form-encoded or multipart.
fn is_one_click(body: &str) -> bool {
    body.split('&')
        .any(|pair| pair.trim() == "List-Unsubscribe=One-Click")
        || (body.contains("name=\"List-Unsubscribe\"") && body.contains("One-Click"))
}

async fn submit(State(state): State<AppState>, Path(token): Path<String>, body: Bytes) -> Response {
    let h = &state.herald;
    let key = &h.settings.secret_key;
    let now = h.now();
    let text = String::from_utf8_lossy(&body);
    if is_one_click(&text) {
        return match unsubscribe::one_click(&h.db, key, &token, now).await {
            Ok(_) => private((StatusCode::OK, "You are unsubscribed.").into_response()),
            Err(e) => failed(e),
        };
    }
    let form: Vec<(String, String)> = match serde_urlencoded::from_str(&text) {
        Ok(form) => form,
        Err(_) => {
            return (StatusCode::BAD_REQUEST, "The form could not be read.").into_response();
        }
    };
    let field = |name: &str| form.iter().any(|(k, _)| k == name);
    let (marketing, newsletter, said) = if field("unsubscribe") {
        let p = match unsubscribe::one_click(&h.db, key, &token, now).await {
            Ok(p) => p,
            Err(e) => return failed(e),
        };
        let what = label(p.message_type);
        return private(
            Html(render(
                &p,
                Some(&format!("You will no longer receive {what}.")),
            ))
            .into_response(),
        );
    } else if field("save") {
        (
            Some(field("marketing")),
            Some(field("newsletter")),
            "Your preferences are saved.",
        )
    } else {
        return (StatusCode::BAD_REQUEST, "Nothing to change.").into_response();
    };
    match unsubscribe::set(&h.db, key, &token, marketing, newsletter, now).await {
        Ok(p) => private(Html(render(&p, Some(said))).into_response()),
        Err(e) => failed(e),
    }
}

fn label(t: MessageType) -> &'static str {
    match t {
        MessageType::Newsletter => "newsletters",
        _ => "marketing messages",
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The page: what the person receives, a button, the preferences, and `said` after a change.
fn render(p: &Preferences, said: Option<&str>) -> String {
    let org = escape(&p.organisation);
    let what = label(p.message_type);
    let checked = |on: Option<bool>| if on.unwrap_or(false) { " checked" } else { "" };
    let notice = said
        .map(|s| format!("<p role=\"status\" class=\"notice\">{}</p>", escape(s)))
        .unwrap_or_default();
    let body = if p.marketing.is_none() {
        // A seed copy: no contact behind it.
        "<p>This copy went to a seed address, which receives every send to check it. Ask the \
         sender to remove the address from their seed list.</p>"
            .to_owned()
    } else {
        format!(
            "<form method=\"post\"><button type=\"submit\" name=\"unsubscribe\" value=\"1\">\
             Unsubscribe from {what}</button></form>\
             <h2>What you receive from {org}</h2>\
             <form method=\"post\">\
             <label><input type=\"checkbox\" name=\"marketing\"{m}> Marketing messages</label>\
             <label><input type=\"checkbox\" name=\"newsletter\"{n}> Newsletters</label>\
             <p class=\"hint\">Messages about your account and your records are not affected.</p>\
             <button type=\"submit\" name=\"save\" value=\"1\">Save preferences</button></form>",
            m = checked(p.marketing),
            n = checked(p.newsletter),
        )
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>Email preferences · {org}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;\
         color:#1f2937}}label{{display:block;margin:.5rem 0}}button{{padding:.5rem 1rem;\
         margin:.5rem 0}}.notice{{background:#ecfdf5;padding:.75rem;border-radius:.25rem}}\
         .hint{{color:#6b7280;font-size:.9rem}}</style></head><body>\
         <h1>Email preferences</h1>{notice}{body}</body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_click_bodies() {
        for (body, expected) in [
            ("List-Unsubscribe=One-Click", true),
            ("List-Unsubscribe=One-Click&x=1", true),
            (
                "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--",
                true,
            ),
            ("", false),
            ("unsubscribe=1", false),
            ("List-Unsubscribe=Other", false),
        ] {
            assert_eq!(is_one_click(body), expected, "{body:?}");
        }
    }

    #[test]
    fn the_page_escapes_the_organisation() {
        let p = Preferences {
            organisation: "<script>alert(1)</script> & Co".into(),
            message_type: MessageType::Newsletter,
            marketing: Some(true),
            newsletter: Some(false),
        };
        let html = render(&p, Some("Saved <b>"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(html.contains("Saved &lt;b&gt;"));
        assert!(html.contains("Unsubscribe from newsletters"));
        assert!(html.contains("name=\"marketing\" checked"));
        assert!(!html.contains("name=\"newsletter\" checked"));
    }
}
