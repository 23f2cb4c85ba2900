//! What every request passes through: the client's address, and the refusal of cross-site
//! requests that would use the session cookie.

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use herald_core::ClientIp;
use std::net::SocketAddr;

pub async fn client_ip(mut req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

/// Cross-site request protection for everything that changes data with the session cookie
/// (server functions, form posts): a browser always says where a POST comes from (`Origin`, or
/// `Sec-Fetch-Site`); one from another site is refused. Session cookies are also
/// `SameSite=Lax`. Requests without either header do not come from a browser and carry no
/// ambient credentials to abuse. The REST API authenticates with bearer keys, not cookies, and
/// is exempt.
pub async fn same_origin_posts(req: Request, next: Next) -> Response {
    let unsafe_method = req.method() != Method::GET && req.method() != Method::HEAD;
    let verdict = match unsafe_method && uses_session(req.uri().path()) {
        true => check_same_origin(req.headers()),
        false => Ok(()),
    };
    if let Err(reason) = verdict {
        tracing::warn!(
            path = req.uri().path(),
            reason,
            "refused a cross-site request"
        );
        let body = Body::from(format!("Cross-site request refused: {reason}."));
        return (StatusCode::FORBIDDEN, body).into_response();
    }
    next.run(req).await
}

fn uses_session(path: &str) -> bool {
    !path.starts_with("/api/v1/")
}

pub fn check_same_origin(headers: &HeaderMap) -> Result<(), &'static str> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| "unreadable Origin header")?;
        // "null" is sent by sandboxed frames and some redirects: never same-origin.
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .ok_or("opaque origin")?;
        return match host {
            Some(host) if host.eq_ignore_ascii_case(origin_host) => Ok(()),
            _ => Err("the Origin header names another site"),
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin") | Some("none") => Ok(()),
        Some(_) => Err("Sec-Fetch-Site says another site"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn same_origin_rule() {
        let table: &[(&[(&str, &str)], bool)] = &[
            (
                &[
                    ("host", "herald.example"),
                    ("origin", "https://herald.example"),
                ],
                true,
            ),
            (
                &[
                    ("host", "127.0.0.1:3000"),
                    ("origin", "http://127.0.0.1:3000"),
                ],
                true,
            ),
            (
                &[
                    ("host", "herald.example"),
                    ("origin", "https://evil.example"),
                ],
                false,
            ),
            (
                &[
                    ("host", "herald.example"),
                    ("origin", "https://herald.example.evil.example"),
                ],
                false,
            ),
            (
                &[
                    ("host", "127.0.0.1:3000"),
                    ("origin", "http://127.0.0.1:3001"),
                ],
                false,
            ),
            (&[("host", "herald.example"), ("origin", "null")], false),
            (&[("origin", "https://herald.example")], false),
            (
                &[
                    ("host", "herald.example"),
                    ("sec-fetch-site", "same-origin"),
                ],
                true,
            ),
            (
                &[("host", "herald.example"), ("sec-fetch-site", "cross-site")],
                false,
            ),
            (
                &[("host", "herald.example"), ("sec-fetch-site", "same-site")],
                false,
            ),
            (&[("host", "herald.example")], true), // not a browser: no ambient credentials
        ];
        for (headers, allowed) in table {
            let mut map = HeaderMap::new();
            for (k, v) in *headers {
                map.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            assert_eq!(check_same_origin(&map).is_ok(), *allowed, "{headers:?}");
        }
    }
}
