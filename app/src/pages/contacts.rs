//! The contact list: search and pages through query parameters, so links and the search form
//! work with and without JavaScript.

use crate::api::contacts::list_contacts;
use crate::components::{ErrorNote, format_count, format_time};
use herald_core::domain::ContactPage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Percent-encodes a query parameter value.
fn encode(value: &str) -> String {
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

fn page_href(search: &str, page: u64) -> String {
    match search.is_empty() {
        true => format!("/contacts?page={page}"),
        false => format!("/contacts?q={}&page={page}", encode(search)),
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let contacts = Resource::new(
        move || (search(), page()),
        |(q, p)| list_contacts(Some(q), Some(p)),
    );
    view! {
        <Title text="Contacts" />
        <div class="page-head">
            <h1>"Contacts"</h1>
        </div>
        <form method="get" action="/contacts" class="search" role="search">
            <label for="contact-search" class="visually-hidden">"Search contacts"</label>
            <input id="contact-search" type="search" name="q" placeholder="Name or email address" prop:value=search />
            <button type="submit">"Search"</button>
        </form>
        <Transition fallback=|| view! { <p class="loading">"Loading contacts…"</p> }>
            {move || Suspend::new(async move {
                match contacts.await {
                    Ok(page) => view! { <ContactTable page search=search() /> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ContactTable(page: ContactPage, search: String) -> impl IntoView {
    if page.total == 0 {
        let message = if search.is_empty() {
            "No contacts yet.".to_owned()
        } else {
            format!("No contacts match “{search}”.")
        };
        return view! { <section class="empty" data-testid="contacts-empty"><p>{message}</p></section> }.into_any();
    }
    let (current, pages) = (page.page, page.pages);
    view! {
        <p class="muted" data-testid="contact-total">
            {format!("{} contacts · page {current} of {pages}", format_count(page.total as i64))}
        </p>
        <div class="table-wrap">
            <table data-testid="contact-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Language"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Consent"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.rows.into_iter().map(|c| view! {
                        <tr>
                            <td>{c.name}</td>
                            <td>{c.email.unwrap_or_else(|| "–".into())}</td>
                            <td>{c.language}</td>
                            <td>{if c.active { "Active" } else { "Inactive" }}</td>
                            <td>
                                {c.marketing_consent.then(|| view! { <span class="badge type-marketing">"Marketing"</span> " " })}
                                {c.newsletter_consent.then(|| view! { <span class="badge type-newsletter">"Newsletter"</span> })}
                            </td>
                            <td class="when">{format_time(Some(c.created_at))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(current > 1).then(|| view! { <a href=page_href(&search, current - 1) rel="prev">"← Previous"</a> })}
            {(current < pages).then(|| view! { <a href=page_href(&search, current + 1) rel="next">"Next →"</a> })}
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_links_encode_the_search() {
        assert_eq!(super::page_href("", 2), "/contacts?page=2");
        assert_eq!(
            super::page_href("ana olsen", 3),
            "/contacts?q=ana+olsen&page=3"
        );
        assert_eq!(super::page_href("a&b=c", 1), "/contacts?q=a%26b%3Dc&page=1");
        assert_eq!(super::page_href("é", 1), "/contacts?q=%C3%A9&page=1");
    }
}
