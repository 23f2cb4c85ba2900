//! The campaign list, a campaign's report page, and the entry to the builder.

use crate::api::campaigns::{get_campaign, list_campaigns};
use crate::components::{CountRate, ErrorNote, format_count, format_time};
use herald_core::domain::{CampaignStatus, CampaignSummary, MessageType};
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
    let status = move || query.read().get("status").filter(|s| !s.is_empty());
    let campaigns = Resource::new(status, list_campaigns);
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
        <Transition fallback=|| view! { <p class="loading">"Loading campaigns…"</p> }>
            {move || Suspend::new(async move {
                match campaigns.await {
                    Ok(rows) if rows.is_empty() => view! { <EmptyCampaigns filtered=status().is_some() /> }.into_any(),
                    Ok(rows) => view! { <CampaignTable rows /> }.into_any(),
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
fn CampaignTable(rows: Vec<CampaignSummary>) -> impl IntoView {
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
    let campaign = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_campaign(id).await,
            None => Err(crate::error::AppError::NotFound("campaign".into())),
        }
    });
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
                                <h1>{name}</h1>
                                {type_badge(c.summary.message_type)}
                                {status_badge(c.summary.status)}
                            </div>
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

#[component]
pub fn NewCampaignPage() -> impl IntoView {
    use crate::api::contacts::{contact_filter, selection_audience};
    let query = use_query_map();
    // Coming from the contact list: the selection becomes the audience.
    let selection = Resource::new(
        move || {
            let q = query.read();
            let all = q.get("all")?;
            let ids: Vec<i64> = q
                .get_all("id")
                .unwrap_or_default()
                .iter()
                .filter_map(|i| i.parse().ok())
                .collect();
            let filter = contact_filter(
                q.get("q"),
                q.get("group"),
                q.get("status"),
                q.get("consent"),
            );
            Some((filter, ids, all == "1"))
        },
        |args| async move {
            let Some((filter, ids, all)) = args else {
                return Ok(None);
            };
            Ok::<_, crate::error::AppError>(Some(selection_audience(filter, ids, all).await?))
        },
    );
    view! {
        <Title text="New campaign" />
        <p class="crumbs"><a href="/campaigns">"← Campaigns"</a></p>
        <h1>"New campaign"</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match selection.await {
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(Some((_, count))) => view! {
                        <section class="card" data-testid="selected-audience">
                            <h2>"Audience"</h2>
                            <p>{format!("Your selection on the contact list: {} contacts.", crate::components::format_count(count.count as i64))}</p>
                            <ul>{count.sample.into_iter().map(|c| view! { <li>{c.name} " " <span class="muted">{c.email.unwrap_or_default()}</span></li> }).collect_view()}</ul>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
        <section class="empty" data-testid="coming-soon">
            <p><strong>"The campaign builder is not available yet."</strong></p>
            <p>"It arrives in a coming release: audience, trigger and template in any order, with the live audience size and duplicate warnings."</p>
        </section>
    }
}
