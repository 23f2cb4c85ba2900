//! The campaign builder: general information, audience, trigger and template, in any order,
//! with the live audience size, what is still missing, and live duplicate warnings. Activation
//! asks for confirmation.

mod audience;
mod general;
mod trigger;

use audience::*;
use general::*;
use trigger::*;

use crate::api::audience::{AudienceCount, count_audience};
use crate::api::builder::{
    BuilderOptions, activate_campaign, approve_campaign, campaign_conflicts, deactivate_campaign,
    discard_pending, open_builder, save_campaign,
};
use crate::components::{ErrorNote, Latest, NeedsJavaScript, debounce, format_count, replace_url};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use herald_core::domain::CampaignStatus;
use herald_core::domain::audience::Filter;
use herald_core::domain::campaign::Draft;
use herald_core::domain::delivery::ReachRule;
use herald_core::domain::duplicates::Conflict;
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
    /// The draft holds changes to the active campaign that are not live yet.
    pending: bool,
    options: BuilderOptions,
    now: DateTime<Utc>,
}

#[component]
pub fn BuilderPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").and_then(|i| i.parse::<i64>().ok());
    let start = Resource::new(
        move || {
            let selection = crate::pages::contacts::selection_of(&query.read());
            (id(), selection)
        },
        // One server function: a page's resource must not await two in a row while rendering
        // on the server.
        |(id, selection)| async move {
            let start = open_builder(id, selection).await?;
            let options = start.options;
            let now = options.now;
            let (draft, status, approved, pending) = match start.campaign {
                Some(c) => (c.draft, c.status, c.approved, c.pending),
                None => {
                    let mut d = Draft::default();
                    // Coming from the contact list: the selection becomes the audience.
                    if let Some(audience) = start.selection {
                        d.audience = audience;
                    }
                    (d, CampaignStatus::Draft, false, false)
                }
            };
            Ok::<_, AppError>(Start {
                id,
                draft,
                status,
                approved,
                pending,
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
                    // server-rendered copy would only be a form that does nothing. Its code is
                    // a part of the bundle of its own, loaded when it is opened.
                    Ok(s) => {
                        let mounted = RwSignal::new(false);
                        Effect::new(move |_| mounted.set(true));
                        (move || mounted.get().then(|| {
                            let s = s.clone();
                            view! {
                                <Suspense fallback=|| view! { <p class="loading">"Loading the builder…"</p> }>
                                    {Suspend::new(async move { builder_view(s).await })}
                                </Suspense>
                            }
                        })).into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The builder's view, in a part of the bundle loaded only when a builder opens.
#[lazy]
async fn builder_view(start: Start) -> AnyView {
    view! { <Builder start /> }.into_any()
}

#[component]
fn Builder(start: Start) -> impl IntoView {
    let Start {
        id,
        draft: initial,
        status,
        approved,
        pending,
        options,
        now,
    } = start;
    let approved = RwSignal::new(approved);
    // What changes to the active campaign wait for (`None`: nothing waits). Known exactly after
    // a save; on opening, the problems below say it.
    let pending: RwSignal<Option<Vec<String>>> = RwSignal::new(pending.then(Vec::new));
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
    let time_zone = options.time_zone.clone();

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

    // Live: the audience size and a few recipients; duplicate warnings. Answers can arrive out
    // of order: only the newest request's answer is shown.
    let count: RwSignal<Option<Result<AudienceCount, AppError>>> = RwSignal::new(None);
    let counting = Latest::new();
    // The reach depends on the audience and on the campaign's type, channel and suppression
    // lists (the same rule the sender applies).
    let count_inputs = Memo::new(move |_| {
        let rule = full.with(|d| ReachRule {
            message_type: d.message_type,
            channel: d.channel,
            suppression_list_ids: d.settings.suppression_list_ids.clone(),
        });
        (audience.get(), rule)
    });
    debounce(
        move || count_inputs.get(),
        400,
        move |(filter, rule): (Filter, ReachRule)| {
            let ticket = counting.ticket();
            spawn_local(async move {
                let answer = count_audience(filter, Some(rule)).await;
                if counting.is_current(ticket) {
                    count.set(Some(answer));
                }
            })
        },
    );
    // The duplicate check depends on who is reached, when, with what and how; not on the name
    // or the description, so typing those does not run it (about a second at 1M contacts).
    let conflict_inputs = Memo::new(move |_| {
        full.with(|d| {
            (
                d.audience.clone(),
                d.trigger.clone(),
                d.template_id,
                d.message_type,
                d.channel,
            )
        })
    });
    let conflicts: RwSignal<Vec<Conflict>> = RwSignal::new(Vec::new());
    let checking = Latest::new();
    debounce(
        move || conflict_inputs.get(),
        500,
        move |_| {
            let d = full.get_untracked();
            let ticket = checking.ticket();
            spawn_local(async move {
                if let Ok(found) = campaign_conflicts(id.get_untracked(), d).await
                    && checking.is_current(ticket)
                {
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
                id.set(Some(saved.id));
                pending.set(saved.pending.then(|| saved.waiting_for.clone()));
                if needs_approval && !is_admin && status.get_untracked() != CampaignStatus::Active {
                    // A marketer's edit needs a new approval.
                    approved.set(false);
                }
                if activate {
                    activate_campaign(saved.id).await?;
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
                    } else if saved.pending {
                        format!(
                            "Saved, but not live yet: the campaign keeps running as it was until {}",
                            saved.waiting_for.join(" ").trim_end_matches('.').to_lowercase()
                                + " is done."
                        )
                    } else if status.get_untracked() == CampaignStatus::Active {
                        "Saved: the changes are live.".to_string()
                    } else {
                        "Saved.".to_string()
                    })));
                    if was_new {
                        replace_url(&format!("/campaigns/{}/edit", saved.id));
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
                    let applied = pending.get_untracked().is_some();
                    pending.set(None);
                    note.set(Some(Ok(if applied {
                        "Approved: the changes are live.".into()
                    } else {
                        "Approved: it can be activated.".into()
                    })));
                }
                Err(e) => note.set(Some(Err(e.to_string()))),
            }
        });
    };
    let discard = move |_| {
        let Some(cid) = id.get_untracked() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match discard_pending(cid).await {
                // Load the campaign as it runs.
                Ok(()) => {
                    let _ = window().location().reload();
                }
                Err(e) => {
                    busy.set(false);
                    note.set(Some(Err(e.to_string())));
                }
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
                <TriggerEditor trigger now segments=segments.clone() time_zone=time_zone.clone() />
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
                {move || id.get().map(|id| view! { <crate::components::TestSendForm of="campaign" id /> })}
            </div>
            <aside class="builder-side card" aria-label="Summary">
                <h2>"Summary"</h2>
                <div role="status" aria-live="polite" data-testid="audience-count">
                    {move || match count.get() {
                        None => view! { <p class="muted">"Counting…"</p> }.into_any(),
                        Some(Err(e)) => view! { <ErrorNote error=e /> }.into_any(),
                        Some(Ok(c)) => {
                            let rule = count_inputs.with_untracked(|(_, r)| r.clone());
                            let reached = c.reach.as_ref().map_or(c.count, |r| r.reachable);
                            let left_out = c.reach.map(|r| r.left_out).unwrap_or_default();
                            view! {
                                <p class="big-number" data-testid="reach"><strong>{format_count(reached as i64)}</strong>" will receive it"</p>
                                <p class="muted" data-testid="matched">{format!("{} match the filters", format_count(c.count as i64))}</p>
                                {(!left_out.is_empty()).then(|| view! {
                                    <ul class="left-out" data-testid="left-out" aria-label="Left out">
                                        {left_out.into_iter().map(|(reason, n)| view! {
                                            <li data-reason=reason.as_str()>{format!("{} {}", format_count(n as i64), rule.left_out_because(reason))}</li>
                                        }).collect_view()}
                                    </ul>
                                })}
                                <ul class="sample">{c.sample.into_iter().map(|s| view! { <li>{s.name}" "<span class="muted">{s.email.unwrap_or_default()}</span></li> }).collect_view()}</ul>
                            }.into_any()
                        }
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
                {move || pending.get().map(|waiting| view! {
                    <div class="notice" data-testid="pending">
                        <p>"Changes saved but not live: the campaign keeps running as it was until they are ready."</p>
                        {(!waiting.is_empty()).then(|| view! {
                            <ul class="problems">{waiting.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                        })}
                        <button type="button" class="small" on:click=discard disabled=move || busy.get()>"Discard the changes"</button>
                    </div>
                })}
                {move || (needs_approval && is_admin && id.get().is_some() && (!approved.get() || pending.get().is_some())).then(|| view! {
                    <p><button type="button" on:click=approve>"Approve"</button>" "<span class="muted">"Marketers' campaigns and their changes need an admin's approval."</span></p>
                })}
                <div class="actions-bar">
                    <button type="button" on:click=save_draft disabled=move || busy.get()>
                        {move || if status.get() == CampaignStatus::Active { "Save changes" } else { "Save draft" }}
                    </button>
                    {move || if status.get() == CampaignStatus::Active {
                        view! { <button type="button" class="danger" on:click=deactivate disabled=move || busy.get()>"Deactivate"</button> }.into_any()
                    } else {
                        view! { <button type="button" class="primary" on:click=move |_| confirming.set(true) disabled=move || busy.get() || !problems.get().is_empty()>"Activate…"</button> }.into_any()
                    }}
                </div>
                {move || confirming.get().then(|| {
                    let reach = count.get().and_then(|c| c.ok()).map_or("its audience".to_string(), |c| format!("{} contacts", format_count(c.reach.map_or(c.count, |r| r.reachable) as i64)));
                    let warn = conflicts.get().len();
                    view! {
                        <div class="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
                            <h3 id="confirm-title">"Activate this campaign?"</h3>
                            <p id="confirm-text">{trigger.get().map_or(String::new(), |t| t.on_activation(&reach))}
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
