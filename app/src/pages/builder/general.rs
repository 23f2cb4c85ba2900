//! General information: name, goal, type, sender, quiet periods, expiry, frequency, lists.

use super::*;
use chrono::NaiveDate;
use herald_core::domain::ListKind;
use herald_core::domain::campaign::{Draft, Frequency, QuietPeriod};
use herald_core::domain::vocabulary::{Choice, FrequencyKind};
use herald_core::domain::{CampaignKind, Channel, MessageType};
use leptos::prelude::*;

#[component]
pub(super) fn General(
    draft: RwSignal<Draft>,
    lists: Vec<herald_core::domain::ListSummary>,
) -> AnyView {
    let text = move |get: fn(&Draft) -> String, set: fn(&mut Draft, String)| {
        (
            move || draft.with(get),
            move |e: leptos::ev::Event| {
                let v = event_target_value(&e);
                draft.update(|d| set(d, v));
            },
        )
    };
    let (name_v, name_set) = text(|d| d.name.clone(), |d, v| d.name = v);
    let (desc_v, desc_set) = text(|d| d.description.clone(), |d, v| d.description = v);
    let (goal_v, goal_set) = text(|d| d.goal.clone(), |d, v| d.goal = v);
    let (from_v, from_set) = text(
        |d| d.settings.from_email.clone(),
        |d, v| d.settings.from_email = v,
    );
    let (fname_v, fname_set) = text(
        |d| d.settings.from_name.clone(),
        |d, v| d.settings.from_name = v,
    );
    let (reply_v, reply_set) = text(
        |d| d.settings.reply_to.clone(),
        |d, v| d.settings.reply_to = v,
    );
    let (lang_v, lang_set) = text(
        |d| d.settings.language.clone(),
        |d, v| d.settings.language = v,
    );
    let seeds: Vec<_> = lists
        .iter()
        .filter(|l| l.kind == ListKind::Seed)
        .cloned()
        .collect();
    let suppressions: Vec<_> = lists
        .iter()
        .filter(|l| l.kind == ListKind::Suppression && !l.global)
        .cloned()
        .collect();
    let freq_kind = move || FrequencyKind::of(draft.with(|d| d.settings.frequency));
    let quiet = move || draft.with(|d| d.settings.quiet_periods.first().copied());
    view! {
        <section class="card" aria-labelledby="b-general">
            <h2 id="b-general">"General information"</h2>
            <div class="grid2">
                <label>"Name"<input name="name" prop:value=name_v on:input=name_set maxlength="200" /></label>
                <label>"Goal " <span class="muted">"(for internal filtering)"</span><input name="goal" prop:value=goal_v on:input=goal_set maxlength="100" /></label>
                <label class="span2">"Description"<input name="description" prop:value=desc_v on:input=desc_set /></label>
                <label>"Campaign type"
                    <select name="kind" on:change=move |e| { let v = event_target_value(&e); if let Ok(k) = v.parse::<CampaignKind>() { draft.update(|d| d.kind = k) } }>
                        {CampaignKind::ALL.iter().map(|k| { let k = *k; view! { <option value=k.as_str() selected=move || draft.with(|d| d.kind == k)>{k.label()}</option> } }).collect_view()}
                    </select>
                </label>
                <label>"Message type"
                    <select name="message_type" on:change=move |e| { if let Ok(m) = event_target_value(&e).parse::<MessageType>() { draft.update(|d| d.message_type = m) } }>
                        {MessageType::ALL.iter().map(|m| { let m = *m; view! { <option value=m.as_str() selected=move || draft.with(|d| d.message_type == m)>{m.label()}</option> } }).collect_view()}
                    </select>
                </label>
                <label>"Channel"
                    <select name="channel" on:change=move |e| { if let Ok(c) = event_target_value(&e).parse::<Channel>() { draft.update(|d| d.channel = c) } }>
                        {Channel::ALL.iter().map(|c| { let c = *c; view! { <option value=c.as_str() selected=move || draft.with(|d| d.channel == c)>{c.label()}</option> } }).collect_view()}
                    </select>
                </label>
                <label>"Priority"
                    <select name="priority" on:change=move |e| { let p = event_target_value(&e).parse().unwrap_or(3); draft.update(|d| d.settings.priority = p) }>
                        {(1u8..=5).map(|p| view! { <option value=p.to_string() selected=move || draft.with(|d| if d.settings.priority == 0 { 3 } else { d.settings.priority.clamp(1, 5) }) == p>{p.to_string()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Sender name"<input name="from_name" prop:value=fname_v on:input=fname_set /></label>
                <label>"Sender address"<input name="from_email" type="email" prop:value=from_v on:input=from_set placeholder="news@example.org" /></label>
                <label>"Reply-to"<input name="reply_to" type="email" prop:value=reply_v on:input=reply_set /></label>
                <label>"Language"<input name="language" prop:value=lang_v on:input=lang_set placeholder="the contact's own" /></label>
                <label>"Expires on"
                    <input name="expires_at" type="date"
                        prop:value=move || draft.with(|d| d.settings.expires_at.map(|t| t.date_naive().to_string()).unwrap_or_default())
                        on:change=move |e| { let v = NaiveDate::parse_from_str(&event_target_value(&e), "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(23, 59, 59)).map(|t| t.and_utc()); draft.update(|d| d.settings.expires_at = v) } />
                </label>
                <label>"Frequency"
                    <select name="frequency" on:change=move |e| {
                        if let Some(k) = FrequencyKind::from_key(&event_target_value(&e)) {
                            draft.update(|d| d.settings.frequency = k.default_frequency())
                        }
                    }>
                        {FrequencyKind::CHOICES.iter().map(|k| view! { <option value=k.key() selected=move || freq_kind() == *k>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                {move || (freq_kind() == FrequencyKind::AtMostEvery).then(|| view! {
                    <label>"N (days)"<input type="number" min="1" max="3650"
                        prop:value=move || draft.with(|d| match d.settings.frequency { Frequency::AtMostEvery { days } => days.to_string(), _ => String::new() })
                        on:change=move |e| { let days = event_target_value(&e).parse().unwrap_or(0); draft.update(|d| d.settings.frequency = Frequency::AtMostEvery { days }) } /></label>
                })}
                <label>"Seed list"
                    <select name="seed_list" on:change=move |e| { let v = event_target_value(&e).parse().ok(); draft.update(|d| d.settings.seed_list_id = v) }>
                        <option value="">"None"</option>
                        {seeds.into_iter().map(|l| { let lid = l.id; view! { <option value=l.id.to_string() selected=move || draft.with(|d| d.settings.seed_list_id == Some(lid))>{l.name}</option> } }).collect_view()}
                    </select>
                </label>
                <fieldset class="span2">
                    <legend>"Quiet period " <span class="muted">"(in the recipient's time zone; nothing is sent)"</span></legend>
                    <label class="inline"><input type="checkbox" prop:checked=move || quiet().is_some()
                        on:change=move |e| { let on = event_target_checked(&e); draft.update(|d| d.settings.quiet_periods = if on { vec![QuietPeriod { start: 22 * 60, end: 7 * 60 }] } else { vec![] }) } />" Hold messages"</label>
                    {move || quiet().map(|q| view! {
                        <label class="inline">" from "<input type="time" prop:value=hhmm(q.start) on:change=move |e| { if let Some(m) = minute_of(&event_target_value(&e)) { draft.update(|d| if let Some(q) = d.settings.quiet_periods.first_mut() { q.start = m }) } } /></label>
                        <label class="inline">" to "<input type="time" prop:value=hhmm(q.end) on:change=move |e| { if let Some(m) = minute_of(&event_target_value(&e)) { draft.update(|d| if let Some(q) = d.settings.quiet_periods.first_mut() { q.end = m }) } } /></label>
                    })}
                </fieldset>
                {(!suppressions.is_empty()).then(|| view! {
                    <fieldset class="span2">
                        <legend>"Suppression lists " <span class="muted">"(the organisation's global list always applies)"</span></legend>
                        {suppressions.into_iter().map(|l| { let lid = l.id; view! {
                            <label class="inline"><input type="checkbox" prop:checked=move || draft.with(|d| d.settings.suppression_list_ids.contains(&lid))
                                on:change=move |e| { let on = event_target_checked(&e); draft.update(|d| { d.settings.suppression_list_ids.retain(|x| *x != lid); if on { d.settings.suppression_list_ids.push(lid) } }) } />" "{l.name}</label>
                        } }).collect_view()}
                    </fieldset>
                })}
            </div>
        </section>
    }
    .into_any()
}
