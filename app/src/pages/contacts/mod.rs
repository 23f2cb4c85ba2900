//! Contacts: the list (search, filters, pages, selection → campaign or segment), a contact's
//! page with its timeline, groups, segments, suppression and seed lists, and CSV imports. Every
//! page reads its state from the URL and changes data through forms, so all of it works with
//! and without JavaScript.

mod detail;
mod groups;
mod import;
mod lists;
mod segments;
mod send;

pub use detail::ContactDetailPage;
pub use groups::GroupsPage;
pub use import::{ImportJobPage, ImportPage};
pub use lists::{ListPage, ListsPage};
pub use segments::SegmentsPage;
pub use send::{MessagesPage, SendNowPage};

use crate::api::contacts::{CreateSegment, list_contacts, list_groups};
use crate::components::{ErrorNote, action_result, format_count, format_time};
use herald_core::domain::{ContactPage, CurrentUser, MessageType, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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
pub(super) fn list_href(filters: &[(&str, String)], page: u64) -> String {
    let mut query: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    query.push(format!("page={page}"));
    format!("/contacts?{}", query.join("&"))
}

/// The contact list's selection in a query string (`id` repeated, `all`, and the list's
/// filters), as the "Start a campaign" and "Send now" buttons submit it; `None` without one.
pub fn selection_of(
    q: &leptos_router::params::ParamsMap,
) -> Option<(herald_core::domain::ContactFilter, Vec<i64>, bool)> {
    let all = q.get("all")?;
    let ids: Vec<i64> = q
        .get_all("id")
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.parse().ok())
        .collect();
    let filter = crate::api::contacts::contact_filter(
        q.get("q"),
        q.get("group"),
        q.get("status"),
        q.get("consent"),
    );
    Some((filter, ids, all == "1"))
}

pub(super) fn can_manage() -> bool {
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
pub(super) fn ContactTable(
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
            <div class="actions-bar">
                <button type="submit" name="all" value="0" formaction="/contacts/send">"Send now to the selected contacts…"</button>
                <button type="submit" name="all" value="1" formaction="/contacts/send">{format!("Send now to all {} matching…", format_count(total as i64))}</button>
                {manage.then(|| view! {
                    <button type="submit" name="all" value="0">"Start a campaign for the selected contacts"</button>
                    <button type="submit" name="all" value="1">{format!("Start a campaign for all {} matching", format_count(total as i64))}</button>
                })}
            </div>
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
