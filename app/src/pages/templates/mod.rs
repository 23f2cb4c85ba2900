//! Templates: the list, and the editor with its tag inserter, live check and live preview.

mod editor;

pub use editor::TemplateEditorPage;

use crate::api::templates::list_templates;
use crate::components::{ErrorNote, format_time};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let templates = Resource::new(|| (), |_| list_templates());
    view! {
        <Title text="Templates" />
        <div class="page-head">
            <h1>"Templates"</h1>
            <span class="spacer"></span>
            <a class="button primary" href="/templates/new">"New template"</a>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading templates…"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <section class="empty"><p>"No templates yet. Campaigns send a template: " <a href="/templates/new">"write the first one"</a>"."</p></section>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table data-testid="template-table">
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col">"Languages"</th>
                                    <th scope="col" class="num">"Version"</th><th scope="col">"Updated"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! {
                                        <tr>
                                            <td>
                                                {if t.is_system {
                                                    view! { {t.name.clone()} " " <span class="badge" title="Herald's own mail: not pickable by campaigns">"System"</span> }.into_any()
                                                } else {
                                                    view! { <a href=format!("/templates/{}", t.id)>{t.name.clone()}</a> }.into_any()
                                                }}
                                            </td>
                                            <td>{t.kind.clone()}</td>
                                            <td>{t.languages.join(", ")}</td>
                                            <td class="num">{t.version}</td>
                                            <td class="when">{format_time(Some(t.updated_at))}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
