//! The campaign list, a campaign's report page, and the entry to the builder.

use crate::api::builder::{ActivateCampaign, DeactivateCampaign};
use crate::api::campaigns::{get_campaign, list_campaigns};
use crate::components::{CountRate, ErrorNote, action_result, format_count, format_time};
use herald_core::domain::{CampaignKind, CampaignStatus, CampaignSummary, Channel, MessageType};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn type_badge(t: MessageType) -> impl IntoView {
    view! { <span class=format!("badge type-{}", t.as_str())>{t.label()}</span> }
}

fn status_badge(s: CampaignStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", s.as_str())>{s.label()}</span> }
}

#[component]
pub fn CampaignListPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|s| !s.is_empty());
    let status = move || param("status");
    let activate = ServerAction::<ActivateCampaign>::new();
    let deactivate = ServerAction::<DeactivateCampaign>::new();
    let campaigns = Resource::new(
        move || {
            (
                (status(), param("goal"), param("kind"), param("channel")),
                activate.version().get() + deactivate.version().get(),
            )
        },
        |((status, goal, kind, channel), _)| list_campaigns(status, goal, kind, channel),
    );
    let filter_link = move |label: &'static str, value: Option<&'static str>| {
        let href = value.map_or("/campaigns".to_owned(), |v| {
            format!("/campaigns?status={v}")
        });
        let current = move || status().as_deref() == value;
        view! {
            <a href=href class="filter" class:selected=current aria-current=move || current().then_some("true")>
                {label}
            </a>
        }
    };
    view! {
        <Title text="Campaigns" />
        <div class="page-head">
            <h1>"Campaigns"</h1>
            <span class="spacer"></span>
            <a class="button primary" href="/campaigns/new">"New campaign"</a>
        </div>
        <nav class="filters" aria-label="Filter campaigns">
            {filter_link("All", None)}
            {filter_link("Active", Some("active"))}
            {filter_link("Drafts", Some("draft"))}
            {filter_link("Completed", Some("completed"))}
            {filter_link("Inactive", Some("inactive"))}
        </nav>
        <form method="get" action="/campaigns" class="filters-form" aria-label="More filters">
            {move || status().map(|s| view! { <input type="hidden" name="status" value=s /> })}
            <label>"Goal"<input name="goal" prop:value=move || param("goal").unwrap_or_default() placeholder="any" /></label>
            <label>"Type"
                <select name="kind">
                    <option value="">"Any"</option>
                    {CampaignKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=move || param("kind").as_deref() == Some(k.as_str())>{k.label()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Channel"
                <select name="channel">
                    <option value="">"Any"</option>
                    {Channel::ALL.iter().map(|c| view! { <option value=c.as_str() selected=move || param("channel").as_deref() == Some(c.as_str())>{c.label()}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit">"Filter"</button>
        </form>
        {move || action_result(activate.value().get(), |_| "Activated.".into())}
        {move || action_result(deactivate.value().get(), |_| "Deactivated.".into())}
        <Transition fallback=|| view! { <p class="loading">"Loading campaigns…"</p> }>
            {move || Suspend::new(async move {
                match campaigns.await {
                    Ok(rows) if rows.is_empty() => view! { <EmptyCampaigns filtered=status().is_some() /> }.into_any(),
                    Ok(rows) => view! { <CampaignTable rows activate deactivate /> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EmptyCampaigns(filtered: bool) -> impl IntoView {
    view! {
        <section class="empty" data-testid="campaigns-empty">
            {if filtered {
                view! { <p>"No campaigns match this filter. " <a href="/campaigns">"Show all campaigns"</a>"."</p> }.into_any()
            } else {
                view! {
                    <p><strong>"No campaigns yet."</strong></p>
                    <p>"Build your first one: choose who it reaches, when it goes out and what it says."</p>
                    <p><a class="button primary" href="/campaigns/new">"Create a campaign"</a></p>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn CampaignTable(
    rows: Vec<CampaignSummary>,
    activate: ServerAction<ActivateCampaign>,
    deactivate: ServerAction<DeactivateCampaign>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="campaigns" data-testid="campaign-table">
                <thead>
                    <tr>
                        <th scope="col">"Sent at"</th>
                        <th scope="col">"Campaign"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Recipients"</th>
                        <th scope="col" class="num">"Sent"</th>
                        <th scope="col" class="num">"Delivered"</th>
                        <th scope="col" class="num">"Bounced"</th>
                        <th scope="col" class="num">"Opened"</th>
                        <th scope="col" class="num">"Clicked"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|c| {
                            let s = c.stats;
                            view! {
                                <tr data-status=c.status.as_str()>
                                    <td class="when">{format_time(c.last_sent_at)}</td>
                                    <td class="name">
                                        <a href=format!("/campaigns/{}", c.id) class:untitled=c.name.is_none()>
                                            {c.display_name().to_owned()}
                                        </a>
                                    </td>
                                    <td>{type_badge(c.message_type)}</td>
                                    <td>{status_badge(c.status)}</td>
                                    <td class="num">{format_count(s.recipients)}</td>
                                    <td class="num"><CountRate count=s.sent rate=s.sent_rate() /></td>
                                    <td class="num"><CountRate count=s.delivered rate=s.delivered_rate() /></td>
                                    <td class="num"><CountRate count=s.bounced rate=s.bounce_rate() /></td>
                                    <td class="num"><CountRate count=s.opened rate=s.open_rate() /></td>
                                    <td class="num"><CountRate count=s.clicked rate=s.click_rate() /></td>
                                    <td class="row-actions">
                                        <CampaignActions id=c.id status=c.status name=c.display_name().to_owned() activate deactivate />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let activate = ServerAction::<ActivateCampaign>::new();
    let deactivate = ServerAction::<DeactivateCampaign>::new();
    let version = move || activate.version().get() + deactivate.version().get();
    let campaign = Resource::new(
        move || (id(), version()),
        |(id, _)| async move {
            match id {
                Some(id) => get_campaign(id).await,
                None => Err(crate::error::AppError::NotFound("campaign".into())),
            }
        },
    );
    view! {
        <p class="crumbs"><a href="/campaigns">"← Campaigns"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading campaign…"</p> }>
            {move || Suspend::new(async move {
                match campaign.await {
                    Err(e) => view! { <Title text="Campaign" /><h1>"Campaign"</h1><ErrorNote error=e /> }.into_any(),
                    Ok(c) => {
                        let s = c.summary.stats;
                        let name = c.summary.display_name().to_owned();
                        view! {
                            <Title text=name.clone() />
                            <div class="page-head">
                                <h1>{name.clone()}</h1>
                                {type_badge(c.summary.message_type)}
                                <span data-testid="campaign-status">{status_badge(c.summary.status)}</span>
                                <span class="spacer"></span>
                                <CampaignActions id=c.summary.id status=c.summary.status name=name.clone() activate deactivate />
                            </div>
                            {move || action_result(activate.value().get(), |_| "Activated: the campaign is running.".into())}
                            {move || action_result(deactivate.value().get(), |_| "Deactivated.".into())}
                            {c.paused.clone().map(|p| view! { <p class="note warning" role="status" data-testid="paused">{p}</p> })}
                            {(c.open_actions > 0).then(|| view! {
                                <p class="note warning" data-testid="open-actions">
                                    {format!("{} could not be sent and wait in ", format_count(c.open_actions as i64))}
                                    <a href=format!("/actions?campaign={}", c.summary.id)>"Actions"</a>"."
                                </p>
                            })}
                            <section class="cards" aria-label="Delivery and engagement">
                                <Metric label="Recipients" value=format_count(s.recipients) note=String::new() />
                                <Metric label="Sent" value=format_count(s.sent) note=s.sent_rate().display() />
                                <Metric label="Delivered" value=format_count(s.delivered) note=s.delivered_rate().display() />
                                <Metric label="Pending" value=format_count(s.pending()) note="awaiting a delivery notice".to_owned() />
                                <Metric label="Bounced" value=format_count(s.bounced) note=s.bounce_rate().display() />
                                <Metric label="Opened" value=format_count(s.opened) note=s.open_rate().display() />
                                <Metric label="Clicked" value=format_count(s.clicked) note=s.click_rate().display() />
                            </section>
                            <dl class="meta">
                                <dt>"Subject"</dt><dd>{c.subject.unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Template"</dt><dd>{c.template_name.unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Campaign type"</dt><dd>{c.summary.kind.label()}</dd>
                                <dt>"Channel"</dt><dd>{c.summary.channel.label()}</dd>
                                <dt>"Goal"</dt><dd>{if c.goal.is_empty() { "–".to_owned() } else { c.goal }}</dd>
                                <dt>"When"</dt><dd>{c.trigger.clone().unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Next run"</dt><dd data-testid="next-run">{format_time(c.next_run_at)}</dd>
                                <dt>"Last sent"</dt><dd>{format_time(c.summary.last_sent_at)}</dd>
                                <dt>"Sends"</dt><dd>{format_count(c.sends)}</dd>
                                <dt>"Created by"</dt><dd>{c.created_by.unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Created"</dt><dd>{format_time(Some(c.created_at))}</dd>
                                <dt>"Activated"</dt><dd>{format_time(c.activated_at)}</dd>
                            </dl>
                            <p class="muted">"Open and click rates are shares of the messages sent. The per-recipient table and live updates arrive with tracking."</p>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Metric(label: &'static str, value: String, note: String) -> impl IntoView {
    view! {
        <div class="card metric">
            <span class="label">{label}</span>
            <span class="value">{value}</span>
            <span class="note">{note}</span>
        </div>
    }
}

/// Edit, and activate (after a confirmation) or deactivate: plain forms, so they work without
/// JavaScript too. The confirmation is a disclosure: nothing is sent until "Yes, activate".
#[component]
pub fn CampaignActions(
    id: i64,
    status: CampaignStatus,
    name: String,
    activate: ServerAction<ActivateCampaign>,
    deactivate: ServerAction<DeactivateCampaign>,
) -> impl IntoView {
    let edit = (status != CampaignStatus::Completed).then(|| {
        view! { <a href=format!("/campaigns/{id}/edit") class="small">"Edit"</a> }
    });
    let control = match status {
        CampaignStatus::Active => view! {
            <ActionForm action=deactivate attr:class="inline">
                <input type="hidden" name="id" value=id.to_string() />
                <button type="submit" class="small danger" aria-label=format!("Deactivate {name}")>"Deactivate"</button>
            </ActionForm>
        }
        .into_any(),
        CampaignStatus::Draft | CampaignStatus::Inactive => view! {
            <details class="confirm-inline">
                <summary aria-label=format!("Activate {name}")>"Activate…"</summary>
                <div class="confirm" role="group" aria-label="Confirm activation">
                    <p>{format!("Activate “{name}”? An immediate campaign starts sending to its audience at once; the others send when their trigger fires.")}</p>
                    <ActionForm action=activate attr:class="inline">
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit" class="small primary">"Yes, activate"</button>
                    </ActionForm>
                </div>
            </details>
        }
        .into_any(),
        CampaignStatus::Completed => ().into_any(),
    };
    view! { {edit} " " {control} }
}
