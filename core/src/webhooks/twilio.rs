//! SMS delivery receipts from a Twilio-style provider (the one [`crate::delivery::provider`]'s
//! `SmsHttp` sends through): status callbacks are form posts signed with the account's auth
//! token in `X-Twilio-Signature`, base64(HMAC-SHA1(token, URL + each parameter's name and
//! value, sorted by name)).
//!
//! The URL must be the one the provider posted to, exactly as it was given to it (scheme, host,
//! port, path and query): behind a proxy, rebuild it from the public URL, not from the request.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut mac =
        HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    // Sorted by name (byte order, as Twilio's "Unix-style case-sensitive" sort), and a repeated
    // name by value.
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature of a callback to `url` with the POST parameters `params` (in any order).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `header` (the `X-Twilio-Signature`) signs this callback; compared in constant time.
/// An empty or non-base64 header is refused.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    let Ok(given) = STANDARD.decode(header.trim().as_bytes()) else {
        return false;
    };
    !given.is_empty() && mac(auth_token, url, params).verify_slice(&given).is_ok()
}

/// A message's status in a receipt (`MessageStatus`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SmsStatus {
    Queued,
    Sent,
    Delivered,
    Undelivered,
    Failed,
    /// Any other (`accepted`, `sending`, `read`, `canceled`, …), as given.
    Other(String),
}

/// Reads a `MessageStatus` (case-insensitively; surrounding spaces ignored).
pub fn parse_status(s: &str) -> SmsStatus {
    match s.trim().to_ascii_lowercase().as_str() {
        "queued" => SmsStatus::Queued,
        "sent" => SmsStatus::Sent,
        "delivered" => SmsStatus::Delivered,
        "undelivered" => SmsStatus::Undelivered,
        "failed" => SmsStatus::Failed,
        _ => SmsStatus::Other(s.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Twilio's documented example ("Webhooks security"), computed independently with Python:
    /// `base64.b64encode(hmac.new(b"12345", (url + "".join(k + p[k] for k in sorted(p))).encode(),
    /// hashlib.sha1).digest())`.
    const EXPECTED: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    #[test]
    fn known_vectors() {
        assert_eq!(signature(TOKEN, URL, &params()), EXPECTED);
        assert!(verify(TOKEN, URL, &params(), EXPECTED));
        // A status callback, computed the same way with Python.
        let receipt: Vec<(String, String)> = [
            ("MessageSid", "SM1234567890abcdef1234567890abcdef"),
            ("MessageStatus", "delivered"),
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("To", "+15558675310"),
            ("From", "+15017122661"),
            ("ApiVersion", "2010-04-01"),
            ("SmsStatus", "delivered"),
            ("SmsSid", "SM1234567890abcdef1234567890abcdef"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            signature(
                "your_auth_token",
                "https://herald.example.org/webhooks/sms/status",
                &receipt
            ),
            "dXphWyfrNk9x8Si80CIIJjJnO3g="
        );
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let mut reversed = params();
        reversed.reverse();
        assert!(verify(TOKEN, URL, &reversed, EXPECTED));
        let mut rotated = params();
        rotated.rotate_left(2);
        assert_eq!(signature(TOKEN, URL, &rotated), EXPECTED);
    }

    #[test]
    fn tampering_is_refused() {
        let changed_value = {
            let mut p = params();
            p[2].1 = "1235".to_owned();
            p
        };
        let added = {
            let mut p = params();
            p.push(("MessageStatus".to_owned(), "delivered".to_owned()));
            p
        };
        let removed = {
            let mut p = params();
            p.pop();
            p
        };
        // Moving a character from a value to the next name signs a different text.
        let shifted = {
            let mut p = params();
            p[2].1 = "123".to_owned();
            p[3].0 = "4From".to_owned();
            p
        };
        type Params = Vec<(String, String)>;
        // Name, token, URL, parameters, header.
        let cases: [(&str, &str, &str, Params, &str); 11] = [
            ("value", TOKEN, URL, changed_value, EXPECTED),
            ("parameter added", TOKEN, URL, added, EXPECTED),
            ("parameter removed", TOKEN, URL, removed, EXPECTED),
            ("shifted", TOKEN, URL, shifted, EXPECTED),
            (
                "url",
                TOKEN,
                "https://mycompany.com/myapp.php?foo=1&bar=3",
                params(),
                EXPECTED,
            ),
            (
                "http",
                TOKEN,
                "http://mycompany.com/myapp.php?foo=1&bar=2",
                params(),
                EXPECTED,
            ),
            ("token", "12346", URL, params(), EXPECTED),
            ("empty header", TOKEN, URL, params(), ""),
            ("not base64", TOKEN, URL, params(), "not base64!"),
            (
                "truncated",
                TOKEN,
                URL,
                params(),
                &EXPECTED[..EXPECTED.len() - 4],
            ),
            (
                "another signature",
                TOKEN,
                URL,
                params(),
                "dXphWyfrNk9x8Si80CIIJjJnO3g=",
            ),
        ];
        for (name, token, url, params, header) in cases {
            assert!(!verify(token, url, &params, header), "{name}");
        }
    }

    #[test]
    fn statuses() {
        let cases = [
            ("queued", SmsStatus::Queued),
            ("sent", SmsStatus::Sent),
            ("delivered", SmsStatus::Delivered),
            ("Delivered", SmsStatus::Delivered),
            (" undelivered ", SmsStatus::Undelivered),
            ("failed", SmsStatus::Failed),
            ("accepted", SmsStatus::Other("accepted".to_owned())),
            ("read", SmsStatus::Other("read".to_owned())),
            ("", SmsStatus::Other(String::new())),
        ];
        for (s, expected) in cases {
            assert_eq!(parse_status(s), expected, "{s:?}");
        }
    }
}
