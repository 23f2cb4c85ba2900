//! Actions: messages that could not be sent (no address for the channel, an address the
//! provider refused for good), as to-dos for the campaign's creator: fix the address and send,
//! or ignore; several at once. Filters by campaign, channel and state. And the notifications
//! list behind the bell. Both work without JavaScript (forms and links).

use crate::api::actions::{
    FixAction, MarkNotificationsRead, ResolveActions, list_actions, my_notifications,
};
use crate::components::{ErrorNote, action_result, format_count, format_time};
use crate::pages::contacts::encode;
use herald_core::domain::actions::{ActionPage, Notifications};
use herald_core::domain::{ActionState, Channel, RunOutcome};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ActionsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).unwrap_or_default();
    let resolve = ServerAction::<ResolveActions>::new();
    let fix = ServerAction::<FixAction>::new();
    let list = Resource::new(
        move || {
            (
                param("campaign"),
                param("channel"),
                param("state"),
                param("mine"),
                param("page").parse::<u64>().unwrap_or(1),
                resolve.version().get() + fix.version().get(),
            )
        },
        |(campaign, channel, state, mine, page, _)| {
            list_actions(
                Some(campaign),
                Some(channel),
                Some(state),
                Some(mine),
                Some(page),
            )
        },
    );
    view! {
        <Title text="Actions" />
        <h1>"Actions"</h1>
        <p class="muted">"Messages that could not be sent: the contact has no address for the channel, or the provider refused the address for good. Fix the address and send, or ignore."</p>
        {move || action_result(resolve.value().get(), |s| s)}
        {move || action_result(fix.value().get(), |s| s)}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(p) => view! { <Filters p=p.clone() param=Callback::new(move |k: String| param(&k)) /><ActionTable p resolve fix /> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Filters(p: ActionPage, param: Callback<String, String>) -> impl IntoView {
    let get = move |k: &str| param.run(k.to_owned());
    let state = get("state");
    let state = if state.is_empty() {
        "todo".to_owned()
    } else {
        state
    };
    view! {
        <form method="get" action="/actions" class="search filters" aria-label="Filter actions">
            <label for="action-campaign">"Campaign"</label>
            <select id="action-campaign" name="campaign">
                <option value="">"Any"</option>
                {p.campaigns.into_iter().map(|(id, name)| {
                    let id = id.to_string();
                    view! { <option value=id.clone() selected=id == get("campaign")>{name}</option> }
                }).collect_view()}
            </select>
            <label for="action-channel">"Channel"</label>
            <select id="action-channel" name="channel">
                <option value="">"Any"</option>
                {[Channel::Email, Channel::Sms].map(|c| view! { <option value=c.as_str() selected=get("channel") == c.as_str()>{c.label()}</option> }).collect_view()}
            </select>
            <label for="action-state">"State"</label>
            <select id="action-state" name="state">
                {[ActionState::Todo, ActionState::Sent, ActionState::Ignored].map(|s| view! { <option value=s.as_str() selected=state == s.as_str()>{s.label()}</option> }).collect_view()}
                <option value="all" selected=state == "all">"All"</option>
            </select>
            <label><input type="checkbox" name="mine" value="1" checked=get("mine") == "1" />" My campaigns only"</label>
            <button type="submit">"Apply"</button>
        </form>
    }
}

#[component]
fn ActionTable(
    p: ActionPage,
    resolve: ServerAction<ResolveActions>,
    fix: ServerAction<FixAction>,
) -> impl IntoView {
    if p.total == 0 {
        return view! { <section class="empty" data-testid="actions-empty"><p>"Nothing to do here."</p></section> }.into_any();
    }
    let todo: Vec<i64> = p
        .rows
        .iter()
        .filter(|a| a.state == ActionState::Todo)
        .map(|a| a.id)
        .collect();
    let any_todo = !todo.is_empty();
    let fix_forms = todo.into_iter().map(|id| view! {
        <ActionForm action=fix attr:id=format!("fix-{id}") attr:class="row-form"><input type="hidden" name="id" value=id /></ActionForm>
    }).collect_view();
    view! {
        <p class="muted" data-testid="actions-total">{format!("{} actions · page {} of {}", format_count(p.total as i64), p.page, p.pages)}</p>
        // One form per row to fix an address (its inputs sit in the table and name their form);
        // one form around the table for the checked rows.
        {fix_forms}
        <ActionForm action=resolve attr:data-testid="actions-form">
            <div class="table-wrap">
                <table data-testid="actions">
                    <thead><tr>
                        <th scope="col"><span class="visually-hidden">"Select"</span></th>
                        <th scope="col">"Contact"</th>
                        <th scope="col">"Campaign"</th>
                        <th scope="col">"Channel"</th>
                        <th scope="col">"Why"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Fix the address"</th>
                    </tr></thead>
                    <tbody>
                        {p.rows.into_iter().enumerate().map(|(i, a)| {
                            let open = a.state == ActionState::Todo;
                            let form = format!("fix-{}", a.id);
                            let label = format!("Select the action for {}", a.contact_name);
                            let input_label = format!("New {} for {}", if a.channel == Channel::Email { "email address" } else { "phone number" }, a.contact_name);
                            view! {
                                <tr data-state=a.state.as_str()>
                                    <td>{open.then(|| view! { <input type="checkbox" name=format!("ids[{i}]") value=a.id aria-label=label /> })}</td>
                                    <td><a href=format!("/contacts/{}", a.contact_id)>{a.contact_name.clone()}</a><br /><span class="muted">{a.address.clone().unwrap_or_else(|| "no address".into())}</span></td>
                                    <td><a href=format!("/campaigns/{}", a.campaign_id)>{a.campaign_name}</a></td>
                                    <td>{a.channel.label()}</td>
                                    <td>{a.reason}<br /><span class="muted when">{format_time(Some(a.created_at))}</span></td>
                                    <td>{a.state.label()}</td>
                                    <td>{open.then(|| view! {
                                        <span class="inline-fix">
                                            <input form=form.clone() name="address" required aria-label=input_label
                                                type=if a.channel == Channel::Email { "email" } else { "tel" }
                                                value=a.address.clone().unwrap_or_default() />
                                            <button form=form.clone() type="submit">"Save and send"</button>
                                        </span>
                                    })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {any_todo.then(|| view! {
                <div class="actions-bar">
                    <button type="submit" name="how" value="send">"Send the selected"</button>
                    <button type="submit" name="how" value="ignore">"Ignore the selected"</button>
                </div>
            })}
        </ActionForm>
        <Pager p=p.page pages=p.pages />
    }
    .into_any()
}

#[component]
fn Pager(p: u64, pages: u64) -> impl IntoView {
    let query = use_query_map();
    let href = move |page: u64| {
        let q = query.read();
        let mut parts: Vec<String> = ["campaign", "channel", "state", "mine"]
            .iter()
            .filter_map(|k| {
                q.get(k)
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", encode(&v)))
            })
            .collect();
        parts.push(format!("page={page}"));
        format!("/actions?{}", parts.join("&"))
    };
    view! {
        <nav class="pager" aria-label="Pages">
            {(p > 1).then(|| view! { <a href=href(p - 1) rel="prev">"← Previous"</a> })}
            {(p < pages).then(|| view! { <a href=href(p + 1) rel="next">"Next →"</a> })}
        </nav>
    }
}

/// The bell's list: each run's outcome, newest first.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let read = ServerAction::<MarkNotificationsRead>::new();
    let list = Resource::new(move || read.version().get(), |_| my_notifications());
    view! {
        <Title text="Notifications" />
        <h1>"Notifications"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(n) => view! { <NotificationList n read /> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NotificationList(n: Notifications, read: ServerAction<MarkNotificationsRead>) -> impl IntoView {
    if n.latest.is_empty() {
        return view! { <section class="empty"><p>"No notifications yet. You are told here when a campaign you created has finished a run."</p></section> }.into_any();
    }
    view! {
        {(n.unread > 0).then(|| view! {
            <ActionForm action=read><button type="submit">{format!("Mark {} as read", n.unread)}</button></ActionForm>
        })}
        <ul class="notifications" data-testid="notifications">
            {n.latest.into_iter().map(|x| {
                let class = match x.outcome { RunOutcome::Success => "ok", RunOutcome::Partial => "warn", RunOutcome::Failed => "bad" };
                view! {
                    <li class=class data-outcome=x.outcome.as_str() class:unread=!x.read>
                        <strong>{x.title}</strong>" "<span class="muted when">{format_time(Some(x.created_at))}</span>
                        <p>{x.body}</p>
                        {x.campaign_id.map(|c| view! {
                            <p><a href=format!("/campaigns/{c}")>"Open the campaign"</a>" · "<a href=format!("/actions?campaign={c}")>"Its actions"</a></p>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
