//! The trigger editor: when a campaign sends.

use chrono::{DateTime, NaiveDateTime, Utc};
use herald_core::domain::audience::Unit;
use herald_core::domain::trigger::{Cadence, RecordDate, Relation, Trigger};
use leptos::prelude::*;

// ---------------------------------------------------------------------------------------------

pub(super) fn trigger_kind(t: &Option<Trigger>) -> &'static str {
    match t {
        None => "",
        Some(Trigger::Immediately) => "immediately",
        Some(Trigger::At { .. }) => "at",
        Some(Trigger::Recurring { .. }) => "recurring",
        Some(Trigger::Relative { .. }) => "relative",
        Some(Trigger::SegmentEntered { .. }) => "segment",
        Some(Trigger::Event { .. }) => "event",
    }
}

pub(super) fn default_trigger(
    kind: &str,
    now: DateTime<Utc>,
    segments: &[(i64, String)],
) -> Option<Trigger> {
    Some(match kind {
        "immediately" => Trigger::Immediately,
        "at" => Trigger::At {
            at: now + chrono::Duration::days(1),
        },
        "recurring" => Trigger::Recurring {
            cadence: Cadence::Weekly { weekday: 0 },
            minute: 9 * 60,
        },
        "relative" => Trigger::Relative {
            date: RecordDate::CredentialExpires,
            relation: Relation::Before,
            amount: 30,
            unit: Unit::Days,
        },
        "segment" => Trigger::SegmentEntered {
            segment_id: segments.first().map_or(0, |s| s.0),
        },
        "event" => Trigger::Event {
            name: String::new(),
        },
        _ => return None,
    })
}

pub(super) fn unit_key(u: Unit) -> &'static str {
    match u {
        Unit::Days => "days",
        Unit::Weeks => "weeks",
        Unit::Months => "months",
    }
}

pub(super) fn unit_from(s: &str) -> Unit {
    match s {
        "weeks" => Unit::Weeks,
        "months" => Unit::Months,
        _ => Unit::Days,
    }
}

pub(super) fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

pub(super) fn minute_of(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

#[component]
pub(super) fn TriggerEditor(
    trigger: RwSignal<Option<Trigger>>,
    now: DateTime<Utc>,
    segments: Vec<(i64, String)>,
) -> AnyView {
    let kind = Memo::new(move |_| trigger_kind(&trigger.get()));
    let segs = segments.clone();
    let params = move || {
        let segments = segs.clone();
        match trigger.get_untracked() {
            None | Some(Trigger::Immediately) => ().into_any(),
            Some(Trigger::At { at }) => view! {
                <label>"Send at (UTC)"
                    <input type="datetime-local" prop:value=at.format("%Y-%m-%dT%H:%M").to_string()
                        on:change=move |e| { if let Ok(t) = NaiveDateTime::parse_from_str(&event_target_value(&e), "%Y-%m-%dT%H:%M") { trigger.set(Some(Trigger::At { at: t.and_utc() })) } } />
                </label>
            }.into_any(),
            Some(Trigger::Recurring { cadence, minute }) => {
                let c = RwSignal::new(cadence);
                let m = RwSignal::new(minute);
                let emit = move || trigger.set(Some(Trigger::Recurring { cadence: c.get_untracked(), minute: m.get_untracked() }));
                let ck = move || match c.get() { Cadence::Daily => "daily", Cadence::Weekly { .. } => "weekly", Cadence::Monthly { .. } => "monthly" };
                view! {
                    <select aria-label="How often" on:change=move |e| {
                        c.set(match event_target_value(&e).as_str() { "daily" => Cadence::Daily, "monthly" => Cadence::Monthly { day: 1 }, _ => Cadence::Weekly { weekday: 0 } });
                        emit()
                    }>
                        <option value="daily" selected=ck() == "daily">"every day"</option>
                        <option value="weekly" selected=ck() == "weekly">"every week"</option>
                        <option value="monthly" selected=ck() == "monthly">"every month"</option>
                    </select>
                    {move || match c.get() {
                        Cadence::Weekly { weekday } => view! {
                            <select aria-label="Day of the week" on:change=move |e| { let d = event_target_value(&e).parse().unwrap_or(0); c.set(Cadence::Weekly { weekday: d }); emit() }>
                                {["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"].iter().enumerate().map(|(i, d)| view! { <option value=i.to_string() selected=i as u8 == weekday>{*d}</option> }).collect_view()}
                            </select>
                        }.into_any(),
                        Cadence::Monthly { day } => view! {
                            <label class="inline">" on day "<input type="number" min="1" max="28" prop:value=day.to_string()
                                on:change=move |e| { let d = event_target_value(&e).parse().unwrap_or(1); c.set(Cadence::Monthly { day: d }); emit() } /></label>
                        }.into_any(),
                        Cadence::Daily => ().into_any(),
                    }}
                    <label class="inline">" at "<input type="time" prop:value=hhmm(minute)
                        on:change=move |e| { if let Some(x) = minute_of(&event_target_value(&e)) { m.set(x); emit() } } />" UTC"</label>
                }.into_any()
            }
            Some(Trigger::Relative { date, relation, amount, unit }) => {
                let st = RwSignal::new((date, relation, amount, unit));
                let emit = move || { let (date, relation, amount, unit) = st.get_untracked(); trigger.set(Some(Trigger::Relative { date, relation, amount, unit })) };
                view! {
                    <input type="number" min="0" max="3650" aria-label="How many" prop:value=amount.to_string()
                        on:change=move |e| { let a = event_target_value(&e).parse().unwrap_or(0); st.update(|s| s.2 = a); emit() } />
                    <select aria-label="Unit" on:change=move |e| { let u = unit_from(&event_target_value(&e)); st.update(|s| s.3 = u); emit() }>
                        {[Unit::Days, Unit::Weeks, Unit::Months].into_iter().map(|u| view! { <option value=unit_key(u) selected=u == unit>{unit_key(u)}</option> }).collect_view()}
                    </select>
                    <select aria-label="Before, on or after" on:change=move |e| {
                        let r = match event_target_value(&e).as_str() { "on" => Relation::On, "after" => Relation::After, _ => Relation::Before };
                        st.update(|s| s.1 = r); emit()
                    }>
                        <option value="before" selected=relation == Relation::Before>"before"</option>
                        <option value="on" selected=relation == Relation::On>"on the day"</option>
                        <option value="after" selected=relation == Relation::After>"after"</option>
                    </select>
                    <select aria-label="Record date" on:change=move |e| { if let Some(d) = RecordDate::from_key(&event_target_value(&e)) { st.update(|s| s.0 = d); emit() } }>
                        {RecordDate::ALL.into_iter().map(|d| view! { <option value=d.key() selected=d == date>{d.label()}</option> }).collect_view()}
                    </select>
                }.into_any()
            }
            Some(Trigger::SegmentEntered { segment_id }) => view! {
                {segments.is_empty().then(|| view! { <p class="muted">"No segments yet: save one from the contact list's filters."</p> })}
                <select aria-label="Segment" on:change=move |e| { let s = event_target_value(&e).parse().unwrap_or(0); trigger.set(Some(Trigger::SegmentEntered { segment_id: s })) }>
                    {segments.into_iter().map(|(id, name)| view! { <option value=id.to_string() selected=id == segment_id>{name}</option> }).collect_view()}
                </select>
            }.into_any(),
            Some(Trigger::Event { name }) => view! {
                <input aria-label="Event name" placeholder="invoice_paid" prop:value=name
                    on:change=move |e| trigger.set(Some(Trigger::Event { name: event_target_value(&e).trim().to_string() })) />
            }.into_any(),
        }
    };
    view! {
        <section class="card" aria-labelledby="b-trigger">
            <h2 id="b-trigger">"Trigger"</h2>
            <label for="b-trigger-kind">"When does it send?"</label>
            <select id="b-trigger-kind" on:change=move |e| trigger.set(default_trigger(&event_target_value(&e), now, &segments))>
                <option value="" selected=move || kind.get().is_empty()>"Choose…"</option>
                <option value="immediately" selected=move || kind.get() == "immediately">"Immediately on activation"</option>
                <option value="at" selected=move || kind.get() == "at">"At a date and time"</option>
                <option value="recurring" selected=move || kind.get() == "recurring">"Recurring"</option>
                <option value="relative" selected=move || kind.get() == "relative">"Before, on or after a record date"</option>
                <option value="segment" selected=move || kind.get() == "segment">"When a contact enters a segment"</option>
                <option value="event" selected=move || kind.get() == "event">"When an event is received"</option>
            </select>
            <div class="params">{move || { kind.track(); params() }}</div>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(hhmm(9 * 60 + 5), "09:05");
        assert_eq!(minute_of("23:59"), Some(1439));
        assert_eq!(minute_of("24:00"), None);
        assert_eq!(minute_of("noon"), None);
    }
}
