//! The audience editor: conditions joined by "all" or "any", each one optionally excluded.

use crate::components::{format_count, options};
use herald_core::domain::MessageType;
use herald_core::domain::audience::{
    CredentialDate, Engagement, EnrollmentState, Filter, Unit, Window,
};
use herald_core::domain::vocabulary::{Choice, ConditionKind};
use leptos::prelude::*;

// ---------------------------------------------------------------------------------------------
// Audience rows: a list of conditions joined by "all" or "any", each one optionally excluded.

#[derive(Clone, Copy)]
pub(super) struct Row {
    pub(super) key: u64,
    pub(super) exclude: RwSignal<bool>,
    pub(super) filter: RwSignal<Filter>,
}

pub(super) fn last(amount: u32, unit: Unit) -> Window {
    Window::Last { amount, unit }
}

/// The audience as rows: the top "all"/"any" list, with `not` shown as "exclude".
pub(super) fn rows_of(audience: &Filter) -> (bool, Vec<(bool, Filter)>) {
    let split = |f: &Filter| match f {
        Filter::Not { not } => (true, (**not).clone()),
        other => (false, other.clone()),
    };
    match audience {
        Filter::All { of } => (false, of.iter().map(split).collect()),
        Filter::Any { of } => (true, of.iter().map(split).collect()),
        other => (false, vec![split(other)]),
    }
}

pub(super) fn audience_of(any: bool, rows: &[Row]) -> Filter {
    let of = rows
        .iter()
        .map(|r| {
            let f = r.filter.get();
            if r.exclude.get() {
                Filter::Not { not: Box::new(f) }
            } else {
                f
            }
        })
        .collect();
    if any {
        Filter::Any { of }
    } else {
        Filter::All { of }
    }
}

#[component]
pub(super) fn WindowEditor(
    window: Window,
    on_change: impl Fn(Window) + Copy + Send + Sync + 'static,
    #[prop(default = false)] past_only: bool,
) -> AnyView {
    let (dir_next, amount, unit) = match window {
        Window::Last { amount, unit } => (false, amount, unit),
        Window::Next { amount, unit } => (true, amount, unit),
    };
    let state = RwSignal::new((dir_next, amount, unit));
    let emit = move || {
        let (n, a, u) = state.get_untracked();
        on_change(if n {
            Window::Next { amount: a, unit: u }
        } else {
            Window::Last { amount: a, unit: u }
        });
    };
    view! {
        <span class="window">
            {(!past_only).then(|| view! {
                <select aria-label="Direction" on:change=move |e| { let n = event_target_value(&e) == "next"; state.update(|s| s.0 = n); emit() }>
                    <option value="last" selected=!dir_next>"in the last"</option>
                    <option value="next" selected=dir_next>"in the next"</option>
                </select>
            })}
            {past_only.then_some(" in the last ")}
            <input type="number" min="1" max="3650" aria-label="Amount" prop:value=amount.to_string()
                on:change=move |e| { let a = event_target_value(&e).parse().unwrap_or(1); state.update(|s| s.1 = a); emit() } />
            <select aria-label="Unit" on:change=move |e| { if let Some(u) = Unit::from_key(&event_target_value(&e)) { state.update(|s| s.2 = u); emit() } }>
                {options(unit)}
            </select>
        </span>
    }
    .into_any()
}

#[component]
pub(super) fn ConditionRow(
    row: Row,
    groups: Vec<(i64, String)>,
    on_remove: impl Fn() + Copy + Send + Sync + 'static,
) -> AnyView {
    let filter = row.filter;
    let kind = Memo::new(move |_| ConditionKind::of(&filter.get()));
    let groups2 = groups.clone();
    let params = move || {
        let f = filter.get_untracked();
        let groups = groups2.clone();
        match f {
            Filter::InGroup { group_id } => view! {
                <select aria-label="Group" on:change=move |e| { let g = event_target_value(&e).parse().unwrap_or(0); filter.set(Filter::InGroup { group_id: g }) }>
                    {groups.into_iter().map(|(id, name)| view! { <option value=id.to_string() selected=id == group_id>{name}</option> }).collect_view()}
                </select>
            }.into_any(),
            Filter::Credential { collection, date } => {
                let coll = RwSignal::new(collection.unwrap_or_default());
                let which = RwSignal::new(date.map(|d| d.0));
                let win = RwSignal::new(date.map_or(Window::Next { amount: 30, unit: Unit::Days }, |d| d.1));
                let emit = move || filter.set(Filter::Credential {
                    collection: Some(coll.get_untracked()).filter(|c| !c.trim().is_empty()),
                    date: which.get_untracked().map(|w| (w, win.get_untracked())),
                });
                view! {
                    <input aria-label="Collection (any if empty)" placeholder="any collection" prop:value=coll.get_untracked() on:change=move |e| { coll.set(event_target_value(&e)); emit() } />
                    <select aria-label="Credential date" on:change=move |e| {
                        which.set(CredentialDate::from_key(&event_target_value(&e)));
                        emit()
                    }>
                        <option value="" selected=which.get_untracked().is_none()>"at any date"</option>
                        {CredentialDate::CHOICES.iter().map(|d| view! { <option value=d.key() selected=which.get_untracked() == Some(*d)>{d.label()}</option> }).collect_view()}
                    </select>
                    <WindowEditor window=win.get_untracked() on_change=move |w| { win.set(w); emit() } />
                }.into_any()
            }
            Filter::Enrollment(en) => {
                let state = RwSignal::new(en);
                let emit = move || filter.set(Filter::Enrollment(state.get_untracked()));
                let st = state.get_untracked().state;
                view! {
                    <select aria-label="Enrollment state" on:change=move |e| {
                        let s = EnrollmentState::from_key(&event_target_value(&e));
                        state.update(|f| f.state = s); emit()
                    }>
                        <option value="" selected=st.is_none()>"in any state"</option>
                        {EnrollmentState::CHOICES.iter().map(|s| view! { <option value=s.key() selected=st == Some(*s)>{s.label()}</option> }).collect_view()}
                    </select>
                    <input aria-label="Category" placeholder="any category" prop:value=state.get_untracked().category.unwrap_or_default()
                        on:change=move |e| { let v = event_target_value(&e); state.update(|f| f.category = Some(v).filter(|c| !c.trim().is_empty())); emit() } />
                    <input aria-label="Trainer" placeholder="any trainer" prop:value=state.get_untracked().trainer.unwrap_or_default()
                        on:change=move |e| { let v = event_target_value(&e); state.update(|f| f.trainer = Some(v).filter(|c| !c.trim().is_empty())); emit() } />
                    <label class="inline"><input type="checkbox" prop:checked=state.get_untracked().exclude_remote
                        on:change=move |e| { let on = event_target_checked(&e); state.update(|f| f.exclude_remote = on); emit() } />" exclude remote courses"</label>
                }.into_any()
            }
            Filter::Booking { within } => view! { <WindowEditor window=within on_change=move |w| filter.set(Filter::Booking { within: w }) /> }.into_any(),
            Filter::Ordered { within } => view! { <WindowEditor window=within on_change=move |w| filter.set(Filter::Ordered { within: w }) past_only=true /> }.into_any(),
            Filter::Created { within } => view! { <WindowEditor window=within on_change=move |w| filter.set(Filter::Created { within: w }) past_only=true /> }.into_any(),
            Filter::Event { name, within } => {
                let n = RwSignal::new(name);
                let w = RwSignal::new(within.unwrap_or(last(90, Unit::Days)));
                let emit = move || filter.set(Filter::Event { name: n.get_untracked(), within: Some(w.get_untracked()) });
                view! {
                    <input aria-label="Event name" placeholder="course_completed" prop:value=n.get_untracked() on:change=move |e| { n.set(event_target_value(&e)); emit() } />
                    <WindowEditor window=w.get_untracked() on_change=move |x| { w.set(x); emit() } past_only=true />
                }.into_any()
            }
            Filter::Engagement { activity, within } => {
                let a = RwSignal::new(activity);
                let w = RwSignal::new(within);
                let emit = move || filter.set(Filter::Engagement { activity: a.get_untracked(), within: w.get_untracked() });
                view! {
                    <select aria-label="Engagement" on:change=move |e| {
                        if let Some(x) = Engagement::from_key(&event_target_value(&e)) { a.set(x); emit() }
                    }>
                        {options(activity)}
                    </select>
                    <WindowEditor window=within on_change=move |x| { w.set(x); emit() } past_only=true />
                }.into_any()
            }
            Filter::Consent { message_type } => view! {
                <select aria-label="Message type" on:change=move |e| { if let Ok(m) = event_target_value(&e).parse::<MessageType>() { filter.set(Filter::Consent { message_type: m }) } }>
                    {MessageType::ALL.iter().map(|m| view! { <option value=m.as_str() selected=*m == message_type>{m.label()}" messages"</option> }).collect_view()}
                </select>
            }.into_any(),
            Filter::Language { code } => view! {
                <input aria-label="Language code" size="6" prop:value=code on:change=move |e| filter.set(Filter::Language { code: event_target_value(&e).trim().to_lowercase() }) />
            }.into_any(),
            Filter::Contacts { ids } => view! { <span>{format!("{} contacts picked on the contact list", format_count(ids.len() as i64))}</span> }.into_any(),
            Filter::All { .. } | Filter::Any { .. } | Filter::Not { .. } => view! { <span class="muted">"A nested group of conditions (made through the API); kept as it is."</span> }.into_any(),
            _ => ().into_any(),
        }
    };
    view! {
        <li class="condition">
            <label class="inline"><input type="checkbox" prop:checked=move || row.exclude.get() on:change=move |e| row.exclude.set(event_target_checked(&e)) />" exclude"</label>
            <select aria-label="Condition" on:change=move |e| {
                if let Some(k) = ConditionKind::from_key(&event_target_value(&e)) {
                    filter.set(k.default_filter(groups.first().map(|g| g.0)))
                }
            }>
                {ConditionKind::CHOICES.iter().map(|k| view! { <option value=k.key() selected=move || kind.get() == Some(*k)>{k.label()}</option> }).collect_view()}
                {move || kind.get().is_none().then(|| view! { <option value="nested" selected=true>"Nested conditions"</option> })}
            </select>
            {move || { kind.track(); params() }}
            <button type="button" class="small link" on:click=move |_| on_remove()>"Remove"</button>
        </li>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::domain::audience::Filter;

    #[test]
    fn audiences_round_trip_through_rows() {
        let cases = [
            Filter::everyone(),
            Filter::All {
                of: vec![
                    Filter::ActiveContact,
                    Filter::Not {
                        not: Box::new(Filter::InGroup { group_id: 3 }),
                    },
                ],
            },
            Filter::Any {
                of: vec![Filter::ValidPass, Filter::ActiveSubscription],
            },
        ];
        let owner = Owner::new();
        owner.with(|| {
            for f in cases {
                let (any, rows) = rows_of(&f);
                let rows: Vec<Row> = rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, (e, f))| Row {
                        key: i as u64,
                        exclude: RwSignal::new(e),
                        filter: RwSignal::new(f),
                    })
                    .collect();
                assert_eq!(audience_of(any, &rows), f);
            }
        });
        // A single condition becomes a one-row "all".
        assert_eq!(
            rows_of(&Filter::ValidPass),
            (false, vec![(false, Filter::ValidPass)])
        );
    }
}
