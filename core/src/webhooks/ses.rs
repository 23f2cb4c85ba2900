//! The Amazon SES events an SNS notification carries: its `Message` is a JSON document of its
//! own. Both shapes are read: event publishing through a configuration set (`eventType`: Send,
//! Delivery, Bounce, Complaint, Reject, DeliveryDelay, `Rendering Failure`, Open, Click,
//! Subscription) and the older identity notifications (`notificationType`: Bounce, Complaint,
//! Delivery).
//!
//! An event names Herald's message by the tag the SES provider sends
//! ([`SES_MESSAGE_TAG`], in `mail.tags`, whose values are arrays of strings), and SES's own id
//! (`mail.messageId`) always. Pure: matching events to messages and recording them is the
//! caller's.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::delivery::provider::SES_MESSAGE_TAG;

/// The longest [`SesEvent::detail`], in characters.
pub const MAX_DETAIL: usize = 1000;

/// What happened to a message, as SES tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SesEvent {
    pub kind: SesEventKind,
    /// SES's id of the message (`mail.messageId`).
    pub ses_message_id: String,
    /// Herald's message id, from the [`SES_MESSAGE_TAG`] tag (absent or not a number: `None`).
    pub herald_message_id: Option<i64>,
    /// The recipients the event is about, trimmed and lower-cased, without repeats: those who
    /// bounced, complained, were delivered to or delayed, else the message's destination.
    pub recipients: Vec<String>,
    /// When it happened: the event's own timestamp, else when the message was sent.
    pub at: Option<DateTime<Utc>>,
    /// A short summary from the provider's text (bounce type and diagnostic, complaint type,
    /// reject reason, rendering error, delay type), on one line, at most [`MAX_DETAIL`]
    /// characters. Raw outside text: escape it when showing it.
    pub detail: String,
}

/// The kinds of event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SesEventKind {
    Send,
    Delivery,
    /// Only a `Permanent` bounce is permanent (suppress the address). `Transient` bounces
    /// (mailbox full, message too large, …) may succeed later, and SES uses `Undetermined` when
    /// it could not tell; suppressing an address on a guess loses a reachable recipient, so both
    /// are soft.
    Bounce {
        permanent: bool,
    },
    Complaint,
    Reject,
    DeliveryDelay,
    RenderingFailure,
    Open,
    Click,
    Subscription,
    /// Any other type, as named (e.g. `AmazonSnsSubscriptionSucceeded`).
    Other(String),
}

/// Reads an SES event from an SNS notification's `Message`. Errors (as text) when it is not
/// JSON, names no event type, or has no `mail.messageId`; an unknown type is
/// [`SesEventKind::Other`].
pub fn parse(message: &str) -> Result<SesEvent, String> {
    let v: Value =
        serde_json::from_str(message).map_err(|e| format!("SES event is not JSON: {e}"))?;
    if !v.is_object() {
        return Err("SES event is not a JSON object".to_owned());
    }
    let type_name = str_at(&v, &["eventType"])
        .or_else(|| str_at(&v, &["notificationType"]))
        .ok_or("SES event has neither eventType nor notificationType")?;
    let mail = &v["mail"];
    let ses_message_id = str_at(mail, &["messageId"])
        .filter(|id| !id.is_empty())
        .ok_or("SES event has no mail.messageId")?
        .to_owned();

    // The object holding the event's details, by the type's name.
    let (kind, body_key) = match type_name {
        "Send" => (SesEventKind::Send, "send"),
        "Delivery" => (SesEventKind::Delivery, "delivery"),
        "Bounce" => (
            SesEventKind::Bounce {
                permanent: str_at(&v, &["bounce", "bounceType"]) == Some("Permanent"),
            },
            "bounce",
        ),
        "Complaint" => (SesEventKind::Complaint, "complaint"),
        "Reject" => (SesEventKind::Reject, "reject"),
        "DeliveryDelay" => (SesEventKind::DeliveryDelay, "deliveryDelay"),
        "Rendering Failure" | "RenderingFailure" => (SesEventKind::RenderingFailure, "failure"),
        "Open" => (SesEventKind::Open, "open"),
        "Click" => (SesEventKind::Click, "click"),
        "Subscription" => (SesEventKind::Subscription, "subscription"),
        other => (SesEventKind::Other(other.to_owned()), ""),
    };
    let body = &v[body_key];

    let listed = match &kind {
        SesEventKind::Bounce { .. } => addresses(&body["bouncedRecipients"], "emailAddress"),
        SesEventKind::Complaint => addresses(&body["complainedRecipients"], "emailAddress"),
        SesEventKind::DeliveryDelay => addresses(&body["delayedRecipients"], "emailAddress"),
        SesEventKind::Delivery => addresses(&body["recipients"], ""),
        _ => Vec::new(),
    };
    let recipients = if listed.is_empty() {
        addresses(&mail["destination"], "")
    } else {
        listed
    };

    let at = str_at(body, &["timestamp"])
        .and_then(time)
        .or_else(|| str_at(mail, &["timestamp"]).and_then(time));

    Ok(SesEvent {
        herald_message_id: herald_message_id(mail),
        detail: one_line(&detail(&kind, body)),
        kind,
        ses_message_id,
        recipients,
        at,
    })
}

/// The string at a path of object keys.
fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, key| v.get(key))?.as_str()
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The addresses in an array: its strings, or each object's `key`; trimmed, lower-cased, once.
fn addresses(list: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in list.as_array().into_iter().flatten() {
        let address = if key.is_empty() {
            item.as_str()
        } else {
            item.get(key).and_then(Value::as_str)
        };
        let Some(address) = address.map(|a| a.trim().to_lowercase()) else {
            continue;
        };
        if !address.is_empty() && !out.contains(&address) {
            out.push(address);
        }
    }
    out
}

/// The first value of the message tag, when it is a number.
fn herald_message_id(mail: &Value) -> Option<i64> {
    mail.get("tags")?
        .get(SES_MESSAGE_TAG)?
        .as_array()?
        .first()?
        .as_str()?
        .trim()
        .parse()
        .ok()
}

/// The provider's own words about the event.
fn detail(kind: &SesEventKind, body: &Value) -> String {
    let s = |key: &str| str_at(body, &[key]).filter(|s| !s.is_empty());
    // Each listed recipient's diagnostic (status and SMTP answer).
    let diagnostics = |list: &str| {
        body[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let address = r.get("emailAddress").and_then(Value::as_str)?;
                let said = r
                    .get("diagnosticCode")
                    .and_then(Value::as_str)
                    .or_else(|| r.get("status").and_then(Value::as_str))?;
                Some(format!("{}: {said}", address.trim().to_lowercase()))
            })
            .collect::<Vec<_>>()
    };
    let mut parts: Vec<String> = Vec::new();
    match kind {
        SesEventKind::Bounce { .. } => {
            parts.push(match (s("bounceType"), s("bounceSubType")) {
                (Some(t), Some(sub)) => format!("{t} bounce ({sub})"),
                (Some(t), None) => format!("{t} bounce"),
                _ => "Bounce".to_owned(),
            });
            parts.extend(diagnostics("bouncedRecipients"));
        }
        SesEventKind::Complaint => parts.push(match s("complaintFeedbackType") {
            Some(feedback) => format!("Complaint: {feedback}"),
            None => "Complaint".to_owned(),
        }),
        SesEventKind::Reject => parts.push(match s("reason") {
            Some(reason) => format!("Rejected: {reason}"),
            None => "Rejected".to_owned(),
        }),
        SesEventKind::RenderingFailure => {
            parts.push(match s("errorMessage") {
                Some(error) => format!("Rendering failed: {error}"),
                None => "Rendering failed".to_owned(),
            });
            if let Some(template) = s("templateName") {
                parts.push(format!("template {template}"));
            }
        }
        SesEventKind::DeliveryDelay => {
            parts.push(match s("delayType") {
                Some(delay) => format!("Delayed: {delay}"),
                None => "Delayed".to_owned(),
            });
            parts.extend(diagnostics("delayedRecipients"));
        }
        SesEventKind::Delivery => {
            if let Some(answer) = s("smtpResponse") {
                parts.push(format!("Delivered: {answer}"));
            }
        }
        _ => {}
    }
    parts.join("; ")
}

/// Control characters (line breaks included) become spaces, runs of spaces one, and the text
/// is cut to [`MAX_DETAIL`] characters.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_DETAIL * 4));
    let mut count = 0;
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        if count == MAX_DETAIL {
            break;
        }
        last_space = c == ' ';
        out.push(c);
        count += 1;
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The `mail` object of AWS's examples ("Examples of event data that Amazon SES publishes
    /// to Amazon SNS"), with Herald's tag.
    fn mail(tag: Option<Value>) -> Value {
        let mut tags = json!({
            "ses:configuration-set": ["ConfigSet"],
            "ses:source-ip": ["192.0.2.0"],
            "ses:from-domain": ["example.com"],
            "ses:caller-identity": ["ses_user"],
        });
        if let Some(tag) = tag {
            tags[SES_MESSAGE_TAG] = tag;
        }
        json!({
            "timestamp": "2017-08-05T00:40:02.012Z",
            "source": "Sender Name <sender@example.com>",
            "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
            "sendingAccountId": "123456789012",
            "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            "destination": [" Recipient@Example.com ", "second@example.com"],
            "headersTruncated": false,
            "headers": [
                {"name": "From", "value": "Sender Name <sender@example.com>"},
                {"name": "To", "value": "recipient@example.com"},
                {"name": "Subject", "value": "Message sent from Amazon SES"}
            ],
            "commonHeaders": {
                "from": ["Sender Name <sender@example.com>"],
                "to": ["recipient@example.com"],
                "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
                "subject": "Message sent from Amazon SES"
            },
            "tags": tags
        })
    }

    fn event(event_type: &str, key: &str, body: Value) -> String {
        let mut v = json!({ "eventType": event_type, "mail": mail(Some(json!(["4217"]))) });
        if !key.is_empty() {
            v[key] = body;
        }
        v.to_string()
    }

    fn at(s: &str) -> Option<DateTime<Utc>> {
        time(s)
    }

    const SES_ID: &str = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000";
    const SENT_AT: &str = "2017-08-05T00:40:02.012Z";

    fn destination() -> Vec<String> {
        vec![
            "recipient@example.com".to_owned(),
            "second@example.com".to_owned(),
        ]
    }

    #[test]
    fn event_publishing_examples() {
        /// Name, message, kind, recipients, time, detail.
        type Case = (
            &'static str,
            String,
            SesEventKind,
            Vec<String>,
            &'static str,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                "send",
                event("Send", "send", json!({})),
                SesEventKind::Send,
                destination(),
                SENT_AT,
                "",
            ),
            (
                "delivery",
                event(
                    "Delivery",
                    "delivery",
                    json!({
                        "timestamp": "2016-10-19T23:21:04.133Z",
                        "processingTimeMillis": 11893,
                        "recipients": ["recipient@example.com"],
                        "smtpResponse": "250 2.6.0 Message received",
                        "reportingMTA": "mta.example.com"
                    }),
                ),
                SesEventKind::Delivery,
                vec!["recipient@example.com".to_owned()],
                "2016-10-19T23:21:04.133Z",
                "Delivered: 250 2.6.0 Message received",
            ),
            (
                "permanent bounce",
                event(
                    "Bounce",
                    "bounce",
                    json!({
                        "bounceType": "Permanent",
                        "bounceSubType": "General",
                        "bouncedRecipients": [{
                            "emailAddress": "Recipient@Example.com",
                            "action": "failed",
                            "status": "5.1.1",
                            "diagnosticCode": "smtp; 550 5.1.1 user unknown"
                        }],
                        "timestamp": "2017-08-05T00:41:02.669Z",
                        "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
                        "reportingMTA": "dsn; mta.example.com"
                    }),
                ),
                SesEventKind::Bounce { permanent: true },
                vec!["recipient@example.com".to_owned()],
                "2017-08-05T00:41:02.669Z",
                "Permanent bounce (General); recipient@example.com: smtp; 550 5.1.1 user unknown",
            ),
            (
                "transient bounce",
                event(
                    "Bounce",
                    "bounce",
                    json!({
                        "bounceType": "Transient",
                        "bounceSubType": "MailboxFull",
                        "bouncedRecipients": [{
                            "emailAddress": "recipient@example.com",
                            "action": "failed",
                            "status": "4.2.2"
                        }],
                        "timestamp": "2017-08-05T00:41:02.669Z",
                        "feedbackId": "0100015e-example",
                    }),
                ),
                SesEventKind::Bounce { permanent: false },
                vec!["recipient@example.com".to_owned()],
                "2017-08-05T00:41:02.669Z",
                "Transient bounce (MailboxFull); recipient@example.com: 4.2.2",
            ),
            (
                "undetermined bounce",
                event(
                    "Bounce",
                    "bounce",
                    json!({
                        "bounceType": "Undetermined",
                        "bounceSubType": "Undetermined",
                        "bouncedRecipients": [{"emailAddress": "recipient@example.com"}],
                        "timestamp": "2017-08-05T00:41:02.669Z"
                    }),
                ),
                SesEventKind::Bounce { permanent: false },
                vec!["recipient@example.com".to_owned()],
                "2017-08-05T00:41:02.669Z",
                "Undetermined bounce (Undetermined)",
            ),
            (
                "complaint",
                event(
                    "Complaint",
                    "complaint",
                    json!({
                        "complainedRecipients": [{"emailAddress": "recipient@example.com"}],
                        "timestamp": "2017-08-05T00:41:02.669Z",
                        "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
                        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36",
                        "complaintFeedbackType": "abuse",
                        "complaintSubType": null,
                        "arrivalDate": "2017-08-05T00:41:02.669Z"
                    }),
                ),
                SesEventKind::Complaint,
                vec!["recipient@example.com".to_owned()],
                "2017-08-05T00:41:02.669Z",
                "Complaint: abuse",
            ),
            (
                "reject",
                event("Reject", "reject", json!({"reason": "Bad content"})),
                SesEventKind::Reject,
                destination(),
                SENT_AT,
                "Rejected: Bad content",
            ),
            (
                "delivery delay",
                event(
                    "DeliveryDelay",
                    "deliveryDelay",
                    json!({
                        "timestamp": "2020-06-16T00:15:40.641Z",
                        "delayType": "TransientCommunicationFailure",
                        "expirationTime": "2020-06-16T00:25:11.000Z",
                        "delayedRecipients": [{
                            "emailAddress": "recipient@example.com",
                            "status": "4.4.1",
                            "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host"
                        }]
                    }),
                ),
                SesEventKind::DeliveryDelay,
                vec!["recipient@example.com".to_owned()],
                "2020-06-16T00:15:40.641Z",
                "Delayed: TransientCommunicationFailure; recipient@example.com: smtp; 421 4.4.1 Unable to connect to remote host",
            ),
            (
                "rendering failure",
                event(
                    "Rendering Failure",
                    "failure",
                    json!({
                        "errorMessage": "Attribute 'attributeName' is not present in the rendering data.",
                        "templateName": "MyTemplate"
                    }),
                ),
                SesEventKind::RenderingFailure,
                destination(),
                SENT_AT,
                "Rendering failed: Attribute 'attributeName' is not present in the rendering data.; template MyTemplate",
            ),
            (
                "open",
                event(
                    "Open",
                    "open",
                    json!({
                        "ipAddress": "192.0.2.1",
                        "timestamp": "2017-08-09T22:00:19.652Z",
                        "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X)"
                    }),
                ),
                SesEventKind::Open,
                destination(),
                "2017-08-09T22:00:19.652Z",
                "",
            ),
            (
                "click",
                event(
                    "Click",
                    "click",
                    json!({
                        "ipAddress": "192.0.2.1",
                        "link": "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
                        "linkTags": {"samplekey0": ["samplevalue0"]},
                        "timestamp": "2017-08-09T23:51:25.570Z",
                        "userAgent": "Mozilla/5.0"
                    }),
                ),
                SesEventKind::Click,
                destination(),
                "2017-08-09T23:51:25.570Z",
                "",
            ),
            (
                "subscription",
                event(
                    "Subscription",
                    "subscription",
                    json!({
                        "contactList": "ContactListName",
                        "timestamp": "2022-01-12T01:00:14.340Z",
                        "source": "UnsubscribeHeader",
                        "newTopicPreferences": {"unsubscribeAll": true},
                        "oldTopicPreferences": {"unsubscribeAll": false}
                    }),
                ),
                SesEventKind::Subscription,
                destination(),
                "2022-01-12T01:00:14.340Z",
                "",
            ),
            (
                "unknown type",
                event("Teleport", "", Value::Null),
                SesEventKind::Other("Teleport".to_owned()),
                destination(),
                SENT_AT,
                "",
            ),
        ];
        for (name, message, kind, recipients, when, detail) in cases {
            let e = parse(&message).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(e.kind, kind, "{name}");
            assert_eq!(e.ses_message_id, SES_ID, "{name}");
            assert_eq!(e.herald_message_id, Some(4217), "{name}");
            assert_eq!(e.recipients, recipients, "{name}");
            assert_eq!(e.at, at(when), "{name}");
            assert_eq!(e.detail, detail, "{name}");
        }
    }

    #[test]
    fn older_notifications() {
        let message = json!({
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent",
                "reportingMTA": "dns; email.example.com",
                "bouncedRecipients": [{
                    "emailAddress": "jane@example.com",
                    "status": "5.1.1",
                    "action": "failed",
                    "diagnosticCode": "smtp; 550 5.1.1 <jane@example.com>... User unknown"
                }],
                "bounceSubType": "General",
                "timestamp": "2016-01-27T14:59:44.101Z",
                "feedbackId": "00000138111222aa-44455566-cccc-cccc-cccc-ddddaaaa068a-000000",
                "remoteMtaIp": "127.0.2.0"
            },
            "mail": {
                "timestamp": "2016-01-27T14:59:38.237Z",
                "source": "john@example.com",
                "sourceArn": "arn:aws:ses:us-east-1:888888888888:identity/example.com",
                "sourceIp": "127.0.3.0",
                "sendingAccountId": "123456789012",
                "callerIdentity": "IAM_user_or_role_name",
                "messageId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
                "destination": ["jane@example.com", "mary@example.com", "richard@example.com"]
            }
        })
        .to_string();
        let e = parse(&message).unwrap();
        assert_eq!(e.kind, SesEventKind::Bounce { permanent: true });
        assert_eq!(
            e.ses_message_id,
            "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000"
        );
        assert_eq!(e.herald_message_id, None, "no tags");
        assert_eq!(e.recipients, vec!["jane@example.com".to_owned()]);
        assert_eq!(e.at, at("2016-01-27T14:59:44.101Z"));
        assert_eq!(
            e.detail,
            "Permanent bounce (General); jane@example.com: smtp; 550 5.1.1 <jane@example.com>... User unknown"
        );

        let delivery = json!({
            "notificationType": "Delivery",
            "mail": {"timestamp": "2016-01-27T14:59:38.237Z", "messageId": "m-2",
                     "destination": ["jane@example.com"]},
            "delivery": {"timestamp": "2016-01-27T14:59:38.237Z", "recipients": ["jane@example.com"],
                         "smtpResponse": "250 ok", "processingTimeMillis": 546}
        })
        .to_string();
        let e = parse(&delivery).unwrap();
        assert_eq!(e.kind, SesEventKind::Delivery);
        assert_eq!(e.ses_message_id, "m-2");
    }

    #[test]
    fn herald_message_ids() {
        let cases = [
            ("missing", None, None),
            ("number", Some(json!(["17"])), Some(17)),
            ("first of several", Some(json!(["17", "18"])), Some(17)),
            ("not a number", Some(json!(["seventeen"])), None),
            ("too large", Some(json!(["99999999999999999999"])), None),
            ("empty list", Some(json!([])), None),
            ("not a list", Some(json!("17")), None),
            ("number, not string", Some(json!([17])), None),
        ];
        for (name, tag, expected) in cases {
            let message = json!({"eventType": "Send", "mail": mail(tag), "send": {}}).to_string();
            assert_eq!(
                parse(&message).unwrap().herald_message_id,
                expected,
                "{name}"
            );
        }
        let no_tags = json!({"eventType": "Send", "mail": {"messageId": "m"}}).to_string();
        let e = parse(&no_tags).unwrap();
        assert_eq!(e.herald_message_id, None);
        assert_eq!(e.recipients, Vec::<String>::new());
        assert_eq!(e.at, None);
    }

    #[test]
    fn malformed_messages() {
        let cases = [
            ("not JSON", "{\"eventType\": \"Bounce\""),
            ("not an object", "[]"),
            ("a string", "\"Bounce\""),
            ("no type", r#"{"mail": {"messageId": "m"}}"#),
            (
                "type not a string",
                r#"{"eventType": 3, "mail": {"messageId": "m"}}"#,
            ),
            ("no mail", r#"{"eventType": "Bounce"}"#),
            ("no message id", r#"{"eventType": "Bounce", "mail": {}}"#),
            (
                "empty message id",
                r#"{"eventType": "Bounce", "mail": {"messageId": ""}}"#,
            ),
        ];
        for (name, message) in cases {
            assert!(parse(message).is_err(), "{name}");
        }
    }

    #[test]
    fn details_are_one_short_line() {
        let long = format!("smtp; 550 {}\r\nsecond line\t<b>", "x".repeat(2000));
        let message = event(
            "Bounce",
            "bounce",
            json!({
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": "a@example.com", "diagnosticCode": long}]
            }),
        );
        let e = parse(&message).unwrap();
        assert_eq!(e.detail.chars().count(), MAX_DETAIL);
        assert!(!e.detail.contains(['\r', '\n', '\t']));
        assert_eq!(one_line("  a\r\n\tb  \u{7}c  "), "a b c");
        assert_eq!(one_line(&"é".repeat(1500)).chars().count(), MAX_DETAIL);
        // No bounce details at all: still a bounce, soft.
        let bare = event("Bounce", "", Value::Null);
        let e = parse(&bare).unwrap();
        assert_eq!(e.kind, SesEventKind::Bounce { permanent: false });
        assert_eq!(e.detail, "Bounce");
        assert_eq!(e.recipients, destination());
    }
}
