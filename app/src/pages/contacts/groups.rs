//! Groups: named sets of contacts.

use super::{ContactsNav, can_manage};
use crate::api::contacts::{CreateGroup, DeleteGroup, list_groups};
use crate::components::{ErrorNote, action_result, format_count};
use leptos::prelude::*;
use leptos_meta::Title;

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
