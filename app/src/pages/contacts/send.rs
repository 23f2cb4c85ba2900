//! Send now: a message to the contacts selected on the contact list (the ticked ones, or all
//! that match the filters), by email or SMS, with a template or a message written here. It goes
//! out within seconds as a campaign of its own, recorded in the campaign list. Works without
//! JavaScript; with it, the page shows live who the message will reach for the chosen type and
//! channel (the rule the sender applies).

use crate::api::audience::count_audience;
use crate::api::contacts::contact_filter;
use crate::api::messages::{SendNow, SendNowStart, open_send_now};
use crate::components::{ErrorNote, Latest, format_count};
use herald_core::domain::delivery::{Reach, ReachRule};
use herald_core::domain::{Channel, MessageType};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SendNowPage() -> impl IntoView {
    let query = use_query_map();
    let start = Resource::new(
        move || {
            super::selection_of(&query.read())
                .unwrap_or_else(|| (contact_filter(None, None, None, None), Vec::new(), false))
        },
        |(filter, ids, all)| open_send_now(filter, ids, all),
    );
    view! {
        <Title text="Send now" />
        <p class="crumbs"><a href="/contacts">"← Contacts"</a></p>
        <h1>"Send now"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match start.await {
                    Ok(s) => view! { <SendNowForm s noun="selected" /> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SendNowForm(s: SendNowStart, noun: &'static str) -> impl IntoView {
    let send = ServerAction::<SendNow>::new();
    let channel = RwSignal::new(Channel::Email);
    let message_type = RwSignal::new(MessageType::Operational);
    let template = RwSignal::new("quick".to_owned());
    let audience = s.audience.clone();
    let audience_json = serde_json::to_string(&s.audience).unwrap_or_default();
    // Who it reaches: for the defaults as the page came (without JavaScript, that is all), then
    // asked again whenever the type or the channel changes. Answers can arrive out of order:
    // only the newest is shown.
    let reach: RwSignal<Result<Reach, String>> =
        RwSignal::new(Ok(s.count.reach.clone().unwrap_or_default()));
    let asking = Latest::new();
    Effect::new(move |first: Option<()>| {
        let rule = ReachRule {
            message_type: message_type.get(),
            channel: channel.get(),
            suppression_list_ids: Vec::new(),
        };
        if first.is_none() {
            return; // The page came with the defaults' reach.
        }
        let audience = audience.clone();
        let ticket = asking.ticket();
        leptos::task::spawn_local(async move {
            let answer = count_audience(audience, Some(rule)).await;
            if asking.is_current(ticket) {
                reach.set(
                    answer
                        .map(|c| c.reach.unwrap_or_default())
                        .map_err(|e| e.to_string()),
                );
            }
        });
    });
    let matched = s.count.count;
    view! {
        <p data-testid="selection-size"><strong>{format!("{} contacts {noun}", format_count(matched as i64))}</strong></p>
        <div role="status" aria-live="polite" data-testid="send-reach">
            {move || match reach.get() {
                Ok(r) => {
                    let rule = ReachRule { message_type: message_type.get_untracked(), channel: channel.get_untracked(), suppression_list_ids: Vec::new() };
                    view! {
                        <p><strong data-testid="reach">{format!("{} will receive it", format_count(r.reachable as i64))}</strong></p>
                        {(!r.left_out.is_empty()).then(|| view! {
                            <ul class="left-out" data-testid="left-out">
                                {r.left_out.into_iter().map(|(reason, n)| view! {
                                    <li data-reason=reason.as_str()>{format!("{} {}", format_count(n as i64), rule.left_out_because(reason))}</li>
                                }).collect_view()}
                            </ul>
                        })}
                    }.into_any()
                }
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            }}
        </div>
        <ActionForm action=send attr:class="card narrow" attr:data-testid="send-now-form">
            <input type="hidden" name="audience" value=audience_json />
            <label for="send-name">"Name " <span class="muted">"(optional: “Untitled” without one)"</span></label>
            <input id="send-name" name="name" maxlength="200" />
            <label for="send-channel">"Send by"</label>
            <select id="send-channel" name="channel" on:change=move |ev| {
                if let Ok(c) = event_target_value(&ev).parse() { channel.set(c) }
            }>
                <option value="email" selected>"Email"</option>
                <option value="sms">"SMS"</option>
            </select>
            <label for="send-type">"Type of message"</label>
            <select id="send-type" name="message_type" on:change=move |ev| {
                if let Ok(t) = event_target_value(&ev).parse() { message_type.set(t) }
            }>
                {[MessageType::Operational, MessageType::Marketing, MessageType::Newsletter].map(|t| view! {
                    <option value=t.as_str() selected=t == MessageType::Operational>{t.label()}</option>
                }).collect_view()}
            </select>
            <p class="muted">"Operational messages (a reminder, a notice) go to everyone with an address; marketing and newsletters only to contacts who have not opted out."</p>
            <label for="send-template">"Message"</label>
            <select id="send-template" name="template" on:change=move |ev| template.set(event_target_value(&ev))>
                <option value="quick" selected>"Write a message"</option>
                {s.templates.into_iter().map(|t| view! { <option value=t.id.to_string()>{t.name}</option> }).collect_view()}
            </select>
            <div class="quick" class:hidden=move || template.get() != "quick">
                <label for="send-subject">"Subject " <span class="muted">"(email)"</span></label>
                <input id="send-subject" name="subject" maxlength="300" />
                <label for="send-body">"Text"</label>
                <textarea id="send-body" name="body" rows="8" maxlength="20000"></textarea>
                <p class="muted">"Personalise with tags such as {{ contact.first_name }}. Ignored when a template is chosen."</p>
            </div>
            <button type="submit" class="primary" disabled=move || send.pending().get()>"Send now"</button>
        </ActionForm>
        {move || send.value().get().and_then(Result::err).map(|e| view! { <ErrorNote error=e /> })}
    }
}

/// Messages: bulk email (or SMS) to a mailing list, as a school's admins send it: pick the
/// recipients with the list filters, narrow them, write the message or pick a template, choose
/// the type, see who it reaches, send. Recorded as a campaign the moment it is sent.
#[component]
pub fn MessagesPage() -> impl IntoView {
    use crate::api::messages::open_mailing;
    use herald_core::domain::mailing::{LISTS, MailingQuery};
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).unwrap_or_default();
    let mailing = move || MailingQuery {
        list: param("list"),
        within: param("within").parse().ok(),
        group_id: param("group").parse().ok(),
        trainer: param("trainer"),
        category: param("category"),
        preference: param("preference").parse().ok(),
        exclude_remote: param("exclude_remote") == "1",
    };
    let start = Resource::new(mailing, |q| async move {
        if q.list.is_empty() {
            Ok(None)
        } else {
            open_mailing(q).await.map(Some)
        }
    });
    let groups = Resource::new(|| (), |_| crate::api::contacts::list_groups());
    view! {
        <Title text="Messages" />
        <h1>"Messages"</h1>
        <p class="muted">"Send an email or a text message to a mailing list. It goes out at once and is recorded as a campaign, with its delivery and engagement numbers."</p>
        <form method="get" action="/messages" class="card narrow" aria-label="Recipients" data-testid="mailing-form">
            <label for="mailing-list">"Send to"</label>
            <select id="mailing-list" name="list" required>
                <option value="">"Choose a mailing list"</option>
                {LISTS.iter().map(|(k, label)| view! { <option value=*k selected=move || param("list") == *k>{*label}</option> }).collect_view()}
            </select>
            <label for="mailing-within">"Within " <span class="muted">"(days for bookings and new accounts, months for orders)"</span></label>
            <input id="mailing-within" name="within" inputmode="numeric" prop:value=move || param("within") />
            <label for="mailing-group">"Group " <span class="muted">"(for “A group”)"</span></label>
            <select id="mailing-group" name="group">
                <option value="">"–"</option>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        groups.await.unwrap_or_default().into_iter().map(|g| {
                            let id = g.id.to_string();
                            view! { <option value=id.clone() selected=id == param("group")>{g.name}</option> }
                        }).collect_view()
                    })}
                </Transition>
            </select>
            <label for="mailing-trainer">"Trainer"</label>
            <input id="mailing-trainer" name="trainer" prop:value=move || param("trainer") />
            <label for="mailing-category">"Course category"</label>
            <input id="mailing-category" name="category" prop:value=move || param("category") />
            <label for="mailing-preference">"Only contacts who want"</label>
            <select id="mailing-preference" name="preference">
                <option value="">"Any (no preference needed)"</option>
                {[MessageType::Marketing, MessageType::Newsletter].map(|t| view! { <option value=t.as_str() selected=move || param("preference") == t.as_str()>{t.label()}</option> }).collect_view()}
            </select>
            <label><input type="checkbox" name="exclude_remote" value="1" checked=move || param("exclude_remote") == "1" />" Leave out remote courses"</label>
            <button type="submit">"Show the recipients"</button>
        </form>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match start.await {
                    Ok(Some(s)) => view! { <SendNowForm s noun="on this mailing list" /> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}
