//! What every request passes through: the client's address (behind trusted proxies, see
//! [`super::client_ip`]), and the refusal of cross-site requests that would use the session
//! cookie.

use super::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use herald_core::ClientIp;
use std::net::SocketAddr;

pub async fn client_ip(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let ip = match peer {
        Some(peer) => {
            let forwarded: Vec<&str> = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            state.trusted_proxies.client(peer, &forwarded).to_string()
        }
        None => "unknown".into(),
    };
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

/// The answer to a request whose handler panicked: a 500 in JSON (what API clients expect; a
/// browser shows it as text), with a reference to find the panic in the log.
pub fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    let reference = format!("{:08x}", rand::random::<u32>());
    tracing::error!(reference, panic = detail, "a request handler panicked");
    let body = serde_json::json!({"error": {"code": "internal", "message": format!("Something went wrong on our side (reference {reference}).")}});
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Cross-site request protection for everything that changes data with the session cookie
/// (server functions, form posts): a browser always says where a POST comes from (`Origin`, or
/// `Sec-Fetch-Site`); one from another site is refused. Session cookies are also
/// `SameSite=Lax`. Requests without either header do not come from a browser and carry no
/// ambient credentials to abuse. The REST API authenticates with bearer keys, not cookies, and
/// is exempt.
pub async fn same_origin_posts(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let unsafe_method = req.method() != Method::GET && req.method() != Method::HEAD;
    let verdict = match unsafe_method && uses_session(req.uri().path()) {
        true => check_same_origin(req.headers(), &state.herald.settings.public_url),
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

/// The REST API (bearer keys), unsubscribe links (signed tokens, and RFC 8058 one-click POSTs
/// come from mail providers' servers), tracking URLs and provider webhooks (signed messages)
/// carry no session.
fn uses_session(path: &str) -> bool {
    !["/api/v1/", "/u/", "/o/", "/c/", "/v/", "/webhooks/"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// `scheme://host[:port]` in lower case, without the scheme's default port.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    let scheme = scheme.to_ascii_lowercase();
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("https", Some((host, "443"))) | ("http", Some((host, "80"))) => host.to_owned(),
        _ => authority,
    };
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// A browser's request is same-origin when its `Origin` is the origin of `HERALD_PUBLIC_URL`
/// (behind a reverse proxy that rewrites `Host`, that is the only way to tell), or names the
/// host it asked for directly (`Host`), as when the instance is reached by another name on a
/// local network.
pub fn check_same_origin(headers: &HeaderMap, public_url: &str) -> Result<(), &'static str> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| "unreadable Origin header")?;
        // "null" is sent by sandboxed frames and some redirects: never same-origin.
        let origin = origin_of(origin).ok_or("opaque origin")?;
        if origin_of(public_url).as_deref() == Some(origin.as_str()) {
            return Ok(());
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
        return match host {
            Some(host)
                if origin_of(&format!("x://{host}")).as_deref()
                    == Some(&format!("x://{origin_host}")) =>
            {
                Ok(())
            }
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
    fn behind_a_proxy_the_public_url_is_the_origin() {
        let public = "https://mail.example.org";
        let table: &[(&[(&str, &str)], bool)] = &[
            // The proxy rewrote Host to the internal address.
            (
                &[
                    ("host", "10.0.0.5:3000"),
                    ("origin", "https://mail.example.org"),
                ],
                true,
            ),
            (
                &[
                    ("host", "10.0.0.5:3000"),
                    ("origin", "https://MAIL.example.org:443"),
                ],
                true,
            ),
            (
                &[
                    ("host", "10.0.0.5:3000"),
                    ("origin", "http://mail.example.org"),
                ],
                false,
            ),
            (
                &[
                    ("host", "10.0.0.5:3000"),
                    ("origin", "https://evil.example"),
                ],
                false,
            ),
            (
                &[
                    ("host", "10.0.0.5:3000"),
                    ("origin", "https://mail.example.org.evil.example"),
                ],
                false,
            ),
        ];
        for (headers, allowed) in table {
            let mut map = HeaderMap::new();
            for (k, v) in *headers {
                map.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            assert_eq!(
                check_same_origin(&map, public).is_ok(),
                *allowed,
                "{headers:?}"
            );
        }
    }

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
            assert_eq!(
                check_same_origin(&map, "http://127.0.0.1:3000").is_ok(),
                *allowed,
                "{headers:?}"
            );
        }
    }
}
