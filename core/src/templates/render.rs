//! The template engine: minijinja, configured for messages written by marketers and read by
//! recipients.
//! - The HTML body is auto-escaped: a contact named `<script>` is shown, never run. Subject,
//!   preheader and text body are plain text and are not escaped (there is nothing to escape
//!   into); line breaks are removed from the subject.
//! - Undefined variables are errors (strict mode), so an unknown tag never renders as a blank.
//! - Rendering runs on fuel, so a template cannot loop for ever.
//! - [`check`] finds syntax errors (with line and column) and tags Herald does not know, before
//!   anything is saved.

use crate::domain::template::{Content, Issue, Part, Tag, is_known};
use chrono::NaiveDate;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};
use serde::Serialize;

/// Instructions a single part may execute: plenty for loops over a contact's records, far
/// below anything that would hold a worker up.
const FUEL: u64 = 50_000;

fn part_name(part: Part) -> &'static str {
    match part {
        Part::Subject => "subject",
        Part::Preheader => "preheader",
        Part::Html => "html",
        Part::Text => "text",
    }
}

/// `{{ record.expires_at|date }}` → "24 November 2026"; `|date("%d/%m/%Y")` for another
/// format. Dates reach templates as `YYYY-MM-DD`.
fn date_filter(value: String, format: Option<String>) -> Result<String, Error> {
    let day =
        NaiveDate::parse_from_str(value.get(..10).unwrap_or(&value), "%Y-%m-%d").map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("{value:?} is not a date"),
            )
        })?;
    let format = format.unwrap_or_else(|| "%-d %B %Y".to_string());
    let mut out = String::new();
    use std::fmt::Write;
    write!(out, "{}", day.format(&format)).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("{format:?} is not a date format"),
        )
    })?;
    Ok(out)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name == "html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_fuel(Some(FUEL));
    env.add_filter("date", date_filter);
    env
}

/// 1-based column of byte offset `at` in `source`, counted in characters.
fn column(source: &str, at: usize) -> usize {
    let at = at.min(source.len());
    let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    source
        .get(line_start..at)
        .map_or(1, |s| s.chars().count() + 1)
}

fn syntax_issue(part: Part, source: &str, e: &Error) -> Issue {
    let line = e.line().unwrap_or(1);
    let column = match e.range() {
        Some(r) => column(source, r.start),
        None => 1,
    };
    Issue::Syntax {
        part,
        line,
        column,
        message: e
            .detail()
            .map(str::to_string)
            .unwrap_or_else(|| e.kind().to_string()),
    }
}

/// Everything wrong with a template's content: syntax errors (which block saving) and tags not
/// in `tags` (reported; a campaign cannot be activated with them).
pub fn check(content: &Content, tags: &[Tag]) -> Vec<Issue> {
    let env = environment();
    let globals: Vec<String> = env.globals().map(|(name, _)| name.to_string()).collect();
    let mut issues = Vec::new();
    for part in Part::ALL {
        let source = part.of(content);
        match env.template_from_named_str(part_name(part), source) {
            Err(e) => issues.push(syntax_issue(part, source, &e)),
            Ok(template) => {
                let mut used: Vec<String> =
                    template.undeclared_variables(true).into_iter().collect();
                used.sort();
                for tag in used {
                    let root = tag.split('.').next().unwrap_or(&tag);
                    if !globals.iter().any(|g| g == root) && !is_known(&tag, tags) {
                        issues.push(Issue::UnknownTag { part, tag });
                    }
                }
            }
        }
    }
    issues
}

/// A message ready for one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub preheader: String,
    pub html: String,
    pub text: String,
}

/// Why a message could not be rendered: the part, and minijinja's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", part.label())]
pub struct RenderError {
    pub part: Part,
    pub line: Option<usize>,
    pub message: String,
}

/// Renders every part of `content` for one recipient. `context` is serialised into the
/// template's variables (`contact`, `record`, `unsubscribe_url`, …).
pub fn render<C: Serialize>(content: &Content, context: &C) -> Result<Rendered, RenderError> {
    let env = environment();
    let context = Value::from_serialize(context);
    let one = |part: Part| -> Result<String, RenderError> {
        let fail = |e: Error| RenderError {
            part,
            line: e.line(),
            message: match e.detail() {
                Some(d) => format!("{} ({d})", e.kind()),
                None => e.kind().to_string(),
            },
        };
        let template = env
            .template_from_named_str(part_name(part), part.of(content))
            .map_err(fail)?;
        template.render(&context).map_err(fail)
    };
    let subject = one(Part::Subject)?
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Rendered {
        subject,
        preheader: one(Part::Preheader)?,
        html: one(Part::Html)?,
        text: one(Part::Text)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::template::tags;
    use serde_json::json;

    fn content(subject: &str, html: &str, text: &str) -> Content {
        Content {
            subject: subject.into(),
            preheader: String::new(),
            html: html.into(),
            text: text.into(),
        }
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let cases = [
            // (html, line, column)
            // The position is where the parser gave up: the last token it read.
            ("Hello {{ contact.first_name", 1, 18),
            ("<p>\n  {% if x %}open", 2, 13),
            ("a\nb\nc {{ contact.first_name }\n", 3, 25),
            ("{% for %}", 1, 8),
            ("é{{ contact.first_name }", 1, 24),
        ];
        for (html, line, col) in cases {
            let issues = check(&content("Hi", html, ""), &tags(None, &[]));
            let syntax: Vec<_> = issues.iter().filter(|i| i.blocks_saving()).collect();
            assert_eq!(syntax.len(), 1, "{html:?}: {issues:?}");
            let Issue::Syntax {
                part,
                line: l,
                column: c,
                ..
            } = syntax[0]
            else {
                unreachable!()
            };
            assert_eq!(*part, Part::Html, "{html:?}");
            assert_eq!(*l, line, "{html:?} line");
            assert_eq!((*l, *c), (line, col), "{html:?}");
        }
    }

    #[test]
    fn unknown_tags_are_reported_and_known_ones_are_not() {
        let t = tags(Some("credential"), &["plan".to_string()]);
        let c = Content {
            subject: "{{ contact.first_name }}, your {{ record.name }} expires".into(),
            preheader: "{{ contact.nick }}".into(),
            html: "{% for x in range(3) %}{{ x }}{% endfor %}{{ contact.attributes.plan }}{{ record.trainer }}"
                .into(),
            text: "{% set n = contact.name %}{{ n }} {{ unsubscribe_url }} {{ coupon }}".into(),
        };
        let unknown: Vec<String> = check(&c, &t).into_iter().map(|i| i.describe()).collect();
        assert_eq!(
            unknown,
            vec![
                "Preheader: unknown tag “{{ contact.nick }}”",
                "HTML body: unknown tag “{{ record.trainer }}”",
                "Text body: unknown tag “{{ coupon }}”",
            ]
        );
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let ctx = json!({"contact": {"first_name": "<b>Ann</b> & co"}});
        let r = render(
            &content(
                "Hi {{ contact.first_name }}\nthere",
                "<p>{{ contact.first_name }}</p>",
                "{{ contact.first_name }}",
            ),
            &ctx,
        )
        .unwrap();
        assert_eq!(r.subject, "Hi <b>Ann</b> & co there");
        assert_eq!(r.html, "<p>&lt;b&gt;Ann&lt;&#x2f;b&gt; &amp; co</p>");
        assert_eq!(r.text, "<b>Ann</b> & co");
    }

    #[test]
    fn missing_values_fail_instead_of_rendering_blank() {
        let ctx = json!({"contact": {"first_name": "Ann"}});
        let err = render(&content("{{ contact.nickname }}", "", ""), &ctx).unwrap_err();
        assert_eq!(err.part, Part::Subject);
        assert!(err.message.contains("undefined"), "{}", err.message);
    }

    #[test]
    fn dates_format_for_people() {
        let ctx = json!({"record": {"expires_at": "2026-11-24"}});
        let cases = [
            ("{{ record.expires_at|date }}", "24 November 2026"),
            ("{{ record.expires_at|date('%d/%m/%Y') }}", "24/11/2026"),
        ];
        for (text, expected) in cases {
            let r = render(&content("", "", text), &ctx).unwrap();
            assert_eq!(r.text, expected);
        }
        let bad = render(&content("", "", "{{ 'soon'|date }}"), &ctx).unwrap_err();
        assert!(bad.message.contains("not a date"), "{}", bad.message);
    }

    #[test]
    fn endless_templates_run_out_of_fuel() {
        let err = render(
            &content(
                "",
                "",
                "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
            ),
            &json!({}),
        )
        .unwrap_err();
        assert!(err.message.contains("fuel"), "{}", err.message);
    }
}
