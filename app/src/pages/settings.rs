//! Account settings (password) and, for admins, the organisation's users.

use crate::api::auth::ChangePassword;
use crate::api::users::{
    AddUser, CreateApiKey, RemoveUser, RevokeApiKey, SetUserRole, list_api_keys, list_users,
};
use crate::components::{ErrorNote, action_result, format_time};
use herald_core::domain::{CurrentUser, Role};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let user = use_context::<CurrentUser>();
    let is_admin = user.as_ref().is_some_and(CurrentUser::is_admin);
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        {user.map(|u| view! {
            <section class="card">
                <h2>"Your account"</h2>
                <p>{u.name} " · " {u.email} " · " {u.role.label()} " at " {u.org_name}</p>
            </section>
        })}
        <PasswordForm />
        {is_admin.then(|| view! { <UsersSection /> <ApprovalSection /> <ApiKeysSection /> })}
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <section class="card">
            <h2>"Change password"</h2>
            <ActionForm action=change attr:class="narrow">
                <label for="current">"Current password"</label>
                <input id="current" type="password" name="current" autocomplete="current-password" required />
                <label for="new">"New password (at least 10 characters)"</label>
                <input id="new" type="password" name="new" autocomplete="new-password" minlength="10" required />
                <label for="confirm">"New password, again"</label>
                <input id="confirm" type="password" name="confirm" autocomplete="new-password" minlength="10" required />
                <button type="submit" class="primary">"Change password"</button>
            </ActionForm>
            {move || action_result(change.value().get(), |msg| msg)}
        </section>
    }
}

#[component]
fn UsersSection() -> impl IntoView {
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

#[component]
fn ApiKeysSection() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    view! {
        <section class="card" data-testid="api-keys">
            <h2>"API keys"</h2>
            <p class="muted">"Systems that feed Herald (a CRM, a course platform) use a key with the REST API: "
                <code>"Authorization: Bearer hk_…"</code>". The API is described at "<a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>"."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                        Ok(keys) if keys.is_empty() => view! { <p>"No keys yet."</p> }.into_any(),
                        Ok(keys) => view! {
                            <table>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th></th></tr></thead>
                                <tbody>
                                    {keys.into_iter().map(|k| view! {
                                        <tr>
                                            <td>{k.name.clone()}</td>
                                            <td><code>{format!("{}…", k.prefix)}</code></td>
                                            <td class="when">{format_time(Some(k.created_at))}</td>
                                            <td class="when">{format_time(k.last_used_at)}</td>
                                            <td>{match k.revoked_at {
                                                Some(t) => view! { <span class="muted">{format!("Revoked {}", format_time(Some(t)))}</span> }.into_any(),
                                                None => view! {
                                                    <ActionForm action=revoke attr:class="inline">
                                                        <input type="hidden" name="id" value=k.id.to_string() />
                                                        <button type="submit" class="link danger" aria-label=format!("Revoke key {}", k.name)>"Revoke"</button>
                                                    </ActionForm>
                                                }.into_any(),
                                            }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=create attr:class="narrow">
                <label for="key-name">"New key for"</label>
                <input id="key-name" name="name" placeholder="CRM sync" required maxlength="100" />
                <button type="submit">"Create key"</button>
            </ActionForm>
            {move || action_result(create.value().get(), |key| format!("Your new key (copy it now; it is not shown again): {key}"))}
        </section>
    }
}

/// Whether marketers' campaigns need an admin's approval before they can be activated.
#[component]
fn ApprovalSection() -> impl IntoView {
    use crate::api::builder::{SetRequireApproval, get_builder_options};
    let set = ServerAction::<SetRequireApproval>::new();
    let current = Resource::new(move || set.version().get(), |_| get_builder_options());
    view! {
        <section class="card">
            <h2>"Campaign approval"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match current.await {
                        Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                        Ok(o) => view! {
                            <ActionForm action=set attr:class="narrow">
                                <label class="inline">
                                    <input type="checkbox" name="on" checked=o.require_approval />
                                    " Marketers' campaigns need an admin's approval before they can be activated"
                                </label>
                                <button type="submit">"Save"</button>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || action_result(set.value().get(), |_| "Saved.".into())}
        </section>
    }
}
