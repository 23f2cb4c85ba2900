//! One contact: details, consent, groups and the timeline.

use crate::api::contacts::{
    AddToGroup, AssignContacts, get_contact, list_account_managers, list_groups,
};
use crate::components::{ErrorNote, action_result, format_time};
use herald_core::domain::access::{Action, role_may};
use herald_core::domain::{ContactDetail, CurrentUser, GroupSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ContactDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let add = ServerAction::<AddToGroup>::new();
    let assign = ServerAction::<AssignContacts>::new();
    let contact = Resource::new(
        move || (id(), add.version().get(), assign.version().get()),
        |(id, _, _)| get_contact(id),
    );
    // Only those who may assign contacts are offered the managers to choose from.
    let may_assign =
        use_context::<CurrentUser>().is_some_and(|u| role_may(u.role, Action::AssignContacts));
    let managers = Resource::new(
        || (),
        move |_| async move {
            if may_assign {
                list_account_managers().await
            } else {
                Ok(Vec::new())
            }
        },
    );
    let groups = Resource::new(|| (), |_| list_groups());
    view! {
        <p class="crumbs"><a href="/contacts">"← Contacts"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match contact.await {
                    Err(e) => view! { <Title text="Contact" /><ErrorNote error=e /> }.into_any(),
                    Ok(c) => {
                        let groups = groups.await.unwrap_or_default();
                        let managers = managers.await.unwrap_or_default();
                        view! { <ContactView c groups add managers=may_assign.then_some(managers) assign /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub(super) fn ContactView(
    c: ContactDetail,
    groups: Vec<GroupSummary>,
    add: ServerAction<AddToGroup>,
    /// The account managers to choose from, for those who may assign contacts.
    managers: Option<Vec<(i64, String, String)>>,
    assign: ServerAction<AssignContacts>,
) -> impl IntoView {
    let name = c.name();
    let title = if name.is_empty() {
        c.email.clone().unwrap_or_default()
    } else {
        name.clone()
    };
    let consent = |label: &'static str, k: herald_core::domain::Consent| {
        let how = match (k.changed_at, k.source) {
            (Some(at), Some(src)) => format!(" · {} via {src}", format_time(Some(at))),
            (Some(at), None) => format!(" · {}", format_time(Some(at))),
            _ => String::new(),
        };
        view! { <dt>{label}</dt><dd>{if k.given { "Given" } else { "Not given" }}{how}</dd> }
    };
    let missing: Vec<GroupSummary> = groups
        .into_iter()
        .filter(|g| !c.groups.contains(&g.name))
        .collect();
    let contact_id = c.id.to_string();
    view! {
        <Title text=title.clone() />
        <h1 data-testid="contact-name">{title}</h1>
        <div class="columns">
            <section class="card">
                <h2>"Details"</h2>
                <dl class="facts">
                    <dt>"Email"</dt><dd>{c.email.clone().unwrap_or_else(|| "–".into())}</dd>
                    <dt>"Phone"</dt><dd>{c.phone.clone().unwrap_or_else(|| "–".into())}</dd>
                    <dt>"Language"</dt><dd>{c.language.clone()}</dd>
                    <dt>"Time zone"</dt><dd>{c.time_zone.clone()}</dd>
                    <dt>"Status"</dt><dd>{if c.active { "Active" } else { "Inactive" }}</dd>
                    <dt>"Created"</dt><dd>{format_time(Some(c.created_at))}</dd>
                    {consent("Marketing consent", c.marketing_consent.clone())}
                    {consent("Newsletter consent", c.newsletter_consent.clone())}
                    {c.attributes.clone().into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
            </section>
            <section class="card" data-testid="contact-groups">
                <h2>"Groups"</h2>
                {if c.groups.is_empty() {
                    view! { <p class="muted">"In no group."</p> }.into_any()
                } else {
                    view! { <ul>{c.groups.clone().into_iter().map(|g| view! { <li>{g}</li> }).collect_view()}</ul> }.into_any()
                }}
                {(!missing.is_empty()).then(|| view! {
                    <ActionForm action=add attr:class="inline">
                        <input type="hidden" name="contact_id" value=contact_id />
                        <label for="add-group">"Add to group"</label>
                        <select id="add-group" name="group_id">
                            {missing.into_iter().map(|g| view! { <option value=g.id.to_string()>{g.name}</option> }).collect_view()}
                        </select>
                        <button type="submit">"Add"</button>
                    </ActionForm>
                })}
                {move || action_result(add.value().get(), |_| "Added.".into())}
            </section>
        </div>
        <section class="card" data-testid="account-manager">
            <h2>"Account manager"</h2>
            <p>{match c.account_manager.clone() {
                Some(m) => m,
                None => "Nobody looks after this contact.".into(),
            }}</p>
            {managers.map(|managers| {
                let current = c.account_manager.clone().unwrap_or_default();
                let contact_id = c.id.to_string();
                view! {
                    <ActionForm action=assign attr:class="inline">
                        <input type="hidden" name="ids[0]" value=contact_id />
                        <label for="assign-manager">"Assign to"</label>
                        <select id="assign-manager" name="manager">
                            <option value="" selected=current.is_empty()>"Nobody"</option>
                            {managers.into_iter().map(|(id, name, email)| {
                                let selected = email == current;
                                view! { <option value=id.to_string() selected=selected>{format!("{name} <{email}>")}</option> }
                            }).collect_view()}
                        </select>
                        <button type="submit">"Save"</button>
                    </ActionForm>
                    {move || action_result(assign.value().get(), |_| "Saved.".into())}
                }
            })}
        </section>
        <section class="card" data-testid="timeline">
            <h2>"Timeline"</h2>
            {if c.timeline.is_empty() {
                view! { <p class="muted">"Nothing has happened yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline">
                        {c.timeline.into_iter().map(|t| view! {
                            <li class=format!("kind-{}", t.kind)>
                                <time>{format_time(Some(t.at))}</time>
                                <strong>{t.title}</strong>
                                {(!t.detail.is_empty()).then(|| view! { <span class="muted">{t.detail}</span> })}
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}
