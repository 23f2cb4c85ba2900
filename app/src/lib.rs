#![recursion_limit = "256"]
//! Herald's user interface: routes, pages and components, shared by server-side rendering (the
//! `ssr` feature) and the browser (`hydrate`). Server functions live in [`api`] and stay thin:
//! the rules are in `herald_core`.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.png" type="image/png" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="herald" href="/pkg/herald.css" />
        <Title formatter=|text: String| if text.is_empty() { "Herald".to_owned() } else { format!("{text} · Herald") } />
        // Every page is rendered whole on the server (SsrMode::Async) so that it reads without
        // JavaScript and can answer with the right status (302 to sign in, 404).
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/login") ssr=SsrMode::Async view=pages::LoginPage />
                <ParentRoute path=path!("") ssr=SsrMode::Async view=pages::AppShell>
                    <Route path=path!("") ssr=SsrMode::Async view=|| view! { <Redirect path="/campaigns" /> } />
                    <Route path=path!("campaigns") ssr=SsrMode::Async view=pages::campaigns::CampaignListPage />
                    <Route path=path!("campaigns/new") ssr=SsrMode::Async view=pages::builder::BuilderPage />
                    <Route path=path!("campaigns/:id/edit") ssr=SsrMode::Async view=pages::builder::BuilderPage />
                    <Route path=path!("campaigns/:id") ssr=SsrMode::Async view=pages::campaigns::CampaignPage />
                    <Route path=path!("templates") ssr=SsrMode::Async view=pages::templates::TemplatesPage />
                    <Route path=path!("templates/new") ssr=SsrMode::Async view=pages::templates::TemplateEditorPage />
                    <Route path=path!("templates/:id") ssr=SsrMode::Async view=pages::templates::TemplateEditorPage />
                    <Route path=path!("contacts") ssr=SsrMode::Async view=pages::contacts::ContactsPage />
                    <Route path=path!("contacts/groups") ssr=SsrMode::Async view=pages::contacts::GroupsPage />
                    <Route path=path!("contacts/segments") ssr=SsrMode::Async view=pages::contacts::SegmentsPage />
                    <Route path=path!("contacts/lists") ssr=SsrMode::Async view=pages::contacts::ListsPage />
                    <Route path=path!("contacts/lists/:id") ssr=SsrMode::Async view=pages::contacts::ListPage />
                    <Route path=path!("contacts/import") ssr=SsrMode::Async view=pages::contacts::ImportPage />
                    <Route path=path!("contacts/import/:id") ssr=SsrMode::Async view=pages::contacts::ImportJobPage />
                    <Route path=path!("contacts/:id") ssr=SsrMode::Async view=pages::contacts::ContactDetailPage />
                    <Route path=path!("actions") ssr=SsrMode::Async view=pages::ActionsPage />
                    <Route path=path!("reports") ssr=SsrMode::Async view=pages::ReportsPage />
                    <Route path=path!("settings") ssr=SsrMode::Async view=pages::settings::SettingsPage />
                    <Route path=path!("settings/system") ssr=SsrMode::Async view=pages::settings::SystemPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
