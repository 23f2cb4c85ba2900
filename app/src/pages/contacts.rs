//! Contacts: the list (search, filters, pages, selection → campaign or segment), a contact's
//! page with its timeline, groups, segments, suppression and seed lists, and CSV imports. Every
//! page reads its state from the URL and changes data through forms, so all of it works with
//! and without JavaScript.

use crate::api::contacts::AddToList;
use crate::api::contacts::{
    AddToGroup, CreateGroup, CreateList, CreateSegment, DeleteGroup, DeleteList, DeleteSegment,
    RemoveFromList, get_contact, get_import, list_contacts, list_entries, list_groups, list_lists,
    list_segments, recent_imports,
};
use crate::components::{ErrorNote, action_result, format_count, format_time};
use herald_core::domain::ingest::{ColumnTarget, ImportStatus};
use herald_core::domain::{
    ContactDetail, ContactPage, CurrentUser, GroupSummary, MessageType, Role,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Percent-encodes a query parameter value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The list's URL for these filters and page (empty values left out).
fn list_href(filters: &[(&str, String)], page: u64) -> String {
    let mut query: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    query.push(format!("page={page}"));
    format!("/contacts?{}", query.join("&"))
}

fn can_manage() -> bool {
    use_context::<CurrentUser>().is_some_and(|u| u.role != Role::Member)
}

/// Tabs between the contact pages.
#[component]
pub fn ContactsNav(current: &'static str) -> impl IntoView {
    let manage = can_manage();
    let tab = move |href: &'static str, label: &'static str, key: &'static str| {
        view! { <a href=href aria-current=(key == current).then_some("page")>{label}</a> }
    };
    view! {
        <nav class="tabs" aria-label="Contacts">
            {tab("/contacts", "All contacts", "list")}
            {tab("/contacts/groups", "Groups", "groups")}
            {manage.then(|| view! {
                {tab("/contacts/segments", "Segments", "segments")}
                {tab("/contacts/lists", "Suppression & seed lists", "lists")}
                {tab("/contacts/import", "Import", "import")}
            })}
        </nav>
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).unwrap_or_default();
    let page = move || param("page").parse::<u64>().ok().unwrap_or(1);
    let filters = move || {
        (
            param("q"),
            param("group"),
            param("status"),
            param("consent"),
        )
    };
    let contacts = Resource::new(
        move || (filters(), page()),
        |((q, g, s, c), p)| list_contacts(Some(q), Some(g), Some(s), Some(c), Some(p)),
    );
    let groups = Resource::new(|| (), |_| list_groups());
    let manage = can_manage();
    view! {
        <Title text="Contacts" />
        <div class="page-head">
            <h1>"Contacts"</h1>
        </div>
        <ContactsNav current="list" />
        <form method="get" action="/contacts" class="search filters" role="search">
            <label for="contact-search" class="visually-hidden">"Search contacts"</label>
            <input id="contact-search" type="search" name="q" placeholder="Name or email address" prop:value=move || param("q") />
            <label for="filter-group">"Group"</label>
            <select id="filter-group" name="group">
                <option value="">"Any"</option>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let selected = param("group");
                        groups.await.unwrap_or_default().into_iter().map(|g| {
                            let id = g.id.to_string();
                            view! { <option value=id.clone() selected=id == selected>{g.name}</option> }
                        }).collect_view()
                    })}
                </Transition>
            </select>
            <label for="filter-status">"Status"</label>
            <select id="filter-status" name="status">
                {[("", "Any"), ("active", "Active"), ("inactive", "Inactive")].map(|(v, l)| view! {
                    <option value=v selected=move || param("status") == v>{l}</option>
                }).collect_view()}
            </select>
            <label for="filter-consent">"Consent"</label>
            <select id="filter-consent" name="consent">
                <option value="">"Any"</option>
                {[MessageType::Marketing, MessageType::Newsletter].map(|m| view! {
                    <option value=m.as_str() selected=move || param("consent") == m.as_str()>{m.label()}</option>
                }).collect_view()}
            </select>
            <button type="submit">"Apply"</button>
        </form>
        <Transition fallback=|| view! { <p class="loading">"Loading contacts…"</p> }>
            {move || Suspend::new(async move {
                let (q, g, s, c) = filters();
                match contacts.await {
                    Ok(page) => view! { <ContactTable page q g s c manage /> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ContactTable(
    page: ContactPage,
    q: String,
    g: String,
    s: String,
    c: String,
    manage: bool,
) -> impl IntoView {
    if page.total == 0 {
        let message = if q.is_empty() && g.is_empty() && s.is_empty() && c.is_empty() {
            "No contacts yet.".to_owned()
        } else {
            "No contacts match these filters.".to_owned()
        };
        return view! { <section class="empty" data-testid="contacts-empty"><p>{message}</p></section> }.into_any();
    }
    let (current, pages, total) = (page.page, page.pages, page.total);
    let filters = vec![
        ("q", q.clone()),
        ("group", g.clone()),
        ("status", s.clone()),
        ("consent", c.clone()),
    ];
    let prev = list_href(&filters, current.saturating_sub(1));
    let next = list_href(&filters, current + 1);
    let save_segment = ServerAction::<CreateSegment>::new();
    let (g2, s2, c2) = (g.clone(), s.clone(), c.clone());
    view! {
        <p class="muted" data-testid="contact-total">
            {format!("{} contacts · page {current} of {pages}", format_count(total as i64))}
        </p>
        // The selection goes to the campaign builder as its audience: ticked contacts, or all
        // that match the filters.
        <form method="get" action="/campaigns/new" id="selection">
            <input type="hidden" name="q" value=q />
            <input type="hidden" name="group" value=g />
            <input type="hidden" name="status" value=s />
            <input type="hidden" name="consent" value=c />
            <div class="table-wrap">
                <table data-testid="contact-table">
                    <thead>
                        <tr>
                            <th scope="col"><span class="visually-hidden">"Select"</span></th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Language"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Consent"</th>
                            <th scope="col">"Created"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.rows.into_iter().map(|c| {
                            let label = format!("Select {}", c.name);
                            view! {
                                <tr>
                                    <td><input type="checkbox" name="id" value=c.id.to_string() aria-label=label /></td>
                                    <td><a href=format!("/contacts/{}", c.id)>{c.name}</a></td>
                                    <td>{c.email.unwrap_or_else(|| "–".into())}</td>
                                    <td>{c.language}</td>
                                    <td>{if c.active { "Active" } else { "Inactive" }}</td>
                                    <td>
                                        {c.marketing_consent.then(|| view! { <span class="badge type-marketing">"Marketing"</span> " " })}
                                        {c.newsletter_consent.then(|| view! { <span class="badge type-newsletter">"Newsletter"</span> })}
                                    </td>
                                    <td class="when">{format_time(Some(c.created_at))}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {manage.then(|| view! {
                <div class="actions-bar">
                    <button type="submit" name="all" value="0">"Start a campaign for the selected contacts"</button>
                    <button type="submit" name="all" value="1">{format!("Start a campaign for all {} matching", format_count(total as i64))}</button>
                </div>
            })}
        </form>
        <nav class="pager" aria-label="Pages">
            {(current > 1).then(|| view! { <a href=prev rel="prev">"← Previous"</a> })}
            {(current < pages).then(|| view! { <a href=next rel="next">"Next →"</a> })}
        </nav>
        {manage.then(|| view! {
            <details class="card">
                <summary>"Save these filters as a segment"</summary>
                <p class="muted">"A segment keeps its members up to date; campaigns can send to contacts when they enter it. Text search is not part of a segment."</p>
                <ActionForm action=save_segment attr:class="narrow">
                    <input type="hidden" name="group" value=g2 />
                    <input type="hidden" name="status" value=s2 />
                    <input type="hidden" name="consent" value=c2 />
                    <label for="segment-name">"Segment name"</label>
                    <input id="segment-name" name="name" required maxlength="100" />
                    <button type="submit">"Save segment"</button>
                </ActionForm>
                {move || action_result(save_segment.value().get(), |_| "Segment saved.".into())}
            </details>
        })}
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// One contact

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
    let contact = Resource::new(
        move || (id(), add.version().get()),
        |(id, _)| get_contact(id),
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
                        view! { <ContactView c groups add /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn ContactView(
    c: ContactDetail,
    groups: Vec<GroupSummary>,
    add: ServerAction<AddToGroup>,
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

// ---------------------------------------------------------------------------------------------
// Groups

#[component]
pub fn GroupsPage() -> impl IntoView {
    let create = ServerAction::<CreateGroup>::new();
    let delete = ServerAction::<DeleteGroup>::new();
    let groups = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_groups(),
    );
    let manage = can_manage();
    view! {
        <Title text="Groups" />
        <h1>"Contacts"</h1>
        <ContactsNav current="groups" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(groups) if groups.is_empty() => view! { <p class="empty">"No groups yet."</p> }.into_any(),
                    Ok(groups) => view! {
                        <table data-testid="groups">
                            <thead><tr><th scope="col">"Group"</th><th scope="col">"Members"</th><th></th></tr></thead>
                            <tbody>
                                {groups.into_iter().map(|g| view! {
                                    <tr>
                                        <td><a href=format!("/contacts?group={}", g.id)>{g.name.clone()}</a></td>
                                        <td>{format_count(g.members as i64)}</td>
                                        <td>{manage.then(|| view! {
                                            <ActionForm action=delete attr:class="inline">
                                                <input type="hidden" name="id" value=g.id.to_string() />
                                                <button type="submit" class="link danger" aria-label=format!("Delete group {}", g.name)>"Delete"</button>
                                            </ActionForm>
                                        })}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        {manage.then(|| view! {
            <section class="card">
                <h2>"New group"</h2>
                <ActionForm action=create attr:class="narrow">
                    <label for="group-name">"Name"</label>
                    <input id="group-name" name="name" required maxlength="100" />
                    <button type="submit">"Create group"</button>
                </ActionForm>
                {move || action_result(create.value().get(), |_| "Group created.".into())}
                {move || action_result(delete.value().get(), |_| "Group deleted.".into())}
            </section>
        })}
    }
}

// ---------------------------------------------------------------------------------------------
// Segments

#[component]
pub fn SegmentsPage() -> impl IntoView {
    let delete = ServerAction::<DeleteSegment>::new();
    let segments = Resource::new(move || delete.version().get(), |_| list_segments());
    view! {
        <Title text="Segments" />
        <h1>"Contacts"</h1>
        <ContactsNav current="segments" />
        <p class="muted">"Segments are saved audiences, refreshed every minute. Contacts who newly match “enter” the segment, which can trigger a campaign. Save one from the contact list's filters or through the API."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match segments.await {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No segments yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table data-testid="segments">
                            <thead><tr><th scope="col">"Segment"</th><th scope="col">"Members"</th><th scope="col">"Entered in the last 7 days"</th><th scope="col">"Refreshed"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! {
                                    <tr>
                                        <td>{s.name.clone()}</td>
                                        <td>{format_count(s.members as i64)}</td>
                                        <td>{format_count(s.entered_recently as i64)}</td>
                                        <td class="when">{format_time(s.refreshed_at)}</td>
                                        <td>
                                            <ActionForm action=delete attr:class="inline">
                                                <input type="hidden" name="id" value=s.id.to_string() />
                                                <button type="submit" class="link danger" aria-label=format!("Delete segment {}", s.name)>"Delete"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

// ---------------------------------------------------------------------------------------------
// Suppression and seed lists

#[component]
pub fn ListsPage() -> impl IntoView {
    let create = ServerAction::<CreateList>::new();
    let delete = ServerAction::<DeleteList>::new();
    let lists = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_lists(),
    );
    view! {
        <Title text="Suppression and seed lists" />
        <h1>"Contacts"</h1>
        <ContactsNav current="lists" />
        <p class="muted">"Nothing is ever sent to an address on the global suppression list or on a suppression list a campaign uses. Seed lists receive a copy of each send, to check it."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match lists.await {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(lists) => view! {
                        <table data-testid="lists">
                            <thead><tr><th scope="col">"List"</th><th scope="col">"Kind"</th><th scope="col">"Addresses"</th><th></th></tr></thead>
                            <tbody>
                                {lists.into_iter().map(|l| view! {
                                    <tr>
                                        <td><a href=format!("/contacts/lists/{}", l.id)>{l.name.clone()}</a></td>
                                        <td>{if l.kind == "seed" { "Seed" } else { "Suppression" }}</td>
                                        <td>{format_count(l.entries as i64)}</td>
                                        <td>{(!l.global).then(|| view! {
                                            <ActionForm action=delete attr:class="inline">
                                                <input type="hidden" name="id" value=l.id.to_string() />
                                                <button type="submit" class="link danger" aria-label=format!("Delete list {}", l.name)>"Delete"</button>
                                            </ActionForm>
                                        })}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        <section class="card">
            <h2>"New list"</h2>
            <ActionForm action=create attr:class="narrow">
                <label for="list-kind">"Kind"</label>
                <select id="list-kind" name="kind">
                    <option value="suppression">"Suppression list"</option>
                    <option value="seed">"Seed list"</option>
                </select>
                <label for="list-name">"Name"</label>
                <input id="list-name" name="name" required maxlength="100" />
                <button type="submit">"Create list"</button>
            </ActionForm>
            {move || action_result(create.value().get(), |_| "List created.".into())}
            {move || action_result(delete.value().get(), |_| "List deleted.".into())}
        </section>
    }
}

#[component]
pub fn ListPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let add = ServerAction::<AddToList>::new();
    let remove = ServerAction::<RemoveFromList>::new();
    let list = Resource::new(
        move || (id(), add.version().get(), remove.version().get()),
        |(id, _, _)| list_entries(id),
    );
    view! {
        <p class="crumbs"><a href="/contacts/lists">"← Lists"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <Title text="List" /><ErrorNote error=e /> }.into_any(),
                    Ok((summary, entries)) => {
                        let seed = summary.kind == "seed";
                        let list_id = summary.id.to_string();
                        let rows_list_id = list_id.clone();
                        view! {
                            <Title text=summary.name.clone() />
                            <h1>{summary.name.clone()}</h1>
                            <p class="muted">{format!("{} addresses", format_count(summary.entries as i64))}</p>
                            <table data-testid="entries">
                                <thead><tr><th scope="col">"Address"</th><th scope="col">{if seed { "Name" } else { "Reason" }}</th><th scope="col">"Added"</th><th></th></tr></thead>
                                <tbody>
                                    {entries.into_iter().map(|e| { let list_id = rows_list_id.clone(); view! {
                                        <tr>
                                            <td>{e.email.clone()}</td>
                                            <td>{if seed { e.name } else { e.reason }}</td>
                                            <td class="when">{format_time(Some(e.created_at))}</td>
                                            <td>
                                                <ActionForm action=remove attr:class="inline">
                                                    <input type="hidden" name="id" value=list_id />
                                                    <input type="hidden" name="email" value=e.email.clone() />
                                                    <button type="submit" class="link danger" aria-label=format!("Remove {}", e.email)>"Remove"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                            <section class="card">
                                <h2>"Add addresses"</h2>
                                <ActionForm action=add attr:class="narrow">
                                    <input type="hidden" name="id" value=list_id.clone() />
                                    <label for="addresses">{if seed { "One per line: address, name" } else { "One per line: address, reason" }}</label>
                                    <textarea id="addresses" name="addresses" rows="6" required></textarea>
                                    <button type="submit">"Add"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        {move || action_result(add.value().get(), |r| {
            let mut msg = format!("{} added, {} already on the list.", r.added, r.already);
            for (line, text, reason) in r.invalid.iter().take(20) {
                msg += &format!(" Line {line} (“{text}”): {reason}.");
            }
            msg
        })}
    }
}

// ---------------------------------------------------------------------------------------------
// Imports

#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    let recent = Resource::new(|| (), |_| recent_imports());
    view! {
        <Title text="Import contacts" />
        <h1>"Contacts"</h1>
        <ContactsNav current="import" />
        <section class="card">
            <h2>"Import contacts from a CSV file"</h2>
            <p class="muted">"The first line names the columns. Contacts are merged by email address: importing the same file again changes nothing. Save spreadsheets as “CSV UTF-8”; at most 20 MB."</p>
            {move || error().map(|e| view! { <p class="error" role="alert" data-testid="upload-error">{e}</p> })}
            <form method="post" action="/contacts/import/upload" enctype="multipart/form-data" class="narrow">
                <label for="csv-file">"CSV file"</label>
                <input id="csv-file" type="file" name="file" accept=".csv,text/csv" required />
                <button type="submit" class="primary">"Upload and map columns"</button>
            </form>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match recent.await {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section class="card">
                            <h2>"Recent imports"</h2>
                            <table>
                                <thead><tr><th scope="col">"File"</th><th scope="col">"Status"</th><th scope="col">"Rows"</th><th scope="col">"Refused"</th><th scope="col">"Uploaded"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|j| view! {
                                        <tr>
                                            <td><a href=format!("/contacts/import/{}", j.id)>{j.filename.clone()}</a></td>
                                            <td>{status_label(&j.status)}</td>
                                            <td>{format_count(j.total_rows)}</td>
                                            <td>{format_count(j.error_rows)}</td>
                                            <td class="when">{format_time(Some(j.created_at))}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "uploaded" => "Waiting for a column mapping",
        "queued" => "Queued",
        "running" => "Importing",
        "done" => "Done",
        "failed" => "Failed",
        _ => "Unknown",
    }
}

#[component]
pub fn ImportJobPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let error = move || query.read().get("error");
    let tick = RwSignal::new(0u32);
    let job = Resource::new(move || (id(), tick.get()), |(id, _)| get_import(id));
    // While the import runs, ask for its progress every second (in the browser only).
    Effect::new(move |_| {
        if let Some(Ok(status)) = job.get()
            && !status.finished()
            && status.status != "uploaded"
        {
            set_timeout(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_millis(1000),
            );
        }
    });
    view! {
        <p class="crumbs"><a href="/contacts/import">"← Import"</a></p>
        {move || error().map(|e| view! { <p class="error" role="alert" data-testid="import-error">{e}</p> })}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match job.await {
                    Err(e) => view! { <Title text="Import" /><ErrorNote error=e /> }.into_any(),
                    Ok(s) if s.status == "uploaded" => view! { <Mapping s /> }.into_any(),
                    Ok(s) => view! { <Progress s /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Mapping(s: ImportStatus) -> impl IntoView {
    let action = format!("/contacts/import/{}/start", s.id);
    let options = move |selected: &ColumnTarget| {
        let mut targets = ColumnTarget::FIXED.to_vec();
        if let ColumnTarget::Attribute(_) = selected {
            targets.push(selected.clone());
        }
        targets
            .into_iter()
            .map(|t| {
                let is = t == *selected;
                view! { <option value=t.to_form() selected=is>{t.label()}</option> }
            })
            .collect_view()
    };
    view! {
        <Title text=format!("Map columns · {}", s.filename) />
        <h1>"Map the columns of " {s.filename.clone()}</h1>
        <p class="muted">"Choose what each column holds. One column must hold the email address. Columns that are not known fields become custom attributes."</p>
        <form method="post" action=action data-testid="mapping">
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>{s.columns.iter().map(|(h, _)| view! { <th scope="col">{h.clone()}</th> }).collect_view()}</tr>
                        <tr>{s.columns.iter().enumerate().map(|(i, (h, t))| view! {
                            <td>
                                <label for=format!("col{i}") class="visually-hidden">{format!("Column {h}")}</label>
                                <select id=format!("col{i}") name=format!("col{i}")>{options(t)}</select>
                            </td>
                        }).collect_view()}</tr>
                    </thead>
                    <tbody data-testid="preview">
                        {s.preview.iter().map(|row| view! {
                            <tr>{row.iter().map(|v| view! { <td>{v.clone()}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <button type="submit" class="primary">"Import"</button>
        </form>
    }
}

#[component]
fn Progress(s: ImportStatus) -> impl IntoView {
    let percent = s.percent();
    let finished = s.finished();
    let errors_href = format!("/contacts/import/{}/errors.csv", s.id);
    view! {
        <Title text=format!("Import · {}", s.filename) />
        <h1>"Import of " {s.filename.clone()}</h1>
        <p data-testid="import-status">{status_label(&s.status)}</p>
        <progress max="100" value=percent.to_string() aria-label="Import progress">{format!("{percent}%")}</progress>
        <p class="muted">{format!("{} of {} rows", format_count(s.processed_rows), format_count(s.total_rows))}</p>
        {(!s.finished()).then(|| view! { <p><a href=format!("/contacts/import/{}", s.id)>"Refresh"</a></p> })}
        {s.failure.clone().map(|f| view! { <p class="error" role="alert">{f}</p> })}
        <dl class="facts" data-testid="import-counts">
            <dt>"New contacts"</dt><dd data-testid="created">{format_count(s.created_rows)}</dd>
            <dt>"Updated"</dt><dd data-testid="updated">{format_count(s.updated_rows)}</dd>
            <dt>"Unchanged"</dt><dd data-testid="unchanged">{format_count(s.unchanged_rows)}</dd>
            <dt>"Refused rows"</dt><dd data-testid="refused">{format_count(s.error_rows)}</dd>
        </dl>
        {(!s.errors.is_empty()).then(|| view! {
            <section class="card">
                <h2>"Refused rows"</h2>
                <p class="muted">"These rows were not imported; correct them and import them again. " <a href=errors_href>"Download all as CSV"</a></p>
                <table data-testid="import-errors">
                    <thead><tr><th scope="col">"Line"</th><th scope="col">"Column"</th><th scope="col">"Value"</th><th scope="col">"Problem"</th></tr></thead>
                    <tbody>
                        {s.errors.into_iter().map(|e| view! {
                            <tr><td>{e.line}</td><td>{e.column}</td><td>{e.value}</td><td>{e.reason}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
        {finished.then(|| view! { <p><a href="/contacts">"Go to the contacts"</a></p> })}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_encoding() {
        assert_eq!(super::encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn list_links_keep_the_filters() {
        assert_eq!(super::list_href(&[("q", "".into())], 2), "/contacts?page=2");
        assert_eq!(
            super::list_href(&[("q", "ana olsen".into()), ("group", "3".into())], 3),
            "/contacts?q=ana+olsen&group=3&page=3"
        );
        assert_eq!(
            super::list_href(&[("q", "a&b=c".into())], 1),
            "/contacts?q=a%26b%3Dc&page=1"
        );
        assert_eq!(
            super::list_href(&[("q", "é".into())], 1),
            "/contacts?q=%C3%A9&page=1"
        );
    }
}
