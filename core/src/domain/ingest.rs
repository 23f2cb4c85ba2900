//! What comes in from outside (the REST API, CSV imports): contacts, their records and events,
//! as senders write them. `crate::ingest` validates and stores them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A contact as the API and CSV imports send it. Contacts are merged by email address
/// (case-insensitively); fields left out keep their stored value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// The address the contact is known by. Validated and normalised to lower case.
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// International format with the country code, e.g. `+44 20 7946 0958`.
    pub phone: Option<String>,
    /// A language tag such as `en` or `pt-BR`.
    pub language: Option<String>,
    /// An IANA time zone such as `Europe/Berlin`.
    pub time_zone: Option<String>,
    /// Inactive contacts are kept but not reached by audiences that ask for active contacts.
    pub active: Option<bool>,
    /// Consent to marketing messages; recorded with when and where it came from.
    pub marketing_consent: Option<bool>,
    /// Consent to newsletters.
    pub newsletter_consent: Option<bool>,
    /// Custom attributes, merged into the stored ones. Keys: lower case letters, digits, `_`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Names of groups to add the contact to (created when missing). Never removes.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The email address of the account manager (a user with the account manager role) who
    /// looks after this contact; an empty string removes the assignment.
    pub account_manager: Option<String>,
}

/// A record a contact has: the things triggers fire from and audiences filter on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    /// The contact's email address; the contact must exist.
    pub email: String,
    /// Your own id for this record: sending a record with the same id again updates it.
    pub external_id: Option<String>,
    pub record: Record,
}

/// Declares [`Record`] (internally tagged by `type`, as senders write it and the OpenAPI
/// description shows it) and an externally tagged twin that does the reading: serde cannot
/// follow field paths inside internally tagged enums, and an error must name the field.
macro_rules! records {
    ($($(#[$vm:meta])* $variant:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }),* $(,)?) => {
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum Record {
            $($(#[$vm])* $variant { $($(#[$fm])* $field: $ty),* }),*
        }

        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        enum ExternalRecord {
            $($variant { $($(#[$fm])* $field: $ty),* }),*
        }

        impl From<ExternalRecord> for Record {
            fn from(e: ExternalRecord) -> Self {
                match e {
                    $(ExternalRecord::$variant { $($field),* } => Record::$variant { $($field),* }),*
                }
            }
        }
    };
}

records! {
    Credential {
        collection: String,
        name: String,
        published_at: DateTime<Utc>,
        renewed_at: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
    },
    Enrollment {
        course: String,
        #[serde(default)]
        category: String,
        #[serde(default)]
        trainer: String,
        #[serde(default)]
        online: bool,
        #[serde(default)]
        remote: bool,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
    Booking {
        starts_at: DateTime<Utc>,
    },
    Pass {
        valid_from: DateTime<Utc>,
        valid_to: DateTime<Utc>,
    },
    Subscription {
        status: super::SubscriptionStatus,
        period_start: DateTime<Utc>,
        period_end: Option<DateTime<Utc>>,
    },
    Order {
        ordered_at: DateTime<Utc>,
        /// In the smallest unit of the currency.
        amount_cents: i64,
    },
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::tagged::read::<D, ExternalRecord>(d, "type", &[]).map(Record::from)
    }
}

impl Record {
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Credential { .. } => "credential",
            Record::Enrollment { .. } => "enrollment",
            Record::Booking { .. } => "booking",
            Record::Pass { .. } => "pass",
            Record::Subscription { .. } => "subscription",
            Record::Order { .. } => "order",
        }
    }
}

/// Something a contact did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// The contact's email address; the contact must exist.
    pub email: String,
    /// Lower case letters, digits and `_ . : -`, e.g. `course_completed`.
    pub name: String,
    /// When it happened; now when left out.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Your own id for the event: an event with an id that was already received is ignored.
    pub external_id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// What storing one item did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    /// Already stored exactly so: nothing changed.
    Unchanged,
}

/// A value a caller sent that cannot be taken, and why. `field` is a path into the request
/// (`contacts[2].email`) or a CSV column name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, one level down in a request: `contacts[2]` + `email`.
    pub fn under(self, prefix: &str) -> Self {
        FieldError {
            field: format!("{prefix}.{}", self.field),
            message: self.message,
        }
    }
}

/// Where a CSV column goes when importing contacts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "to", content = "name", rename_all = "snake_case")]
pub enum ColumnTarget {
    Ignore,
    Email,
    FirstName,
    LastName,
    Phone,
    Language,
    TimeZone,
    /// `active` / `inactive` (also yes/no, true/false, 1/0).
    Active,
    MarketingConsent,
    NewsletterConsent,
    /// Group names separated by `;`.
    Groups,
    /// The email address of the contact's account manager.
    AccountManager,
    /// A custom attribute with this key.
    Attribute(String),
}

impl ColumnTarget {
    /// The fixed targets, in the order a mapping form offers them.
    pub const FIXED: [ColumnTarget; 12] = [
        ColumnTarget::Ignore,
        ColumnTarget::Email,
        ColumnTarget::FirstName,
        ColumnTarget::LastName,
        ColumnTarget::Phone,
        ColumnTarget::Language,
        ColumnTarget::TimeZone,
        ColumnTarget::Active,
        ColumnTarget::MarketingConsent,
        ColumnTarget::NewsletterConsent,
        ColumnTarget::Groups,
        ColumnTarget::AccountManager,
    ];

    pub fn label(&self) -> String {
        match self {
            ColumnTarget::Ignore => "Do not import".into(),
            ColumnTarget::Email => "Email".into(),
            ColumnTarget::FirstName => "First name".into(),
            ColumnTarget::LastName => "Last name".into(),
            ColumnTarget::Phone => "Phone".into(),
            ColumnTarget::Language => "Language".into(),
            ColumnTarget::TimeZone => "Time zone".into(),
            ColumnTarget::Active => "Active".into(),
            ColumnTarget::MarketingConsent => "Marketing consent".into(),
            ColumnTarget::NewsletterConsent => "Newsletter consent".into(),
            ColumnTarget::Groups => "Groups (separated by ;)".into(),
            ColumnTarget::AccountManager => "Account manager (their email)".into(),
            ColumnTarget::Attribute(key) => format!("Attribute “{key}”"),
        }
    }

    /// The form value: `email`, `attribute:plan`.
    pub fn to_form(&self) -> String {
        match self {
            ColumnTarget::Attribute(key) => format!("attribute:{key}"),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("to").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_default(),
        }
    }

    pub fn from_form(value: &str) -> Option<Self> {
        if let Some(key) = value.strip_prefix("attribute:") {
            return Some(ColumnTarget::Attribute(key.to_owned()));
        }
        Self::FIXED.into_iter().find(|t| t.to_form() == value)
    }

    /// The target a column header most likely means ("E-mail address" → email); custom
    /// attributes for the rest.
    pub fn guess(header: &str) -> Self {
        let h: String = header
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        match h.as_str() {
            "email" | "emailaddress" | "mail" | "eposta" => ColumnTarget::Email,
            "firstname" | "givenname" | "forename" | "first" => ColumnTarget::FirstName,
            "lastname" | "surname" | "familyname" | "last" => ColumnTarget::LastName,
            "phone" | "phonenumber" | "mobile" | "telephone" | "tel" => ColumnTarget::Phone,
            "language" | "lang" | "locale" => ColumnTarget::Language,
            "timezone" | "tz" => ColumnTarget::TimeZone,
            "active" | "status" => ColumnTarget::Active,
            "marketingconsent" | "marketing" => ColumnTarget::MarketingConsent,
            "newsletterconsent" | "newsletter" => ColumnTarget::NewsletterConsent,
            "groups" | "group" | "tags" => ColumnTarget::Groups,
            "accountmanager" | "manager" | "owner" | "assignedto" => ColumnTarget::AccountManager,
            "" => ColumnTarget::Ignore,
            _ => ColumnTarget::Attribute(attribute_key(header)),
        }
    }
}

/// A custom attribute key from free text: lower case, `_` for anything else, at most 40.
pub fn attribute_key(text: &str) -> String {
    let mut key: String = text
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    key = key.trim_matches('_').to_owned();
    if key.is_empty() || !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key = format!("a_{key}");
    }
    key.chars().take(40).collect()
}

/// Where a CSV import stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStatus {
    pub id: i64,
    pub filename: String,
    pub status: crate::domain::ImportState,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub unchanged_rows: i64,
    pub error_rows: i64,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The file's columns, with the target each is mapped to (guessed until a mapping is set).
    pub columns: Vec<(String, ColumnTarget)>,
    /// The first rows of the file, as text, for the preview.
    pub preview: Vec<Vec<String>>,
    /// The first rows that were refused.
    pub errors: Vec<ImportError>,
}

impl ImportStatus {
    pub fn finished(&self) -> bool {
        self.status.is_finished()
    }

    /// Percent done, 0 to 100.
    pub fn percent(&self) -> i64 {
        match self.total_rows {
            0 if self.finished() => 100,
            0 => 0,
            total => (self.processed_rows * 100 / total).clamp(0, 100),
        }
    }
}

/// A row an import refused: line number in the file, the column and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportError {
    pub line: i64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_guesses() {
        for (header, target) in [
            ("Email", ColumnTarget::Email),
            ("E-mail address", ColumnTarget::Email),
            ("first_name", ColumnTarget::FirstName),
            ("Surname", ColumnTarget::LastName),
            ("Mobile", ColumnTarget::Phone),
            ("Time zone", ColumnTarget::TimeZone),
            ("Newsletter", ColumnTarget::NewsletterConsent),
            ("Groups", ColumnTarget::Groups),
            (
                "Member since",
                ColumnTarget::Attribute("member_since".into()),
            ),
            ("2nd plan", ColumnTarget::Attribute("a_2nd_plan".into())),
            ("", ColumnTarget::Ignore),
        ] {
            assert_eq!(ColumnTarget::guess(header), target, "{header}");
        }
    }

    #[test]
    fn column_targets_round_trip_through_forms() {
        let mut all = ColumnTarget::FIXED.to_vec();
        all.push(ColumnTarget::Attribute("plan".into()));
        for t in all {
            assert_eq!(
                ColumnTarget::from_form(&t.to_form()),
                Some(t.clone()),
                "{t:?}"
            );
        }
        assert_eq!(ColumnTarget::from_form("nonsense"), None);
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let err = serde_json::from_str::<ContactInput>(r#"{"email":"a@b.co","emial":"x"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("emial"), "{err}");
        let err = serde_json::from_str::<RecordInput>(
            r#"{"email":"a@b.co","record":{"type":"booking","starts_at":"2026-01-01T00:00:00Z","colour":"red"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("colour"), "{err}");
        let ok = serde_json::from_str::<RecordInput>(
            r#"{"email":"a@b.co","record":{"type":"booking","starts_at":"2026-01-01T00:00:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(ok.record.kind(), "booking");
    }
}

/// Why a CSV upload or its column mapping was refused. The form handlers redirect back to the
/// page with the problem as a code and numbers (`?error=not_utf8&line=3`), and the page shows
/// the words for the code: a link can never make the page show text of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadProblem {
    NoFile,
    Interrupted,
    TooLarge,
    NotUtf8 { line: u64 },
    Unreadable,
    Empty,
    NoRows,
    TooManyRows { rows: u64 },
    Started,
    FormUnreadable,
    Incomplete,
    UnknownField,
    ColumnCount,
    NoEmail,
    Twice { column: u64 },
    BadAttribute { column: u64 },
    StoreFailed,
    StartFailed,
}

/// The most rows one import takes.
pub const MAX_IMPORT_ROWS: u64 = 200_000;
/// The largest file an import takes, in bytes.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

impl UploadProblem {
    /// The code and the number that go into the link.
    pub fn to_query(self) -> String {
        use UploadProblem::*;
        let (code, number) = match self {
            NoFile => ("no_file", None),
            Interrupted => ("interrupted", None),
            TooLarge => ("too_large", None),
            NotUtf8 { line } => ("not_utf8", Some(("line", line))),
            Unreadable => ("unreadable", None),
            Empty => ("empty", None),
            NoRows => ("no_rows", None),
            TooManyRows { rows } => ("too_many_rows", Some(("rows", rows))),
            Started => ("started", None),
            FormUnreadable => ("form_unreadable", None),
            Incomplete => ("incomplete", None),
            UnknownField => ("unknown_field", None),
            ColumnCount => ("column_count", None),
            NoEmail => ("no_email", None),
            Twice { column } => ("twice", Some(("column", column))),
            BadAttribute { column } => ("bad_attribute", Some(("column", column))),
            StoreFailed => ("store_failed", None),
            StartFailed => ("start_failed", None),
        };
        match number {
            Some((name, n)) => format!("error={code}&{name}={n}"),
            None => format!("error={code}"),
        }
    }

    /// The problem a link names; `None` for a code Herald does not know. `number` reads the
    /// link's `line`, `rows` or `column` (0 when missing or not a number).
    pub fn from_query(code: &str, number: impl Fn(&str) -> u64) -> Option<Self> {
        use UploadProblem::*;
        Some(match code {
            "no_file" => NoFile,
            "interrupted" => Interrupted,
            "too_large" => TooLarge,
            "not_utf8" => NotUtf8 {
                line: number("line"),
            },
            "unreadable" => Unreadable,
            "empty" => Empty,
            "no_rows" => NoRows,
            "too_many_rows" => TooManyRows {
                rows: number("rows"),
            },
            "started" => Started,
            "form_unreadable" => FormUnreadable,
            "incomplete" => Incomplete,
            "unknown_field" => UnknownField,
            "column_count" => ColumnCount,
            "no_email" => NoEmail,
            "twice" => Twice {
                column: number("column"),
            },
            "bad_attribute" => BadAttribute {
                column: number("column"),
            },
            "store_failed" => StoreFailed,
            "start_failed" => StartFailed,
            _ => return None,
        })
    }

    /// In words; `columns` are the file's column names, when the page knows them.
    pub fn message(self, columns: &[String]) -> String {
        use UploadProblem::*;
        let column = |i: u64| {
            columns
                .get(i as usize)
                .map_or(format!("column {}", i + 1), |c| format!("column “{c}”"))
        };
        match self {
            NoFile => "Choose a CSV file to upload.".into(),
            Interrupted => "The upload was interrupted or is larger than 20 MB.".into(),
            TooLarge => "The file is larger than 20 MB; split it into smaller files.".into(),
            NotUtf8 { line } => format!(
                "The file is not UTF-8 text (first bad byte on line {line}); save it as “CSV UTF-8”."
            ),
            Unreadable => "The file's first line cannot be read as CSV.".into(),
            Empty => "The file is empty; its first line must name the columns.".into(),
            NoRows => "The file has a header but no rows.".into(),
            TooManyRows { rows } => {
                format!("The file has {rows} rows; import at most {MAX_IMPORT_ROWS} at a time.")
            }
            Started => "This import has already been started.".into(),
            FormUnreadable => "The mapping form could not be read; reload the page.".into(),
            Incomplete => "The mapping form is incomplete; reload the page.".into(),
            UnknownField => {
                "The mapping names a field Herald does not know; reload the page.".into()
            }
            ColumnCount => "The mapping does not fit the file's columns; reload the page.".into(),
            NoEmail => "Choose the column that holds the email address.".into(),
            Twice { column: c } => format!(
                "Two columns are mapped to the same field as {}; map each field once.",
                column(c)
            ),
            BadAttribute { column: c } => format!(
                "The attribute name for {} is not valid: use lower-case letters, digits and _.",
                column(c)
            ),
            StoreFailed => "The file could not be stored; try again.".into(),
            StartFailed => "The import could not be started; try again.".into(),
        }
    }
}

#[cfg(test)]
mod upload_problem_tests {
    use super::UploadProblem::{self, *};

    #[test]
    fn problems_travel_as_codes_and_read_back() {
        let all = [
            NoFile,
            Interrupted,
            TooLarge,
            NotUtf8 { line: 7 },
            Unreadable,
            Empty,
            NoRows,
            TooManyRows { rows: 250_000 },
            Started,
            FormUnreadable,
            Incomplete,
            UnknownField,
            ColumnCount,
            NoEmail,
            Twice { column: 2 },
            BadAttribute { column: 1 },
            StoreFailed,
            StartFailed,
        ];
        for p in all {
            let query = p.to_query();
            let pairs: Vec<(&str, &str)> = query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let code = pairs[0].1;
            let number = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0)
            };
            assert_eq!(UploadProblem::from_query(code, number), Some(p), "{query}");
        }
    }

    #[test]
    fn a_link_cannot_choose_the_words() {
        assert_eq!(
            UploadProblem::from_query("<script>alert(1)</script>", |_| 0),
            None
        );
        assert_eq!(
            UploadProblem::from_query("Your account is locked, call 555", |_| 0),
            None
        );
        let columns = vec!["E-mail".to_string(), "Plan <b>".to_string()];
        assert_eq!(
            BadAttribute { column: 1 }.message(&columns),
            "The attribute name for column “Plan <b>” is not valid: use lower-case letters, digits and _."
        );
        assert!(Twice { column: 9 }.message(&columns).contains("column 10"));
        assert!(NotUtf8 { line: 3 }.message(&[]).contains("line 3"));
    }
}
