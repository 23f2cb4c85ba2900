//! The organisation's users (admins).

use crate::api::users::{AddUser, RemoveUser, SetUserRole, list_users};
use crate::components::{ErrorNote, action_result, format_time};
use herald_core::domain::{CurrentUser, Role};
use leptos::prelude::*;
#[component]
pub fn UsersSection() -> impl IntoView {
    let me = use_context::<CurrentUser>().map(|u| u.user_id);
    let add = ServerAction::<AddUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let users = Resource::new(
        move || {
            (
                add.version().get(),
                set_role.version().get(),
                remove.version().get(),
            )
        },
        |_| list_users(),
    );
    let role_options = move |selected: Role| {
        Role::ALL
            .iter()
            .map(
                |r| view! { <option value=r.as_str() selected=*r == selected>{r.label()}</option> },
            )
            .collect_view()
    };
    view! {
        <section class="card" data-testid="users">
            <h2>"Users"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                        Ok(users) => view! {
                            <table>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Last sign-in"</th><th></th></tr></thead>
                                <tbody>
                                    {users.into_iter().map(|u| {
                                        let role_label = format!("Role of {}", u.email);
                                        let remove_label = format!("Remove {}", u.email);
                                        view! {
                                        <tr>
                                            <td>{u.name.clone()}</td>
                                            <td>{u.email.clone()}</td>
                                            <td>
                                                <ActionForm action=set_role>
                                                    <input type="hidden" name="user_id" value=u.id />
                                                    <select name="role" aria-label=role_label>{role_options(u.role)}</select>
                                                    <button type="submit" class="small">"Save"</button>
                                                </ActionForm>
                                            </td>
                                            <td>{format_time(u.last_login_at)}</td>
                                            <td>
                                                {(Some(u.id) != me).then(|| view! {
                                                    <ActionForm action=remove>
                                                        <input type="hidden" name="user_id" value=u.id />
                                                        <button type="submit" class="small danger" aria-label=remove_label>"Remove"</button>
                                                    </ActionForm>
                                                })}
                                            </td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || action_result(set_role.value().get(), |_| "Role saved.".into())}
            {move || action_result(remove.value().get(), |_| "User removed.".into())}
            <h3>"Add a user"</h3>
            <ActionForm action=add>
                <div class="row">
                    <div>
                        <label for="new-email">"Email address"</label>
                        <input id="new-email" type="email" name="email" required />
                    </div>
                    <div>
                        <label for="new-name">"Name"</label>
                        <input id="new-name" type="text" name="name" />
                    </div>
                    <div>
                        <label for="new-role">"Role"</label>
                        <select id="new-role" name="role">{role_options(Role::Marketer)}</select>
                    </div>
                    <div>
                        <label for="new-password">"Password (empty: generate one)"</label>
                        <input id="new-password" type="password" name="password" autocomplete="new-password" />
                    </div>
                </div>
                <button type="submit" class="primary">"Add user"</button>
            </ActionForm>
            {move || action_result(add.value().get(), |generated| match generated {
                Some(password) => format!("User added. Their password, shown only this once: {password}"),
                None => "User added.".into(),
            })}
        </section>
    }
}
