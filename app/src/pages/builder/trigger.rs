//! The trigger editor: when a campaign sends.

use crate::components::options;
use chrono::{DateTime, NaiveDateTime, Utc};
use herald_core::domain::audience::Unit;
use herald_core::domain::trigger::{Cadence, RecordDate, Relation, Trigger};
use herald_core::domain::vocabulary::{CadenceKind, Choice, TriggerKind, WEEKDAYS};
use leptos::prelude::*;

// ---------------------------------------------------------------------------------------------

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
    time_zone: String,
) -> AnyView {
    let kind = Memo::new(move |_| trigger.with(|t| t.as_ref().map(TriggerKind::of)));
    let segs = segments.clone();
    let params = move || {
        let segments = segs.clone();
        let time_zone = time_zone.clone();
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
                view! {
                    <select aria-label="How often" on:change=move |e| {
                        if let Some(k) = CadenceKind::from_key(&event_target_value(&e)) { c.set(k.default_cadence()); emit() }
                    }>
                        {options(CadenceKind::of(cadence))}
                    </select>
                    {move || match c.get() {
                        Cadence::Weekly { weekday } => view! {
                            <select aria-label="Day of the week" on:change=move |e| { let d = event_target_value(&e).parse().unwrap_or(0); c.set(Cadence::Weekly { weekday: d }); emit() }>
                                {WEEKDAYS.iter().enumerate().map(|(i, d)| view! { <option value=i.to_string() selected=i as u8 == weekday>{*d}</option> }).collect_view()}
                            </select>
                        }.into_any(),
                        Cadence::Monthly { day } => view! {
                            <label class="inline">" on day "<input type="number" min="1" max="28" prop:value=day.to_string()
                                on:change=move |e| { let d = event_target_value(&e).parse().unwrap_or(1); c.set(Cadence::Monthly { day: d }); emit() } /></label>
                        }.into_any(),
                        Cadence::Daily => ().into_any(),
                    }}
                    <label class="inline">" at "<input type="time" prop:value=hhmm(minute)
                        on:change=move |e| { if let Some(x) = minute_of(&event_target_value(&e)) { m.set(x); emit() } } />{format!(" {time_zone}")}</label>
                }.into_any()
            }
            Some(Trigger::Relative { date, relation, amount, unit }) => {
                let st = RwSignal::new((date, relation, amount, unit));
                let emit = move || { let (date, relation, amount, unit) = st.get_untracked(); trigger.set(Some(Trigger::Relative { date, relation, amount, unit })) };
                view! {
                    <input type="number" min="0" max="3650" aria-label="How many" prop:value=amount.to_string()
                        on:change=move |e| { let a = event_target_value(&e).parse().unwrap_or(0); st.update(|s| s.2 = a); emit() } />
                    <select aria-label="Unit" on:change=move |e| { if let Some(u) = Unit::from_key(&event_target_value(&e)) { st.update(|s| s.3 = u); emit() } }>
                        {options(unit)}
                    </select>
                    <select aria-label="Before, on or after" on:change=move |e| {
                        let r = Relation::from_key(&event_target_value(&e)).unwrap_or(Relation::Before);
                        st.update(|s| s.1 = r); emit()
                    }>
                        {options(relation)}
                    </select>
                    <select aria-label="Record date" on:change=move |e| { if let Some(d) = RecordDate::from_key(&event_target_value(&e)) { st.update(|s| s.0 = d); emit() } }>
                        {options(date)}
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
            <select id="b-trigger-kind" on:change=move |e| {
                let first_segment = segments.first().map(|s| s.0);
                trigger.set(TriggerKind::from_key(&event_target_value(&e)).map(|k| k.default_trigger(now, first_segment)))
            }>
                <option value="" selected=move || kind.get().is_none()>"Choose…"</option>
                {TriggerKind::CHOICES.iter().map(|k| view! { <option value=k.key() selected=move || kind.get() == Some(*k)>{k.label()}</option> }).collect_view()}
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
