//! The development mailbox as people read it: the messages the instance "sent" when it sends
//! into its own mailbox, each shown as a mail client would show it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One message in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxItem {
    pub id: i64,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    /// The campaign it belongs to, when it came from one.
    pub campaign_id: Option<i64>,
}

/// One page of the mailbox, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxPage {
    /// Messages matching the search, on all pages.
    pub total: u64,
    /// From 1.
    pub page: u64,
    pub pages: u64,
    pub items: Vec<MailboxItem>,
}

/// One message opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMessage {
    pub item: MailboxItem,
    /// Every header, in order, as received (folded lines joined).
    pub headers: Vec<(String, String)>,
    pub html: Option<String>,
    pub text: Option<String>,
}

/// The header block of a raw message as (name, value) pairs, in order: lines that start with
/// white space continue the header before them (RFC 5322 folding); the block ends at the first
/// empty line.
pub fn headers_of(raw: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in raw.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    headers
}

/// The message's HTML made safe to show inside a sandboxed frame: links open outside the
/// frame (a new tab), since a sandboxed document may not navigate the page around it.
pub fn framed_html(html: &str) -> String {
    format!("<base target=\"_blank\">{html}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headers_as_a_mail_client_does() {
        type Case = (
            &'static str,
            &'static str,
            Vec<(&'static str, &'static str)>,
        );
        let cases: &[Case] = &[
            (
                "plain",
                "From: a@x.test\r\nTo: b@y.test\r\n\r\nbody: not a header\r\n",
                vec![("From", "a@x.test"), ("To", "b@y.test")],
            ),
            (
                "folded",
                "List-Unsubscribe: <https://h.test/u/1>,\r\n <mailto:u@h.test>\r\nSubject: Hi\r\n\r\n",
                vec![
                    (
                        "List-Unsubscribe",
                        "<https://h.test/u/1>, <mailto:u@h.test>",
                    ),
                    ("Subject", "Hi"),
                ],
            ),
            (
                "a colon in the value, bare newlines",
                "Subject: Re: time: 10:30\nDate: now\n\nx",
                vec![("Subject", "Re: time: 10:30"), ("Date", "now")],
            ),
            ("no headers", "\r\nbody", vec![]),
            (
                "a stray continuation first",
                " orphan\r\nA: b\r\n\r\n",
                vec![("A", "b")],
            ),
        ];
        for (name, raw, expected) in cases {
            let got = headers_of(raw);
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, expected, "{name}");
        }
    }
}
