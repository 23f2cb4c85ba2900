//! One module per area of the app. Pages fetch through server functions in `crate::api`.

pub mod actions;
pub mod builder;
pub mod campaigns;
pub mod contacts;
pub mod mailbox;
pub mod reports;
pub mod settings;
pub mod templates;

use crate::api::auth::{Login, Logout, me};
use crate::components::ErrorNote;
use herald_core::domain::CurrentUser;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet, Redirect};

/// The signed-in part of the app: navigation around the current page. Signed-out visitors are
/// sent to the sign-in page (a 302 when rendered on the server).
#[component]
pub fn AppShell() -> impl IntoView {
    let me = Resource::new_blocking(|| (), |_| me());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(user)) => view! { <Layout user /> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(e) => view! { <main class="page"><ErrorNote error=e /></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Layout(user: CurrentUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let name = user.name.clone();
    let org = user.org_name.clone();
    // Unread notifications for the bell; the development mailbox is offered while it is where
    // the organisation's email goes.
    let shell = Resource::new(|| (), |_| crate::api::messages::shell_status());
    provide_context(user);
    view! {
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/campaigns">"Herald"</a>
                <span class="org">{org}</span>
                <nav aria-label="Main">
                    <A href="/campaigns">"Campaigns"</A>
                    <A href="/templates">"Templates"</A>
                    <A href="/contacts">"Contacts"</A>
                    <A href="/messages">"Messages"</A>
                    <A href="/actions">"Actions"</A>
                    <A href="/reports">"Reports"</A>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            shell.await.is_ok_and(|s| s.mailbox).then(|| view! { <A href="/mailbox">"Mailbox"</A> })
                        })}
                    </Transition>
                    <A href="/settings">"Settings"</A>
                </nav>
                <Bell shell />
                <div class="account">
                    <span class="who" data-testid="current-user">{name}</span>
                    <ActionForm action=logout>
                        <button type="submit" class="link">"Sign out"</button>
                    </ActionForm>
                </div>
            </header>
            <main class="page">
                <Outlet />
            </main>
        </div>
    }
}

/// The bell: unread notifications, linking to the list.
#[component]
fn Bell(
    shell: Resource<Result<crate::api::messages::ShellInfo, crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <a class="bell" href="/notifications" data-testid="bell">
            // Drawn, not an emoji: systems without an emoji font showed a box.
            <svg class="icon" aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/>
                <path d="M13.73 21a2 2 0 0 1-3.46 0"/>
            </svg>
            <Transition fallback=|| view! { <span class="visually-hidden">"Notifications"</span> }>
                {move || Suspend::new(async move {
                    let unread = shell.await.map(|s| s.unread).unwrap_or(0);
                    let words = match unread {
                        0 => "Notifications, none unread".to_owned(),
                        1 => "Notifications, 1 unread".to_owned(),
                        n => format!("Notifications, {n} unread"),
                    };
                    view! {
                        <span class="visually-hidden">{words}</span>
                        {(unread > 0).then(|| view! { <span class="count" aria-hidden="true" data-testid="unread">{unread}</span> })}
                    }
                })}
            </Transition>
        </a>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    view! {
        <Title text="Sign in" />
        <main class="login">
            <div class="card">
                <h1>"Herald"</h1>
                <p class="muted">"Sign in to your organisation."</p>
                <ActionForm action=login>
                    <label for="email">"Email address"</label>
                    <input id="email" type="email" name="email" autocomplete="username" required autofocus />
                    <label for="password">"Password"</label>
                    <input id="password" type="password" name="password" autocomplete="current-password" required />
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
                {move || login.value().get().and_then(Result::err).map(|e| view! { <ErrorNote error=e /> })}
            </div>
        </main>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/campaigns">"Go to the campaigns"</a>"."</p>
        </main>
    }
}
