//! Saved segments.

use super::ContactsNav;
use crate::api::contacts::{DeleteSegment, list_segments};
use crate::components::{ErrorNote, format_count, format_time};
use leptos::prelude::*;
use leptos_meta::Title;

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
