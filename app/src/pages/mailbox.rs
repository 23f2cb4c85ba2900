//! The development mailbox (admins): what the instance "sent" while it sends into its own
//! mailbox, newest first, searchable, each message shown as the recipient's mail client would:
//! the HTML in a sandboxed frame (no scripts; links open in a new tab), the text part, and every
//! header.

use crate::api::messages::{mailbox_list, open_mailbox_message};
use crate::components::{ErrorNote, format_count, format_time};
use crate::pages::contacts::encode;
use herald_core::domain::mailbox::{MailboxMessage, MailboxPage, framed_html};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn MailboxPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1u64)
    };
    let list = Resource::new(
        move || (search(), page()),
        |(q, p)| mailbox_list(Some(q), Some(p)),
    );
    view! {
        <Title text="Mailbox" />
        <h1>"Mailbox"</h1>
        <p class="muted">"Herald's development mailbox: messages sent while it is the organisation's email provider land here instead of leaving the machine."</p>
        <form method="get" action="/mailbox" class="search" role="search">
            <label for="mailbox-search" class="visually-hidden">"Search the mailbox"</label>
            <input id="mailbox-search" type="search" name="q" placeholder="Recipient or subject" prop:value=search />
            <button type="submit">"Search"</button>
        </form>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(p) => view! { <MailboxTable p q=search() /> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MailboxTable(p: MailboxPage, q: String) -> impl IntoView {
    if p.total == 0 {
        let words = if q.is_empty() {
            "Nothing has been sent yet."
        } else {
            "No message matches this search."
        };
        return view! { <section class="empty" data-testid="mailbox-empty"><p>{words}</p></section> }.into_any();
    }
    let href = |page: u64| {
        if q.is_empty() {
            format!("/mailbox?page={page}")
        } else {
            format!("/mailbox?q={}&page={page}", encode(&q))
        }
    };
    let (prev, next) = (href(p.page.saturating_sub(1)), href(p.page + 1));
    view! {
        <p class="muted" data-testid="mailbox-total">{format!("{} messages · page {} of {}", format_count(p.total as i64), p.page, p.pages)}</p>
        <div class="table-wrap">
            <table data-testid="mailbox">
                <thead><tr>
                    <th scope="col">"Received"</th>
                    <th scope="col">"To"</th>
                    <th scope="col">"Subject"</th>
                    <th scope="col">"From"</th>
                    <th scope="col">"Campaign"</th>
                </tr></thead>
                <tbody>
                    {p.items.into_iter().map(|m| view! {
                        <tr>
                            <td class="when">{format_time(Some(m.received_at))}</td>
                            <td>{m.recipient}</td>
                            <td><a href=format!("/mailbox/{}", m.id)>{if m.subject.is_empty() { "(no subject)".to_owned() } else { m.subject }}</a></td>
                            <td>{m.sender}</td>
                            <td>{m.campaign_id.map(|c| view! { <a href=format!("/campaigns/{c}")>"Campaign"</a> })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(p.page > 1).then(|| view! { <a href=prev rel="prev">"← Newer"</a> })}
            {(p.page < p.pages).then(|| view! { <a href=next rel="next">"Older →"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
pub fn MailboxMessagePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let message = Resource::new(id, open_mailbox_message);
    view! {
        <p class="crumbs"><a href="/mailbox">"← Mailbox"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match message.await {
                    Ok(m) => view! { <Opened m /> }.into_any(),
                    Err(e) => view! { <Title text="Mailbox" /><ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Opened(m: MailboxMessage) -> impl IntoView {
    let subject = if m.item.subject.is_empty() {
        "(no subject)".to_owned()
    } else {
        m.item.subject.clone()
    };
    view! {
        <Title text=subject.clone() />
        <h1 data-testid="mail-subject">{subject}</h1>
        <dl class="facts">
            <dt>"From"</dt><dd>{m.item.sender.clone()}</dd>
            <dt>"To"</dt><dd data-testid="mail-to">{m.item.recipient.clone()}</dd>
            <dt>"Received"</dt><dd>{format_time(Some(m.item.received_at))}</dd>
            {m.item.campaign_id.map(|c| view! { <dt>"Campaign"</dt><dd><a href=format!("/campaigns/{c}")>"Open the campaign"</a></dd> })}
        </dl>
        {match m.html {
            Some(html) => view! {
                <section class="card" aria-label="HTML">
                    <h2>"HTML"</h2>
                    // No scripts, no same-origin access: only links, which open in a new tab.
                    <iframe class="mail-frame" title="The message as HTML" data-testid="mail-html"
                        sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc=framed_html(&html)></iframe>
                </section>
            }.into_any(),
            None => view! { <p class="muted">"This message has no HTML part."</p> }.into_any(),
        }}
        {m.text.map(|text| view! {
            <section class="card" aria-label="Text">
                <h2>"Text"</h2>
                <pre class="mail-text" data-testid="mail-text">{text}</pre>
            </section>
        })}
        <section class="card" aria-label="Headers">
            <h2>"Headers"</h2>
            <div class="table-wrap">
                <table data-testid="mail-headers" class="headers">
                    <tbody>
                        {m.headers.into_iter().map(|(name, value)| view! {
                            <tr><th scope="row">{name}</th><td>{value}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
