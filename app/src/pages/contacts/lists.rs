//! Suppression and seed lists.

use super::ContactsNav;
use crate::api::contacts::AddToList;
use crate::api::contacts::{CreateList, DeleteList, RemoveFromList, list_entries, list_lists};
use crate::components::{ErrorNote, action_result, format_count, format_time};
use herald_core::domain::ListKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

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
                                        <td>{l.kind.label()}</td>
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
                    <option value=ListKind::Suppression.as_str()>"Suppression list"</option>
                    <option value=ListKind::Seed.as_str()>"Seed list"</option>
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
                        let seed = summary.kind == ListKind::Seed;
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
