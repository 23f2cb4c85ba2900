//! Templates as data: the parts of a message, the personalisation tags a template may use (what
//! the editor's tag inserter offers and what the checker accepts), and the problems a check
//! reports. The engine itself (minijinja) runs on the server: `crate::templates::render`.

use serde::{Deserialize, Serialize};

/// One language's version of a message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Content {
    pub subject: String,
    pub preheader: String,
    pub html: String,
    pub text: String,
}

/// A template as its editor saves it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateInput {
    pub name: String,
    /// Free-form type ("renewal", "newsletter", …); any type may be picked by any campaign.
    pub kind: String,
    pub description: String,
    /// The language of `content`.
    pub language: String,
    pub content: Content,
    /// Other languages, by language code.
    pub variants: std::collections::BTreeMap<String, Content>,
}

/// A template in lists and pickers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSummary {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// Herald's own mails: shown, never pickable by a campaign.
    pub is_system: bool,
    pub version: i32,
    pub languages: Vec<String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// What saving a template answers: its id, the version now current, and the tags it uses that
/// Herald does not know (saved anyway; a campaign cannot be activated with them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub id: i64,
    pub version: i32,
    pub warnings: Vec<Issue>,
}

/// A part of a message; the HTML body is auto-escaped, the others are plain text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Subject,
    Preheader,
    Html,
    Text,
}

impl Part {
    pub const ALL: [Part; 4] = [Part::Subject, Part::Preheader, Part::Html, Part::Text];

    pub fn label(self) -> &'static str {
        match self {
            Part::Subject => "Subject",
            Part::Preheader => "Preheader",
            Part::Html => "HTML body",
            Part::Text => "Text body",
        }
    }

    pub fn of(self, c: &Content) -> &str {
        match self {
            Part::Subject => &c.subject,
            Part::Preheader => &c.preheader,
            Part::Html => &c.html,
            Part::Text => &c.text,
        }
    }
}

/// What a check found wrong in one part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "issue", rename_all = "snake_case")]
pub enum Issue {
    /// The part does not parse: nothing can be saved until it does.
    Syntax {
        part: Part,
        line: usize,
        column: usize,
        message: String,
    },
    /// A tag Herald does not know: it would render as an error, never as a silent blank.
    UnknownTag { part: Part, tag: String },
}

impl Issue {
    pub fn part(&self) -> Part {
        match self {
            Issue::Syntax { part, .. } | Issue::UnknownTag { part, .. } => *part,
        }
    }

    pub fn blocks_saving(&self) -> bool {
        matches!(self, Issue::Syntax { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Issue::Syntax {
                part,
                line,
                column,
                message,
            } => format!("{}, line {line}, column {column}: {message}", part.label()),
            Issue::UnknownTag { part, tag } => {
                format!("{}: unknown tag “{{{{ {tag} }}}}”", part.label())
            }
        }
    }
}

/// A personalisation tag: what the inserter offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// What goes between `{{ }}`.
    pub path: String,
    pub label: String,
    /// The inserter's heading: "Contact", "Custom attributes", "Record", "Links".
    pub group: String,
}

const CONTACT: [(&str, &str); 8] = [
    ("contact.first_name", "First name"),
    ("contact.last_name", "Last name"),
    ("contact.name", "Full name"),
    ("contact.email", "Email address"),
    ("contact.phone", "Phone number"),
    ("contact.language", "Language"),
    ("contact.time_zone", "Time zone"),
    ("contact.created_at", "Contact since"),
];

const LINKS: [(&str, &str); 3] = [
    ("unsubscribe_url", "Unsubscribe link"),
    ("view_in_browser_url", "View in browser link"),
    ("organisation.name", "Organisation name"),
];

/// The fields of each kind of record, as `record.*` tags.
pub fn record_fields(record: &str) -> &'static [(&'static str, &'static str)] {
    match record {
        "credential" => &[
            ("name", "Credential name"),
            ("collection", "Collection"),
            ("published_at", "Published on"),
            ("renewed_at", "Renewed on"),
            ("expires_at", "Expires on"),
        ],
        "enrollment" => &[
            ("course", "Course"),
            ("category", "Category"),
            ("trainer", "Trainer"),
            ("starts_at", "Starts on"),
            ("ends_at", "Ends on"),
        ],
        "booking" => &[("starts_at", "Booking time")],
        "pass" => &[("valid_from", "Valid from"), ("valid_to", "Valid until")],
        "subscription" => &[
            ("status", "Status"),
            ("period_start", "Period starts"),
            ("period_end", "Period ends"),
        ],
        "order" => &[("ordered_at", "Ordered on"), ("amount", "Amount")],
        _ => &[],
    }
}

/// The tags a template may use: contact fields, the organisation's custom attributes, the
/// fields of the record that fires the trigger (when the campaign is timed on one), and links.
/// A template on its own is checked against every record kind's fields (`record: None` accepts
/// any of them), since any campaign may send it.
pub fn tags(record: Option<&str>, attributes: &[String]) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut push = |path: String, label: &str, group: &str| {
        out.push(Tag {
            path,
            label: label.to_string(),
            group: group.to_string(),
        })
    };
    for (path, label) in CONTACT {
        push(path.to_string(), label, "Contact");
    }
    for key in attributes {
        push(
            format!("contact.attributes.{key}"),
            key,
            "Custom attributes",
        );
    }
    let kinds: Vec<&str> = match record {
        Some(r) => vec![r],
        None => vec![
            "credential",
            "enrollment",
            "booking",
            "pass",
            "subscription",
            "order",
        ],
    };
    let mut seen = std::collections::BTreeSet::new();
    for kind in kinds {
        for (field, label) in record_fields(kind) {
            if seen.insert(*field) {
                push(format!("record.{field}"), label, "Record");
            }
        }
    }
    for (path, label) in LINKS {
        push(path.to_string(), label, "Links");
    }
    out
}

/// Whether `path` (a dotted variable path used by a template) is one of `tags` or a prefix of
/// one (`contact` alone, used as `contact.first_name` through a loop, say).
pub fn is_known(path: &str, tags: &[Tag]) -> bool {
    tags.iter().any(|t| {
        t.path == path
            || t.path
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_trigger_record_and_attributes() {
        let attrs = vec!["plan".to_string()];
        let all = tags(None, &attrs);
        let credential = tags(Some("credential"), &attrs);
        let cases = [
            ("contact.first_name", true, true),
            ("contact.attributes.plan", true, true),
            ("contact.attributes.shoe_size", false, false),
            ("record.expires_at", true, true),
            ("record.trainer", true, false),
            ("record", true, true),
            ("unsubscribe_url", true, true),
            ("contact.first", false, false),
            ("password", false, false),
        ];
        for (path, in_all, in_credential) in cases {
            assert_eq!(is_known(path, &all), in_all, "{path} (any record)");
            assert_eq!(
                is_known(path, &credential),
                in_credential,
                "{path} (credential)"
            );
        }
        // Fields shared by several record kinds appear once.
        let starts = all.iter().filter(|t| t.path == "record.starts_at").count();
        assert_eq!(starts, 1);
    }

    #[test]
    fn issues_in_words() {
        let syntax = Issue::Syntax {
            part: Part::Html,
            line: 3,
            column: 7,
            message: "unexpected end of input".into(),
        };
        assert_eq!(
            syntax.describe(),
            "HTML body, line 3, column 7: unexpected end of input"
        );
        assert!(syntax.blocks_saving());
        let unknown = Issue::UnknownTag {
            part: Part::Subject,
            tag: "contact.nickname".into(),
        };
        assert_eq!(
            unknown.describe(),
            "Subject: unknown tag “{{ contact.nickname }}”"
        );
        assert!(!unknown.blocks_saving());
    }
}

/// How long a text message is: characters as the network counts them, the segments it is
/// sent in (and billed for), and whether it needs Unicode (UCS-2) rather than the GSM 7-bit
/// alphabet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsLength {
    pub characters: usize,
    pub segments: usize,
    pub unicode: bool,
}

/// The GSM 03.38 basic alphabet.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table: each counts as two characters (an escape and the character).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{000C}";

/// The length of `text` as an SMS: 160 GSM characters in one segment (153 each when split),
/// 70 Unicode ones (67 each when split), counted in UTF-16 units as the network does.
pub fn sms_length(text: &str) -> SmsLength {
    let gsm: Option<usize> = text.chars().try_fold(0usize, |n, c| {
        if GSM_BASIC.contains(c) {
            Some(n + 1)
        } else if GSM_EXTENDED.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    });
    let (characters, single, multi, unicode) = match gsm {
        Some(n) => (n, 160, 153, false),
        None => (text.encode_utf16().count(), 70, 67, true),
    };
    let segments = match characters {
        0 => 0,
        n if n <= single => 1,
        n => n.div_ceil(multi),
    };
    SmsLength {
        characters,
        segments,
        unicode,
    }
}

#[cfg(test)]
mod sms_tests {
    use super::*;

    #[test]
    fn text_messages_are_counted_as_the_network_counts_them() {
        let a = |n: usize| "a".repeat(n);
        for (text, characters, segments, unicode) in [
            (String::new(), 0, 0, false),
            ("Hello".into(), 5, 1, false),
            (a(160), 160, 1, false),
            (a(161), 161, 2, false),
            (a(306), 306, 2, false),
            (a(307), 307, 3, false),
            // Extension characters count twice.
            ("{€}".into(), 6, 1, false),
            (format!("{}€", a(159)), 161, 2, false),
            // Accents GSM has stay 7-bit; others need Unicode.
            ("Crème brûlée".into(), 12, 1, true),
            ("Café à Zürich".into(), 13, 1, false),
            ("x".repeat(70).replace('x', "é") + "ç", 71, 2, true),
            ("Привет".into(), 6, 1, true),
            // An emoji is two UTF-16 units.
            ("Hi 👋".into(), 5, 1, true),
            ("ж".repeat(134), 134, 2, true),
            ("ж".repeat(135), 135, 3, true),
        ] {
            assert_eq!(
                sms_length(&text),
                SmsLength {
                    characters,
                    segments,
                    unicode
                },
                "{text:?}"
            );
        }
    }
}
