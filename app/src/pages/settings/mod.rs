//! Settings: the account (password) for everyone; for admins, the organisation's users,
//! API keys and campaign approval, and the System page ([`system`]).

mod account;
mod api_keys;
mod approval;
mod sending;
mod system;
mod users;

pub use sending::SendingPage;
pub use system::SystemPage;

use account::PasswordForm;
use api_keys::ApiKeysSection;
use approval::{ApprovalSection, TimeZoneSection};
use users::UsersSection;

use herald_core::domain::CurrentUser;
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
        {is_admin.then(|| view! {
            <UsersSection />
            <ApprovalSection />
            <TimeZoneSection />
            <ApiKeysSection />
            <section class="card">
                <h2>"Sending"</h2>
                <p>"Providers, sender identities and sending domains. " <a href="/settings/sending">"Open Sending"</a></p>
            </section>
            <section class="card">
                <h2>"System"</h2>
                <p>"The background job queue: what waits, runs and failed. " <a href="/settings/system">"Open System"</a></p>
            </section>
        })}
    }
}
