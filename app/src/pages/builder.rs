//! The campaign builder: general information, audience, trigger and template, in any order,
//! with the live audience size, what is still missing, and live duplicate warnings. Activation
//! asks for confirmation.

use crate::api::audience::{AudienceCount, count_audience};
use crate::api::builder::{
    BuilderOptions, activate_campaign, approve_campaign, campaign_conflicts, deactivate_campaign,
    open_builder, save_campaign,
};
use crate::components::{ErrorNote, NeedsJavaScript, debounce, format_count, replace_url};
use crate::error::AppError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use herald_core::domain::audience::{
    CredentialDate, Engagement, EnrollmentFilter, EnrollmentState, Filter, Unit, Window,
};
use herald_core::domain::campaign::{Draft, Frequency, QuietPeriod};
use herald_core::domain::duplicates::Conflict;
use herald_core::domain::trigger::{Cadence, RecordDate, Relation, Trigger};
use herald_core::domain::{CampaignKind, CampaignStatus, Channel, MessageType};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Everything the builder opens with.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Start {
    id: Option<i64>,
    draft: Draft,
    status: CampaignStatus,
    approved: bool,
    options: BuilderOptions,
    now: DateTime<Utc>,
}

#[component]
pub fn BuilderPage() -> impl IntoView {
    use crate::api::contacts::contact_filter;
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").and_then(|i| i.parse::<i64>().ok());
    let start = Resource::new(
        move || {
            let q = query.read();
            let selection = q.get("all").map(|all| {
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
                (filter, ids, all == "1")
            });
            (id(), selection)
        },
        // One server function: a page's resource must not await two in a row while rendering
        // on the server.
        |(id, selection)| async move {
            let start = open_builder(id, selection).await?;
            let options = start.options;
            let now = options.now;
            let (draft, status, approved) = match start.campaign {
                Some(c) => (c.draft, c.status, c.approved),
                None => {
                    let mut d = Draft::default();
                    // Coming from the contact list: the selection becomes the audience.
                    if let Some(audience) = start.selection {
                        d.audience = audience;
                    }
                    (d, CampaignStatus::Draft, false)
                }
            };
            Ok::<_, AppError>(Start {
                id,
                draft,
                status,
                approved,
                options,
                now,
            })
        },
    );
    view! {
        <p class="crumbs"><a href="/campaigns">"← Campaigns"</a></p>
        <NeedsJavaScript what="The campaign builder" />
        <Transition fallback=|| view! { <p class="loading">"Loading the builder…"</p> }>
            {move || Suspend::new(async move {
                match start.await {
                    Err(e) => view! { <Title text="Campaign builder" /><h1>"Campaign builder"</h1><ErrorNote error=e /> }.into_any(),
                    // Rendered in the browser only: the builder is all interaction, and a
                    // server-rendered copy would only be a form that does nothing.
                    Ok(s) => {
                        let mounted = RwSignal::new(false);
                        Effect::new(move |_| mounted.set(true));
                        (move || mounted.get().then(|| view! { <Builder start=s.clone() /> })).into_any()
                    }
                }
            })}
        </Transition>
    }
}

// ---------------------------------------------------------------------------------------------
// Audience rows: a list of conditions joined by "all" or "any", each one optionally excluded.

#[derive(Clone, Copy)]
struct Row {
    key: u64,
    exclude: RwSignal<bool>,
    filter: RwSignal<Filter>,
}

const KINDS: [(&str, &str); 14] = [
    ("active_contact", "Contact is active"),
    ("in_group", "Is in group"),
    ("credential", "Holds a credential"),
    ("enrollment", "Has an enrollment"),
    ("booking", "Has a booking"),
    ("valid_pass", "Holds a valid pass"),
    ("active_subscription", "Has an active subscription"),
    ("ordered", "Ordered"),
    ("event", "Did an event"),
    ("engagement", "Engagement"),
    ("consent", "Consented to"),
    ("language", "Speaks language"),
    ("created", "Contact created"),
    ("contacts", "Hand-picked contacts"),
];

fn kind_of(f: &Filter) -> &'static str {
    match f {
        Filter::ActiveContact => "active_contact",
        Filter::InGroup { .. } => "in_group",
        Filter::Credential { .. } => "credential",
        Filter::Enrollment(_) => "enrollment",
        Filter::Booking { .. } => "booking",
        Filter::ValidPass => "valid_pass",
        Filter::ActiveSubscription => "active_subscription",
        Filter::Ordered { .. } => "ordered",
        Filter::Event { .. } => "event",
        Filter::Engagement { .. } => "engagement",
        Filter::Consent { .. } => "consent",
        Filter::Language { .. } => "language",
        Filter::Created { .. } => "created",
        Filter::Contacts { .. } => "contacts",
        Filter::All { .. } | Filter::Any { .. } | Filter::Not { .. } => "nested",
    }
}

fn last(amount: u32, unit: Unit) -> Window {
    Window::Last { amount, unit }
}

fn default_of(kind: &str, groups: &[(i64, String)]) -> Filter {
    match kind {
        "in_group" => Filter::InGroup {
            group_id: groups.first().map_or(0, |g| g.0),
        },
        "credential" => Filter::Credential {
            collection: None,
            date: Some((
                CredentialDate::Expires,
                Window::Next {
                    amount: 30,
                    unit: Unit::Days,
                },
            )),
        },
        "enrollment" => Filter::Enrollment(EnrollmentFilter::default()),
        "booking" => Filter::Booking {
            within: Window::Next {
                amount: 14,
                unit: Unit::Days,
            },
        },
        "valid_pass" => Filter::ValidPass,
        "active_subscription" => Filter::ActiveSubscription,
        "ordered" => Filter::Ordered {
            within: last(6, Unit::Months),
        },
        "event" => Filter::Event {
            name: String::new(),
            within: Some(last(90, Unit::Days)),
        },
        "engagement" => Filter::Engagement {
            activity: Engagement::Opened,
            within: last(90, Unit::Days),
        },
        "consent" => Filter::Consent {
            message_type: MessageType::Marketing,
        },
        "language" => Filter::Language { code: "en".into() },
        "created" => Filter::Created {
            within: last(30, Unit::Days),
        },
        "contacts" => Filter::Contacts { ids: vec![] },
        _ => Filter::ActiveContact,
    }
}

/// The audience as rows: the top "all"/"any" list, with `not` shown as "exclude".
fn rows_of(audience: &Filter) -> (bool, Vec<(bool, Filter)>) {
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

fn audience_of(any: bool, rows: &[Row]) -> Filter {
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

// ---------------------------------------------------------------------------------------------

fn trigger_kind(t: &Option<Trigger>) -> &'static str {
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

fn default_trigger(kind: &str, now: DateTime<Utc>, segments: &[(i64, String)]) -> Option<Trigger> {
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

fn unit_key(u: Unit) -> &'static str {
    match u {
        Unit::Days => "days",
        Unit::Weeks => "weeks",
        Unit::Months => "months",
    }
}

fn unit_from(s: &str) -> Unit {
    match s {
        "weeks" => Unit::Weeks,
        "months" => Unit::Months,
        _ => Unit::Days,
    }
}

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn minute_of(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

#[component]
fn Builder(start: Start) -> impl IntoView {
    let Start {
        id,
        draft: initial,
        status,
        approved,
        options,
        now,
    } = start;
    let approved = RwSignal::new(approved);
    let needs_approval = options.require_approval;
    let is_admin = options.role == herald_core::domain::Role::Admin;
    let id = RwSignal::new(id);
    let status = RwSignal::new(status);
    let draft = RwSignal::new(initial.clone());
    let groups: Vec<(i64, String)> = options
        .groups
        .iter()
        .map(|g| (g.id, g.name.clone()))
        .collect();
    let segments = options.segments.clone();

    // Audience rows.
    let next_key = StoredValue::new(0u64);
    let make_row = move |exclude: bool, filter: Filter| {
        next_key.update_value(|k| *k += 1);
        Row {
            key: next_key.get_value(),
            exclude: RwSignal::new(exclude),
            filter: RwSignal::new(filter),
        }
    };
    let (any0, rows0) = rows_of(&initial.audience);
    let match_any = RwSignal::new(any0);
    let rows = RwSignal::new(
        rows0
            .into_iter()
            .map(|(e, f)| make_row(e, f))
            .collect::<Vec<_>>(),
    );
    let audience = Memo::new(move |_| audience_of(match_any.get(), &rows.get()));
    let trigger = RwSignal::new(initial.trigger.clone());
    let full = Memo::new(move |_| Draft {
        audience: audience.get(),
        trigger: trigger.get(),
        ..draft.get()
    });

    // Live: the audience size and a few recipients; duplicate warnings.
    let count: RwSignal<Option<Result<AudienceCount, AppError>>> = RwSignal::new(None);
    debounce(
        move || audience.get(),
        400,
        move |filter: Filter| {
            spawn_local(async move { count.set(Some(count_audience(filter).await)) });
        },
    );
    let conflicts: RwSignal<Vec<Conflict>> = RwSignal::new(Vec::new());
    debounce(
        move || full.get(),
        500,
        move |d: Draft| {
            spawn_local(async move {
                if let Ok(found) = campaign_conflicts(id.get_untracked(), d).await {
                    conflicts.set(found);
                }
            });
        },
    );

    let busy = RwSignal::new(false);
    let note: RwSignal<Option<Result<String, String>>> = RwSignal::new(None);
    let confirming = RwSignal::new(false);
    let save_then = move |activate: bool| {
        let d = full.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let was_new = id.get_untracked().is_none();
            let result = async {
                let saved = save_campaign(id.get_untracked(), d).await?;
                id.set(Some(saved));
                if !is_admin {
                    // A marketer's edit needs a new approval.
                    approved.set(false);
                }
                if activate {
                    activate_campaign(saved).await?;
                    status.set(CampaignStatus::Active);
                }
                Ok::<_, AppError>(saved)
            }
            .await;
            busy.set(false);
            confirming.set(false);
            match result {
                Ok(saved) => {
                    note.set(Some(Ok(if activate {
                        "Activated: the campaign is running.".to_string()
                    } else {
                        "Saved.".to_string()
                    })));
                    if was_new {
                        replace_url(&format!("/campaigns/{saved}/edit"));
                    }
                }
                Err(e) => note.set(Some(Err(e.to_string()))),
            }
        });
    };
    let save_draft = move |_| save_then(false);
    let confirm_activate = move |_| save_then(true);
    let deactivate = move |_| {
        let Some(cid) = id.get_untracked() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match deactivate_campaign(cid).await {
                Ok(()) => {
                    status.set(CampaignStatus::Inactive);
                    note.set(Some(Ok("Deactivated: nothing more is sent.".into())));
                }
                Err(e) => note.set(Some(Err(e.to_string()))),
            }
            busy.set(false);
        });
    };

    let approve = move |_| {
        let Some(cid) = id.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match approve_campaign(cid).await {
                Ok(()) => {
                    approved.set(true);
                    note.set(Some(Ok("Approved: it can be activated.".into())));
                }
                Err(e) => note.set(Some(Err(e.to_string()))),
            }
        });
    };
    let problems = Memo::new(move |_| {
        let mut p = full.get().problems(now);
        if needs_approval && !is_admin && !approved.get() {
            p.push("An admin must approve this campaign before it can be activated.".into());
        }
        p
    });
    let title = move || {
        let n = draft.with(|d| d.name.clone());
        if n.trim().is_empty() {
            "New campaign".to_string()
        } else {
            n
        }
    };
    let templates = options.templates.clone();
    let template_name = {
        let templates = templates.clone();
        move || {
            draft
                .with(|d| d.template_id)
                .and_then(|t| templates.iter().find(|x| x.id == t).map(|x| x.name.clone()))
        }
    };
    let lists = options.lists.clone();
    let split_segments = options.segments.clone();
    let split_templates: Vec<(i64, String)> =
        templates.iter().map(|t| (t.id, t.name.clone())).collect();

    view! {
        <Title text="Campaign builder" />
        <div class="page-head">
            <h1>{title}</h1>
            <span class=move || format!("badge status-{}", status.get().as_str()) data-testid="builder-status">{move || status.get().label()}</span>
        </div>
        <div class="builder">
            <div class="builder-main">
                <General draft lists=lists />
                <section class="card" aria-labelledby="b-audience">
                    <h2 id="b-audience">"Audience"</h2>
                    <label class="inline">"Contacts who match "
                        <select aria-label="Match all or any conditions" on:change=move |e| match_any.set(event_target_value(&e) == "any")>
                            <option value="all" selected=move || !match_any.get()>"all"</option>
                            <option value="any" selected=move || match_any.get()>"any"</option>
                        </select>
                        " of these conditions (none: everyone)"
                    </label>
                    <ol class="conditions">
                        <For each=move || rows.get() key=|r| r.key let:row>
                            <ConditionRow row groups=groups.clone() on_remove=move || rows.update(|v| v.retain(|r| r.key != row.key)) />
                        </For>
                    </ol>
                    <button type="button" class="small" on:click=move |_| rows.update(|v| v.push(make_row(false, Filter::ActiveContact)))>"Add a condition"</button>
                </section>
                <TriggerEditor trigger now segments=segments.clone() />
                <section class="card" aria-labelledby="b-template">
                    <h2 id="b-template">"Template"</h2>
                    {if templates.is_empty() {
                        view! { <p>"No custom templates yet. " <a href="/templates/new">"Write one"</a>" (system templates cannot be sent by campaigns)."</p> }.into_any()
                    } else {
                        let templates = templates.clone();
                        view! {
                            <label for="b-template-pick">"Template to send"</label>
                            <select id="b-template-pick" on:change=move |e| {
                                let v = event_target_value(&e).parse::<i64>().ok();
                                draft.update(|d| d.template_id = v);
                            }>
                                <option value="" selected=move || draft.with(|d| d.template_id.is_none())>"Choose a template…"</option>
                                {templates.into_iter().map(|t| {
                                    let tid = t.id;
                                    view! { <option value=t.id.to_string() selected=move || draft.with(|d| d.template_id == Some(tid))>{format!("{} ({})", t.name, t.kind)}</option> }
                                }).collect_view()}
                            </select>
                            <p class="muted"><a href="/templates">"Manage templates"</a></p>
                        }.into_any()
                    }}
                </section>
                <Splits draft segments=split_segments templates=split_templates />
            </div>
            <aside class="builder-side card" aria-label="Summary">
                <h2>"Summary"</h2>
                <div role="status" aria-live="polite" data-testid="audience-count">
                    {move || match count.get() {
                        None => view! { <p class="muted">"Counting…"</p> }.into_any(),
                        Some(Err(e)) => view! { <ErrorNote error=e /> }.into_any(),
                        Some(Ok(c)) => view! {
                            <p class="big-number"><strong>{format_count(c.count as i64)}</strong>" contacts"</p>
                            <ul class="sample">{c.sample.into_iter().map(|s| view! { <li>{s.name}" "<span class="muted">{s.email.unwrap_or_default()}</span></li> }).collect_view()}</ul>
                        }.into_any(),
                    }}
                </div>
                <p><strong>"When: "</strong><span data-testid="trigger-summary">{move || trigger.get().map_or("not set yet".to_string(), |t| t.describe())}</span></p>
                <p><strong>"Sends: "</strong>{move || template_name().unwrap_or_else(|| "no template yet".into())}</p>
                <div data-testid="conflicts" role="status" aria-live="polite">
                    {move || {
                        let list = conflicts.get();
                        (!list.is_empty()).then(|| view! {
                            <h3>"Possible duplicates"</h3>
                            {list.into_iter().map(|c| view! { <ConflictCard c /> }).collect_view()}
                        })
                    }}
                </div>
                <div data-testid="problems">
                    {move || {
                        let list = problems.get();
                        if list.is_empty() {
                            view! { <p class="notice">"Ready to activate."</p> }.into_any()
                        } else {
                            view! {
                                <h3>"Before it can be activated"</h3>
                                <ul class="problems">{list.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                            }.into_any()
                        }
                    }}
                </div>
                {move || (needs_approval && is_admin && !approved.get() && id.get().is_some()).then(|| view! {
                    <p><button type="button" on:click=approve>"Approve"</button>" "<span class="muted">"Marketers' campaigns need an admin's approval."</span></p>
                })}
                <div class="actions-bar">
                    <button type="button" on:click=save_draft disabled=move || busy.get()>"Save draft"</button>
                    {move || if status.get() == CampaignStatus::Active {
                        view! { <button type="button" class="danger" on:click=deactivate disabled=move || busy.get()>"Deactivate"</button> }.into_any()
                    } else {
                        view! { <button type="button" class="primary" on:click=move |_| confirming.set(true) disabled=move || busy.get() || !problems.get().is_empty()>"Activate…"</button> }.into_any()
                    }}
                </div>
                {move || confirming.get().then(|| {
                    let reach = count.get().and_then(|c| c.ok()).map_or("its audience".to_string(), |c| format!("{} contacts", format_count(c.count as i64)));
                    let warn = conflicts.get().len();
                    view! {
                        <div class="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
                            <h3 id="confirm-title">"Activate this campaign?"</h3>
                            <p id="confirm-text">{format!("It starts sending to {reach}: {}.", trigger.get().map_or(String::new(), |t| t.describe().to_lowercase()))}
                                {(warn > 0).then(|| format!(" {warn} possible duplicate(s) are listed above."))}</p>
                            <button type="button" class="primary" on:click=confirm_activate disabled=move || busy.get()>"Yes, activate"</button>
                            " "
                            <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        </div>
                    }
                })}
                {move || note.get().map(|n| match n {
                    Ok(t) => view! { <p class="notice" role="status" data-testid="builder-note">{t}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert" data-testid="builder-error">{e}</p> }.into_any(),
                })}
            </aside>
        </div>
    }
}

/// Optional split of the audience: contacts in a segment get another template.
#[component]
fn Splits(
    draft: RwSignal<Draft>,
    segments: Vec<(i64, String)>,
    templates: Vec<(i64, String)>,
) -> AnyView {
    let has_segments = !segments.is_empty();
    let first = segments.first().map_or(0, |s| s.0);
    view! {
        <section class="card" aria-labelledby="b-splits">
            <h2 id="b-splits">"Segments " <span class="muted">"(optional)"</span></h2>
            <p class="muted">"Send another template to the contacts of a segment; everyone else gets the template above. The first matching segment wins."</p>
            <ol class="conditions">
                <For
                    each=move || draft.with(|d| d.settings.splits.iter().copied().enumerate().collect::<Vec<_>>())
                    key=|(i, s)| (*i, s.segment_id, s.template_id)
                    children=move |(i, split)| {
                        let segments = segments.clone();
                        let templates = templates.clone();
                        view! {
                            <li class="condition">
                                <label class="inline">"Contacts in "
                                    <select on:change=move |e| { let v = event_target_value(&e).parse().unwrap_or(0); draft.update(|d| if let Some(s) = d.settings.splits.get_mut(i) { s.segment_id = v }) }>
                                        {segments.into_iter().map(|(id, name)| view! { <option value=id.to_string() selected=id == split.segment_id>{name}</option> }).collect_view()}
                                    </select>
                                </label>
                                <label class="inline">" get "
                                    <select on:change=move |e| { let v = event_target_value(&e).parse().unwrap_or(0); draft.update(|d| if let Some(s) = d.settings.splits.get_mut(i) { s.template_id = v }) }>
                                        <option value="0" selected=split.template_id == 0>"Choose a template…"</option>
                                        {templates.into_iter().map(|(id, name)| view! { <option value=id.to_string() selected=id == split.template_id>{name}</option> }).collect_view()}
                                    </select>
                                </label>
                                <button type="button" class="small link" on:click=move |_| draft.update(|d| { if i < d.settings.splits.len() { d.settings.splits.remove(i); } })>"Remove"</button>
                            </li>
                        }
                    }
                />
            </ol>
            {if has_segments {
                view! { <button type="button" class="small" on:click=move |_| draft.update(|d| d.settings.splits.push(herald_core::domain::campaign::Split { segment_id: first, template_id: 0 }))>"Add a segment split"</button> }.into_any()
            } else {
                view! { <p class="muted">"No segments yet: save one from the contact list's filters."</p> }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn ConflictCard(c: Conflict) -> AnyView {
    let name = c.other_name.clone();
    view! {
        <div class="conflict" data-testid="conflict">
            <p>
                <span class="badge status-inactive">{c.severity.label()}</span>" with "
                <a href=format!("/campaigns/{}", c.other_id)>{c.other_name.clone()}</a>": "
                {format!("{} contacts would get both.", format_count(c.overlap as i64))}
            </p>
            <ul class="reasons">{c.reasons.iter().map(|r| view! { <li>{r.describe()}</li> }).collect_view()}</ul>
            <p class="muted">"To resolve:"</p>
            <ul class="hints">{c.hints.iter().map(|h| view! { <li>{h.describe(&name)}</li> }).collect_view()}</ul>
        </div>
    }
    .into_any()
}

#[component]
fn General(draft: RwSignal<Draft>, lists: Vec<herald_core::domain::ListSummary>) -> AnyView {
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
    let seeds: Vec<_> = lists.iter().filter(|l| l.kind == "seed").cloned().collect();
    let suppressions: Vec<_> = lists
        .iter()
        .filter(|l| l.kind == "suppression" && !l.global)
        .cloned()
        .collect();
    let freq_kind = move || match draft.with(|d| d.settings.frequency) {
        Frequency::Once => "once",
        Frequency::EveryTime => "every_time",
        Frequency::AtMostEvery { .. } => "every_n",
    };
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
                        let f = match event_target_value(&e).as_str() { "every_time" => Frequency::EveryTime, "every_n" => Frequency::AtMostEvery { days: 7 }, _ => Frequency::Once };
                        draft.update(|d| d.settings.frequency = f)
                    }>
                        <option value="once" selected=move || freq_kind() == "once">"Send once per contact"</option>
                        <option value="every_time" selected=move || freq_kind() == "every_time">"Every time the trigger is met"</option>
                        <option value="every_n" selected=move || freq_kind() == "every_n">"At most every N days"</option>
                    </select>
                </label>
                {move || (freq_kind() == "every_n").then(|| view! {
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

#[component]
fn WindowEditor(
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
            <select aria-label="Unit" on:change=move |e| { let u = unit_from(&event_target_value(&e)); state.update(|s| s.2 = u); emit() }>
                {[Unit::Days, Unit::Weeks, Unit::Months].into_iter().map(|u| view! { <option value=unit_key(u) selected=u == unit>{unit_key(u)}</option> }).collect_view()}
            </select>
        </span>
    }
    .into_any()
}

#[component]
fn ConditionRow(
    row: Row,
    groups: Vec<(i64, String)>,
    on_remove: impl Fn() + Copy + Send + Sync + 'static,
) -> AnyView {
    let filter = row.filter;
    let kind = Memo::new(move |_| kind_of(&filter.get()));
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
                        which.set(match event_target_value(&e).as_str() { "published" => Some(CredentialDate::Published), "renewed" => Some(CredentialDate::Renewed), "expires" => Some(CredentialDate::Expires), _ => None });
                        emit()
                    }>
                        <option value="" selected=which.get_untracked().is_none()>"at any date"</option>
                        <option value="published" selected=which.get_untracked() == Some(CredentialDate::Published)>"published"</option>
                        <option value="renewed" selected=which.get_untracked() == Some(CredentialDate::Renewed)>"renewed"</option>
                        <option value="expires" selected=which.get_untracked() == Some(CredentialDate::Expires)>"expiring"</option>
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
                        let s = match event_target_value(&e).as_str() { "ongoing" => Some(EnrollmentState::Ongoing), "upcoming" => Some(EnrollmentState::Upcoming), "current" => Some(EnrollmentState::Current), "ended" => Some(EnrollmentState::Ended), _ => None };
                        state.update(|f| f.state = s); emit()
                    }>
                        <option value="" selected=st.is_none()>"in any state"</option>
                        <option value="ongoing" selected=st == Some(EnrollmentState::Ongoing)>"ongoing"</option>
                        <option value="upcoming" selected=st == Some(EnrollmentState::Upcoming)>"upcoming"</option>
                        <option value="current" selected=st == Some(EnrollmentState::Current)>"current"</option>
                        <option value="ended" selected=st == Some(EnrollmentState::Ended)>"ended"</option>
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
                        a.set(match event_target_value(&e).as_str() { "clicked" => Engagement::Clicked, "never" => Engagement::NeverEngaged, _ => Engagement::Opened });
                        emit()
                    }>
                        <option value="opened" selected=activity == Engagement::Opened>"opened a message"</option>
                        <option value="clicked" selected=activity == Engagement::Clicked>"clicked a link"</option>
                        <option value="never" selected=activity == Engagement::NeverEngaged>"never engaged"</option>
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
            <select aria-label="Condition" on:change=move |e| { let k = event_target_value(&e); filter.set(default_of(&k, &groups)) }>
                {KINDS.iter().map(|(k, label)| view! { <option value=*k selected=move || kind.get() == *k>{*label}</option> }).collect_view()}
                {move || (kind.get() == "nested").then(|| view! { <option value="nested" selected=true>"Nested conditions"</option> })}
            </select>
            {move || { kind.track(); params() }}
            <button type="button" class="small link" on:click=move |_| on_remove()>"Remove"</button>
        </li>
    }
    .into_any()
}

#[component]
fn TriggerEditor(
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

    #[test]
    fn times_of_day() {
        assert_eq!(hhmm(9 * 60 + 5), "09:05");
        assert_eq!(minute_of("23:59"), Some(1439));
        assert_eq!(minute_of("24:00"), None);
        assert_eq!(minute_of("noon"), None);
    }
}
