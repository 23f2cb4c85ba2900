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

/// A time on two lines, the day above the time of day (for narrow table columns).
#[component]
pub fn TwoLineTime(t: Option<chrono::DateTime<chrono::Utc>>) -> impl IntoView {
    let text = format_time(t);
    match text.split_once(' ') {
        Some((day, time)) => view! {
            <span class="day">{day.to_owned()}</span>" "<span class="time">{time.to_owned()}</span>
        }
        .into_any(),
        None => text.into_any(),
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

/// Runs `act` with the latest value of `source` once it has stopped changing for `ms`
/// milliseconds (in the browser; effects do not run while rendering on the server). The
/// builder and the template editor call the server this way, not on every keystroke.
pub fn debounce<T: Clone + PartialEq + Send + Sync + 'static>(
    source: impl Fn() -> T + Send + Sync + 'static,
    ms: u64,
    act: impl Fn(T) + Clone + Send + Sync + 'static,
) {
    let generation = StoredValue::new(0u64);
    Effect::new(move |previous: Option<T>| {
        let value = source();
        if previous.as_ref() == Some(&value) {
            return value;
        }
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let (act, v) = (act.clone(), value.clone());
        set_timeout(
            move || {
                // (Gone with its page when the page was left meanwhile.)
                if generation.try_get_value() == Some(mine) {
                    act(v);
                }
            },
            std::time::Duration::from_millis(ms),
        );
        value
    });
}

/// The options of a picker over one of the domain's closed lists of choices.
pub fn options<T: herald_core::domain::vocabulary::Choice>(selected: T) -> impl IntoView {
    T::CHOICES
        .iter()
        .map(|c| view! { <option value=c.key() selected=*c == selected>{c.label()}</option> })
        .collect_view()
}

/// Requests made one after another whose answers may arrive in any order: each request takes a
/// ticket, and only the newest ticket's answer is applied, so a slow answer to an older request
/// never overwrites a newer one.
#[derive(Clone, Copy)]
pub struct Latest(StoredValue<u64>);

impl Latest {
    pub fn new() -> Self {
        Latest(StoredValue::new(0))
    }

    /// A ticket for a request about to be sent.
    pub fn ticket(&self) -> u64 {
        self.0.update_value(|t| *t += 1);
        self.0.get_value()
    }

    /// Whether no newer request was made since `ticket`.
    pub fn is_current(&self, ticket: u64) -> bool {
        self.0.get_value() == ticket
    }
}

impl Default for Latest {
    fn default() -> Self {
        Self::new()
    }
}

/// A note shown until the page has hydrated: for pages that only work with JavaScript. (A
/// `<noscript>` would not show when scripts load but fail.)
#[component]
pub fn NeedsJavaScript(what: &'static str) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    move || {
        (!hydrated.get()).then(|| {
            view! { <p class="error" role="alert" data-testid="needs-js">{format!("{what} needs JavaScript.")}</p> }
        })
    }
}

/// Shows `url` in the address bar without navigating, so the page keeps its state (a new
/// template or campaign gets its own address once saved). Browser only.
pub fn replace_url(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some(url));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
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

/// "Send a test" for a saved template or campaign: to the person signed in or to a seed list,
/// through the organisation's provider, marked as a test and left out of every statistic.
#[component]
pub fn TestSendForm(of: &'static str, id: i64) -> impl IntoView {
    let send = ServerAction::<crate::api::messages::SendTest>::new();
    let lists = Resource::new(|| (), |_| crate::api::contacts::list_lists());
    let field = format!("test-to-{of}");
    view! {
        <details class="card test-send" data-testid="test-send">
            <summary>"Send a test"</summary>
            <ActionForm action=send>
                <input type="hidden" name="of" value=of />
                <input type="hidden" name="id" value=id />
                <label for=field.clone()>"Send the test to"</label>
                <select id=field name="to">
                    <option value="me">"Me"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            lists.await.unwrap_or_default().into_iter()
                                .filter(|l| l.kind == herald_core::domain::ListKind::Seed)
                                .map(|l| view! { <option value=l.id.to_string()>{format!("Seed list “{}” ({})", l.name, l.entries)}</option> })
                                .collect_view()
                        })}
                    </Transition>
                </select>
                <button type="submit" disabled=move || send.pending().get()>"Send the test"</button>
            </ActionForm>
            <p class="muted">"Personalised with one of your contacts, subject marked “[Test]”, left out of every statistic. The saved version is sent."</p>
            {move || action_result(send.value().get(), |s| s)}
        </details>
    }
}
