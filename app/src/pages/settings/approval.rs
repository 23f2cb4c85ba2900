//! How the organisation's campaigns run: whether marketers' campaigns need an admin's approval,
//! and the time zone recurring campaigns keep.

use crate::components::{ErrorNote, action_result};
use leptos::prelude::*;
/// Whether marketers' campaigns need an admin's approval before they can be activated.
#[component]
pub fn ApprovalSection() -> impl IntoView {
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

/// The organisation's time zone.
#[component]
pub fn TimeZoneSection() -> impl IntoView {
    use crate::api::builder::{SetTimeZone, get_builder_options};
    let set = ServerAction::<SetTimeZone>::new();
    let current = Resource::new(move || set.version().get(), |_| get_builder_options());
    view! {
        <section class="card">
            <h2>"Time zone"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match current.await {
                        Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                        Ok(o) => view! {
                            <ActionForm action=set attr:class="narrow">
                                <label>"Organisation time zone"
                                    <input type="text" name="time_zone" value=o.time_zone required placeholder="Europe/Berlin" />
                                </label>
                                <p class="muted">"Recurring campaigns send at their time of day in this zone, through daylight-saving changes."</p>
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
