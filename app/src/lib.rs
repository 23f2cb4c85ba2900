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
use leptos_router::{Lazy, LazyRoute, SsrMode, path};

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
    // Says that the page is hydrated (browser tests wait for it): effects run once hydration,
    // lazy parts included, is done.
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "1");
        }
    });
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
                    // The campaign list is where everyone lands: in the bundle every page loads.
                    <Route path=path!("campaigns") ssr=SsrMode::Async view=pages::campaigns::CampaignListPage />
                    <Route path=path!("campaigns/new") ssr=SsrMode::Async view={Lazy::<Builder>::new()} />
                    <Route path=path!("campaigns/:id/edit") ssr=SsrMode::Async view={Lazy::<Builder>::new()} />
                    <Route path=path!("campaigns/:id") ssr=SsrMode::Async view={Lazy::<Campaign>::new()} />
                    <Route path=path!("templates") ssr=SsrMode::Async view={Lazy::<Templates>::new()} />
                    <Route path=path!("templates/new") ssr=SsrMode::Async view={Lazy::<TemplateEditor>::new()} />
                    <Route path=path!("templates/:id") ssr=SsrMode::Async view={Lazy::<TemplateEditor>::new()} />
                    <Route path=path!("contacts") ssr=SsrMode::Async view={Lazy::<Contacts>::new()} />
                    <Route path=path!("contacts/groups") ssr=SsrMode::Async view={Lazy::<Groups>::new()} />
                    <Route path=path!("contacts/segments") ssr=SsrMode::Async view={Lazy::<Segments>::new()} />
                    <Route path=path!("contacts/lists") ssr=SsrMode::Async view={Lazy::<Lists>::new()} />
                    <Route path=path!("contacts/lists/:id") ssr=SsrMode::Async view={Lazy::<List>::new()} />
                    <Route path=path!("contacts/import") ssr=SsrMode::Async view={Lazy::<Import>::new()} />
                    <Route path=path!("contacts/import/:id") ssr=SsrMode::Async view={Lazy::<ImportJob>::new()} />
                    <Route path=path!("contacts/send") ssr=SsrMode::Async view={Lazy::<SendNowContacts>::new()} />
                    <Route path=path!("messages") ssr=SsrMode::Async view={Lazy::<Messages>::new()} />
                    <Route path=path!("contacts/:id") ssr=SsrMode::Async view={Lazy::<Contact>::new()} />
                    <Route path=path!("actions") ssr=SsrMode::Async view={Lazy::<Actions>::new()} />
                    <Route path=path!("notifications") ssr=SsrMode::Async view={Lazy::<NotificationList>::new()} />
                    <Route path=path!("reports") ssr=SsrMode::Async view={Lazy::<Reports>::new()} />
                    <Route path=path!("settings") ssr=SsrMode::Async view={Lazy::<Settings>::new()} />
                    <Route path=path!("settings/system") ssr=SsrMode::Async view={Lazy::<System>::new()} />
                    <Route path=path!("settings/sending") ssr=SsrMode::Async view={Lazy::<SendingSettings>::new()} />
                    <Route path=path!("mailbox") ssr=SsrMode::Async view={Lazy::<Mailbox>::new()} />
                    <Route path=path!("mailbox/:id") ssr=SsrMode::Async view={Lazy::<MailboxOpened>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The pages of an area of the app (a campaign, templates, contacts, settings) are one part of
/// the browser bundle, fetched when a page of the area is first shown (on a server-rendered
/// page, after the main bundle and before it hydrates; `end2end/tests/hydration.spec.ts` loads a
/// page of every area first). The bundle every page loads
/// keeps only the shell, sign-in and what areas share. One part per area rather than per page:
/// pages of an area share most of their code, and fewer split points make fewer, larger chunks.
macro_rules! areas {
    ($($area:ident, $preload:ident ($pages:ident) { $($route:ident => $page:path;)+ })+) => {
        $(
            #[derive(Clone, Copy)]
            enum $pages {
                $($route,)+
            }

            /// The area's pages, in a part of the bundle of their own.
            #[lazy]
            fn $area(page: $pages) -> AnyView {
                match page {
                    $($pages::$route => $page().into_any(),)+
                }
            }

            $(
                pub struct $route;

                impl LazyRoute for $route {
                    fn data() -> Self {
                        $route
                    }

                    async fn view(_: Self) -> AnyView {
                        $area($pages::$route).await
                    }

                    // A navigation into the area keeps the current page until the area's part
                    // is here (as `#[lazy_route]` does). A server-rendered page needs no
                    // preloading: `hydrate_lazy` awaits each part before hydrating its page.
                    async fn preload() {
                        #[cfg(target_arch = "wasm32")]
                        $preload().await;
                    }
                }
            )+
        )+
    };
}

areas! {
    campaign_area, __preload_campaign_area (CampaignPages) {
        Campaign => pages::campaigns::CampaignPage;
        Builder => pages::builder::BuilderPage;
        Reports => pages::reports::ReportsPage;
    }
    templates_area, __preload_templates_area (TemplatePages) {
        Templates => pages::templates::TemplatesPage;
        TemplateEditor => pages::templates::TemplateEditorPage;
    }
    contacts_area, __preload_contacts_area (ContactPages) {
        Contacts => pages::contacts::ContactsPage;
        Contact => pages::contacts::ContactDetailPage;
        Groups => pages::contacts::GroupsPage;
        Segments => pages::contacts::SegmentsPage;
        Lists => pages::contacts::ListsPage;
        List => pages::contacts::ListPage;
        Import => pages::contacts::ImportPage;
        ImportJob => pages::contacts::ImportJobPage;
        SendNowContacts => pages::contacts::SendNowPage;
        Messages => pages::contacts::MessagesPage;
    }
    actions_area, __preload_actions_area (ActionPages) {
        Actions => pages::actions::ActionsPage;
        NotificationList => pages::actions::NotificationsPage;
    }
    settings_area, __preload_settings_area (SettingsPages) {
        Settings => pages::settings::SettingsPage;
        System => pages::settings::SystemPage;
        SendingSettings => pages::settings::SendingPage;
        Mailbox => pages::mailbox::MailboxPage;
        MailboxOpened => pages::mailbox::MailboxMessagePage;
    }
}
