//! The signed-in user's password.

use crate::api::auth::ChangePassword;
use crate::components::action_result;
use leptos::prelude::*;
#[component]
pub fn PasswordForm() -> impl IntoView {
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
