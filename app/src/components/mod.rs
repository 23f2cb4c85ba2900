//! Small pieces shared by pages.

use crate::error::AppError;
use herald_core::domain::Rate;
use leptos::prelude::*;

/// "2026-11-20 09:00 UTC", or "–" for never. (Built from the fields rather than with chrono's
/// `format`, whose pattern machinery adds 30 KB to the browser bundle.)
pub fn format_time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    use chrono::{Datelike, Timelike};
    match t {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        ),
        None => "–".into(),
    }
}

/// 12345 → "12,345".
pub fn format_count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A count with its rate underneath.
#[component]
pub fn CountRate(count: i64, rate: Rate) -> impl IntoView {
    view! {
        <span class="count">{format_count(count)}</span>
        <span class="rate">{rate.display()}</span>
    }
}

/// A server error, shown as the user should read it.
#[component]
pub fn ErrorNote(error: AppError) -> impl IntoView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }
}

/// What a form's action returned: an error, or a success note, or nothing yet.
pub fn action_result<T>(
    value: Option<Result<T, AppError>>,
    success: impl FnOnce(T) -> String,
) -> AnyView {
    match value {
        Some(Err(e)) => view! { <ErrorNote error=e /> }.into_any(),
        Some(Ok(v)) => view! { <p class="notice" role="status">{success(v)}</p> }.into_any(),
        None => ().into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped() {
        for (n, s) in [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1000, "1,000"),
            (12345, "12,345"),
            (1234567, "1,234,567"),
            (-4200, "-4,200"),
        ] {
            assert_eq!(format_count(n), s);
        }
    }

    #[test]
    fn times_are_utc() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-20T09:05:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(format_time(Some(t)), "2026-11-20 09:05 UTC");
        assert_eq!(format_time(None), "–");
    }
}
