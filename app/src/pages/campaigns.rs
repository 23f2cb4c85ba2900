//! The campaign list, a campaign's report page, and the entry to the builder.

use crate::api::builder::{ActivateCampaign, DeactivateCampaign};
use crate::api::campaigns::{campaign_recipients, campaign_report, get_campaign, list_campaigns};
use crate::components::{
    CountRate, ErrorNote, TwoLineTime, action_result, format_count, format_time,
};
use herald_core::domain::reports::{
    Activity, CampaignReport, RecipientPage, RecipientQuery, RecipientRow,
};
use herald_core::domain::{
    CampaignKind, CampaignStatus, CampaignSummary, Channel, DeliveryState, DeliveryStats,
    MessageType, RecipientFilter, RecipientSort,
};
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
                                    <td class="when"><TwoLineTime t=c.last_sent_at /></td>
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
    let query = use_query_map();
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
    let report = Resource::new(id, |id| async move {
        match id {
            Some(id) => campaign_report(id).await,
            None => Err(crate::error::AppError::NotFound("campaign".into())),
        }
    });
    let recipient_query = move || recipient_query_of(&query.read());
    let recipients = Resource::new(
        move || (id(), recipient_query()),
        |(id, q)| async move {
            match id {
                Some(id) => campaign_recipients(id, q).await,
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
                            <LiveCards id=c.summary.id initial=c.summary.stats />
                            <dl class="meta">
                                <dt>"Subject"</dt><dd>{c.subject.unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Message type"</dt><dd>{c.summary.message_type.label()}</dd>
                                <dt>"Sent by"</dt><dd>{c.created_by.unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Last sent"</dt><dd>{format_time(c.summary.last_sent_at)}</dd>
                                <dt>"Template"</dt><dd>{c.template_name.unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Campaign type"</dt><dd>{c.summary.kind.label()}</dd>
                                <dt>"Channel"</dt><dd>{c.summary.channel.label()}</dd>
                                <dt>"Goal"</dt><dd>{if c.goal.is_empty() { "–".to_owned() } else { c.goal }}</dd>
                                <dt>"When"</dt><dd>{c.trigger.clone().unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Next run"</dt><dd data-testid="next-run">{format_time(c.next_run_at)}</dd>
                                <dt>"Sends"</dt><dd>{format_count(c.sends)}</dd>
                                <dt>"Created"</dt><dd>{format_time(Some(c.created_at))}</dd>
                                <dt>"Activated"</dt><dd>{format_time(c.activated_at)}</dd>
                            </dl>
                            <p class="muted">"Rates are shares of the messages sent. An open counts when the recipient's mail client loads images; machine activity (privacy proxies, link scanners) is counted and flagged, and the figures “by people” leave it out."</p>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(r) => view! { <ReportDetails r /> }.into_any(),
                    Err(_) => ().into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="recipients-title">
            <h2 id="recipients-title">"Recipients"</h2>
            <RecipientFilters id=id() query=recipient_query />
            <Transition fallback=|| view! { <p class="loading">"Loading recipients…"</p> }>
                {move || Suspend::new(async move {
                    match recipients.await {
                        Ok(page) => view! { <RecipientTable page query=recipient_query() /> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The per-recipient table's query, from the page's URL.
fn recipient_query_of(q: &leptos_router::params::ParamsMap) -> RecipientQuery {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
    RecipientQuery {
        filter: get("filter").and_then(|f| f.parse().ok()),
        sort: get("sort").and_then(|s| s.parse().ok()),
        desc: get("desc").as_deref() == Some("true"),
        search: get("search").unwrap_or_default(),
        page: get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
    }
}

/// `q` as URL parameters (a page's link or the CSV export's).
fn recipient_params(q: &RecipientQuery) -> String {
    let mut parts = Vec::new();
    if let Some(f) = q.filter {
        parts.push(format!("filter={}", f.as_str()));
    }
    if let Some(s) = q.sort {
        parts.push(format!("sort={}", s.as_str()));
    }
    if q.desc {
        parts.push("desc=true".to_owned());
    }
    if !q.search.is_empty() {
        parts.push(format!("search={}", encode(&q.search)));
    }
    if q.page > 1 {
        parts.push(format!("page={}", q.page));
    }
    parts.join("&")
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The summary cards. They show the numbers the page was rendered with, then (in the browser)
/// follow the campaign's live stream: every change of its counters arrives as an event, no
/// reload needed; the browser reconnects by itself when the stream breaks.
#[component]
fn LiveCards(id: i64, initial: DeliveryStats) -> impl IntoView {
    let stats = RwSignal::new(initial);
    let live = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use leptos::wasm_bindgen::JsCast;
        use leptos::wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new(&format!("/campaigns/{id}/live")) else {
            return;
        };
        let on_stats =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(text) = e.data().as_string()
                    && let Ok(s) = serde_json::from_str::<DeliveryStats>(&text)
                {
                    stats.set(s);
                    live.set(true);
                }
            });
        let _ = source.add_event_listener_with_callback("stats", on_stats.as_ref().unchecked_ref());
        on_stats.forget();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| live.set(false));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
    let s = move || stats.get();
    let badge = |n: i64, label: &'static str| {
        (n > 0).then(|| {
            view! { <span class="badge bad">{format!("{} {label}", format_count(n))}</span> }
        })
    };
    view! {
        <section class="cards" aria-label="Delivery and engagement" data-testid="cards" data-live=move || if live.get() { "on" } else { "off" }>
            <div class="card metric" data-testid="card-recipients">
                <span class="label">"Recipients"</span>
                <span class="value">{move || format_count(s().recipients)}</span>
                <span class="note">{move || if s().skipped > 0 { format!("{} not sent", format_count(s().skipped)) } else { String::new() }}</span>
            </div>
            <div class="card metric" data-testid="card-sent">
                <span class="label">"Sent"</span>
                <span class="value">{move || format_count(s().sent)}</span>
                <span class="note">{move || s().sent_rate().display()}</span>
            </div>
            <div class="card metric" data-testid="card-delivered">
                <span class="label">"Delivered"</span>
                <span class="value">{move || format_count(s().delivered)}</span>
                <span class="note">
                    {move || s().delivered_rate().display()}" "
                    {move || badge(s().bounced, "bounced")}
                    {move || badge(s().complained, "complained")}
                    {move || badge(s().failed, "failed")}
                </span>
            </div>
            <div class="card metric" data-testid="card-pending">
                <span class="label">"Pending"</span>
                <span class="value">{move || format_count(s().pending)}</span>
                <span class="note">{move || if s().waiting > 0 { format!("awaiting a delivery notice; {} still to send", format_count(s().waiting)) } else { "awaiting a delivery notice".to_owned() }}</span>
            </div>
            <div class="card metric" data-testid="card-opened">
                <span class="label">"Opened"</span>
                <span class="value">{move || format_count(s().opened)}</span>
                <span class="note">{move || format!("{} · {} by people", s().open_rate().display(), format_count(s().human_opened))}</span>
            </div>
            <div class="card metric" data-testid="card-clicked">
                <span class="label">"Clicked"</span>
                <span class="value">{move || format_count(s().clicked)}</span>
                <span class="note">{move || format!("{} · {} by people", s().click_rate().display(), format_count(s().human_clicked))}</span>
            </div>
        </section>
    }
}

/// Links, the chart of opens and clicks over time, and the runs.
#[component]
fn ReportDetails(r: CampaignReport) -> impl IntoView {
    let CampaignReport {
        links,
        activity,
        runs,
    } = r;
    view! {
        <section class="card" aria-labelledby="activity-title">
            <h2 id="activity-title">"Opens and clicks over time"</h2>
            {if activity.bars.is_empty() {
                view! { <p class="muted">"No opens or clicks yet."</p> }.into_any()
            } else {
                view! { <Chart activity /> }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="links-title">
            <h2 id="links-title">"Links"</h2>
            {if links.is_empty() {
                view! { <p class="muted">"No tracked links yet: they appear when messages with links are sent."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table data-testid="link-table">
                            <thead><tr>
                                <th scope="col">"Link"</th>
                                <th scope="col" class="num">"Clicks"</th>
                                <th scope="col" class="num">"Unique"</th>
                                <th scope="col" class="num">"By people"</th>
                                <th scope="col">"Last click"</th>
                            </tr></thead>
                            <tbody>
                                {links.into_iter().map(|l| view! {
                                    <tr>
                                        <td class="url">{l.url}</td>
                                        <td class="num">{format_count(l.clicks)}</td>
                                        <td class="num">{format_count(l.unique_clicks)}</td>
                                        <td class="num">{format_count(l.human_clicks)}</td>
                                        <td class="when">{format_time(l.last_clicked_at)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        {(runs.len() > 1).then(|| view! {
            <section class="card" aria-labelledby="runs-title">
                <h2 id="runs-title">"Runs"</h2>
                <div class="table-wrap">
                    <table>
                        <thead><tr>
                            <th scope="col">"Started"</th>
                            <th scope="col" class="num">"Recipients"</th>
                            <th scope="col" class="num">"Sent"</th>
                            <th scope="col" class="num">"Delivered"</th>
                            <th scope="col" class="num">"Bounced"</th>
                            <th scope="col" class="num">"Opened"</th>
                            <th scope="col" class="num">"Clicked"</th>
                        </tr></thead>
                        <tbody>
                            {runs.into_iter().map(|r| { let s = r.stats; view! {
                                <tr>
                                    <td class="when">{format_time(Some(r.started_at))}</td>
                                    <td class="num">{format_count(s.recipients)}</td>
                                    <td class="num"><CountRate count=s.sent rate=s.sent_rate() /></td>
                                    <td class="num">{format_count(s.delivered)}</td>
                                    <td class="num">{format_count(s.bounced)}</td>
                                    <td class="num"><CountRate count=s.opened rate=s.open_rate() /></td>
                                    <td class="num"><CountRate count=s.clicked rate=s.click_rate() /></td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        })}
    }
}

/// Opens and clicks over time as bars, one pair per period, drawn as SVG on the server (no
/// script needed).
#[component]
fn Chart(activity: Activity) -> impl IntoView {
    const H: u32 = 120;
    let period = activity.period();
    let hours = activity.bars;
    let opens: Vec<i64> = hours.iter().map(|h| h.opens).collect();
    let clicks: Vec<i64> = hours.iter().map(|h| h.clicks).collect();
    let all: Vec<i64> = opens.iter().chain(clicks.iter()).copied().collect();
    let scaled = herald_core::domain::reports::bars(&all, H);
    let n = hours.len();
    let width = (n as u32) * 14 + 8;
    let step = chrono::Duration::hours(i64::from(activity.hours_per_bar));
    let summary = format!(
        "{} opens and {} clicks from {} to {}",
        format_count(opens.iter().sum()),
        format_count(clicks.iter().sum()),
        format_time(hours.first().map(|h| h.hour)),
        format_time(hours.last().map(|h| h.hour + step)),
    );
    let bars = hours
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let x = 4 + (i as u32) * 14;
            let (o, c) = (scaled[i], scaled[n + i]);
            let title = format!(
                "{}: {} opens, {} clicks",
                format_time(Some(h.hour)),
                h.opens,
                h.clicks
            );
            view! {
                <g>
                    <title>{title}</title>
                    <rect class="bar-open" x=x.to_string() y=(H - o).to_string() width="6" height=o.to_string() />
                    <rect class="bar-click" x=(x + 6).to_string() y=(H - c).to_string() width="6" height=c.to_string() />
                </g>
            }
        })
        .collect_view();
    view! {
        <div class="chart-wrap">
            <svg class="chart" role="img" aria-label=summary.clone() viewBox=format!("0 0 {width} {H}") width=width.to_string() height=H.to_string() data-testid="chart">
                {bars}
            </svg>
        </div>
        <p class="muted legend"><span class="swatch open"></span>" opens "<span class="swatch click"></span>" clicks per "{period}" (UTC) · "{summary}</p>
    }
}

/// The filters, search and export of the per-recipient table: a plain GET form.
#[component]
fn RecipientFilters(
    id: Option<i64>,
    query: impl Fn() -> RecipientQuery + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let action = id.map(|id| format!("/campaigns/{id}")).unwrap_or_default();
    let csv = move || {
        let q = RecipientQuery { page: 1, ..query() };
        id.map(|id| format!("/campaigns/{id}/recipients.csv?{}", recipient_params(&q)))
            .unwrap_or_default()
    };
    view! {
        <form method="get" action=action class="filters-form" aria-label="Filter recipients">
            <label>"Show"
                <select name="filter">
                    <option value="">"Everyone"</option>
                    {RecipientFilter::ALL.iter().map(|f| view! {
                        <option value=f.as_str() selected=move || query().filter == Some(*f)>{f.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Search"<input name="search" type="search" placeholder="name or address" prop:value=move || query().search /></label>
            {move || query().sort.map(|s| view! { <input type="hidden" name="sort" value=s.as_str() /> })}
            {move || query().desc.then(|| view! { <input type="hidden" name="desc" value="true" /> })}
            <button type="submit">"Filter"</button>
            <a class="button" href=csv rel="external" download="" data-testid="csv-export">"Export CSV"</a>
        </form>
    }
}

fn delivery_cell(r: &RecipientRow) -> (&'static str, &'static str) {
    match r.state {
        DeliveryState::Delivered => ("Delivered", "good"),
        DeliveryState::Bounced if r.soft_bounce => ("Soft bounce", "bad"),
        DeliveryState::Bounced => ("Bounced", "bad"),
        DeliveryState::Complained => ("Complained", "bad"),
        DeliveryState::Failed => ("Failed", "bad"),
        DeliveryState::Sent => ("Awaiting notice", ""),
        DeliveryState::Skipped => ("Not sent", ""),
        DeliveryState::Queued | DeliveryState::Sending => ("Queued", ""),
    }
}

/// The per-recipient table: sortable columns (links), pages (links), rows coloured by outcome.
#[component]
fn RecipientTable(page: RecipientPage, query: RecipientQuery) -> impl IntoView {
    let sort_link = |sort: RecipientSort, label: &'static str| {
        let current = query.sort == Some(sort);
        // A second click on the current column turns its order round; numbers and times
        // start with the largest.
        let desc = if current {
            !query.desc
        } else {
            matches!(
                sort,
                RecipientSort::Opens | RecipientSort::Clicks | RecipientSort::Sent
            )
        };
        let q = RecipientQuery {
            sort: Some(sort),
            desc,
            page: 1,
            ..query.clone()
        };
        let aria = match (current, query.desc) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        };
        let arrow = match (current, query.desc) {
            (false, _) => "",
            (true, true) => " ↓",
            (true, false) => " ↑",
        };
        view! {
            <th scope="col" aria-sort=aria>
                <a href=format!("?{}", recipient_params(&q))>{label}{arrow}</a>
            </th>
        }
    };
    let page_link = |n: u64, label: &'static str| {
        let q = RecipientQuery {
            page: n,
            ..query.clone()
        };
        view! { <a href=format!("?{}", recipient_params(&q)) class="button small">{label}</a> }
    };
    if page.rows.is_empty() {
        return view! { <p class="muted" data-testid="recipients-empty">"No recipients match."</p> }
            .into_any();
    }
    let rows = page
        .rows
        .into_iter()
        .map(|r| {
            let (delivery, tone) = delivery_cell(&r);
            let who = if r.name.is_empty() {
                r.recipient.clone()
            } else {
                r.name.clone()
            };
            let opened = if r.opens > 0 {
                format!("{} · {}×", format_time(r.first_opened_at), r.opens)
            } else {
                "–".to_owned()
            };
            let clicked = if r.clicks > 0 {
                format!("{} · {}×", format_time(r.first_clicked_at), r.clicks)
            } else {
                "–".to_owned()
            };
            view! {
                <tr class=r.tone() data-message=r.message_id.to_string()>
                    <td>
                        {match r.contact_id {
                            Some(c) => view! { <a href=format!("/contacts/{c}")>{who}</a> }.into_any(),
                            None => view! { <span>{who}</span> }.into_any(),
                        }}
                        {(!r.name.is_empty()).then(|| view! { <span class="muted small block">{r.recipient.clone()}</span> })}
                    </td>
                    <td class="when">{if r.sent_at.is_some() { format_time(r.sent_at) } else { "No".to_owned() }}</td>
                    <td>
                        <span class=format!("delivery {tone}")>{delivery}</span>
                        {r.detail.clone().map(|d| view! { <span class="muted small block detail">{d}</span> })}
                    </td>
                    <td data-testid="opened">
                        {opened}
                        {r.machine_only.then(|| view! { " " <span class="badge machine" title="Every open or click looked like a machine's">"machine"</span> })}
                    </td>
                    <td data-testid="clicked">{clicked}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="recipients" data-testid="recipient-table">
                <thead><tr>
                    {sort_link(RecipientSort::Recipient, "Recipient")}
                    {sort_link(RecipientSort::Sent, "Sent")}
                    {sort_link(RecipientSort::Status, "Delivery")}
                    {sort_link(RecipientSort::Opens, "Opened")}
                    {sort_link(RecipientSort::Clicks, "Clicked")}
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages of recipients">
            <span data-testid="recipient-count">{format!("{} recipients · page {} of {}", format_count(page.total as i64), page.page, page.pages)}</span>
            {(page.page > 1).then(|| page_link(page.page - 1, "← Previous"))}
            {(page.page < page.pages).then(|| page_link(page.page + 1, "Next →"))}
        </nav>
    }
    .into_any()
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
