//! REST API keys (admins).

use crate::api::users::{CreateApiKey, RevokeApiKey, list_api_keys};
use crate::components::{ErrorNote, action_result, format_time};
use leptos::prelude::*;
#[component]
pub fn ApiKeysSection() -> impl IntoView {
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
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"May"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th></th></tr></thead>
                                <tbody>
                                    {keys.into_iter().map(|k| view! {
                                        <tr>
                                            <td>{k.name.clone()}</td>
                                            <td><code>{format!("{}…", k.prefix)}</code></td>
                                            <td data-testid="key-scopes">{k.scopes.0.iter().map(|s| s.label()).collect::<Vec<_>>().join(", ")}</td>
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
                <fieldset class="scopes">
                    <legend>"It may"</legend>
                    <label class="inline"><input type="checkbox" name="read" checked />" read contacts, segments, campaigns and templates"</label>
                    <label class="inline"><input type="checkbox" name="write" checked />" create and change contacts, records, events, segments, templates and campaigns"</label>
                    <label class="inline"><input type="checkbox" name="send" checked />" activate campaigns"</label>
                </fieldset>
                <button type="submit">"Create key"</button>
            </ActionForm>
            {move || action_result(create.value().get(), |key| format!("Your new key (copy it now; it is not shown again): {key}"))}
        </section>
    }
}
