//! CSV imports: upload, mapping with a preview, progress and the error report.

use super::ContactsNav;
use crate::api::contacts::{get_import, recent_imports};
use crate::components::{ErrorNote, format_count, format_time};
use herald_core::domain::ImportState;
use herald_core::domain::ingest::UploadProblem;
use herald_core::domain::ingest::{ColumnTarget, ImportStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || problem(&query.read());
    let recent = Resource::new(|| (), |_| recent_imports());
    view! {
        <Title text="Import contacts" />
        <h1>"Contacts"</h1>
        <ContactsNav current="import" />
        <section class="card">
            <h2>"Import contacts from a CSV file"</h2>
            <p class="muted">"The first line names the columns. Contacts are merged by email address: importing the same file again changes nothing. Save spreadsheets as “CSV UTF-8”; at most 20 MB."</p>
            {move || error().map(|e| view! { <p class="error" role="alert" data-testid="upload-error">{e}</p> })}
            <form method="post" action="/contacts/import/upload" enctype="multipart/form-data" class="narrow">
                <label for="csv-file">"CSV file"</label>
                <input id="csv-file" type="file" name="file" accept=".csv,text/csv" required />
                <button type="submit" class="primary">"Upload and map columns"</button>
            </form>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match recent.await {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section class="card">
                            <h2>"Recent imports"</h2>
                            <table>
                                <thead><tr><th scope="col">"File"</th><th scope="col">"Status"</th><th scope="col">"Rows"</th><th scope="col">"Refused"</th><th scope="col">"Uploaded"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|j| view! {
                                        <tr>
                                            <td><a href=format!("/contacts/import/{}", j.id)>{j.filename.clone()}</a></td>
                                            <td>{j.status.label()}</td>
                                            <td>{format_count(j.total_rows)}</td>
                                            <td>{format_count(j.error_rows)}</td>
                                            <td class="when">{format_time(Some(j.created_at))}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn ImportJobPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let error = move || problem(&query.read());
    let tick = RwSignal::new(0u32);
    let job = Resource::new(move || (id(), tick.get()), |(id, _)| get_import(id));
    // While the import runs, ask for its progress every second (in the browser only).
    Effect::new(move |_| {
        if let Some(Ok(status)) = job.get()
            && !status.finished()
            && status.status != ImportState::Uploaded
        {
            set_timeout(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_millis(1000),
            );
        }
    });
    view! {
        <p class="crumbs"><a href="/contacts/import">"← Import"</a></p>
        {move || error().map(|e| view! { <p class="error" role="alert" data-testid="import-error">{e}</p> })}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match job.await {
                    Err(e) => view! { <Title text="Import" /><ErrorNote error=e /> }.into_any(),
                    Ok(s) if s.status == ImportState::Uploaded => view! { <Mapping s /> }.into_any(),
                    Ok(s) => view! { <Progress s /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The words for the problem a form's redirect names (`?error=code`); unknown codes get a
/// general sentence, never the link's own text.
fn problem(query: &leptos_router::params::ParamsMap) -> Option<String> {
    let code = query.get("error")?;
    let number = |name: &str| query.get(name).and_then(|v| v.parse().ok()).unwrap_or(0);
    Some(match UploadProblem::from_query(&code, number) {
        Some(p) => p.message(&[]),
        None => "The form could not be handled; try again.".into(),
    })
}

#[component]
pub(super) fn Mapping(s: ImportStatus) -> impl IntoView {
    let action = format!("/contacts/import/{}/start", s.id);
    let options = move |selected: &ColumnTarget| {
        let mut targets = ColumnTarget::FIXED.to_vec();
        if let ColumnTarget::Attribute(_) = selected {
            targets.push(selected.clone());
        }
        targets
            .into_iter()
            .map(|t| {
                let is = t == *selected;
                view! { <option value=t.to_form() selected=is>{t.label()}</option> }
            })
            .collect_view()
    };
    view! {
        <Title text=format!("Map columns · {}", s.filename) />
        <h1>"Map the columns of " {s.filename.clone()}</h1>
        <p class="muted">"Choose what each column holds. One column must hold the email address. Columns that are not known fields become custom attributes."</p>
        <form method="post" action=action data-testid="mapping">
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>{s.columns.iter().map(|(h, _)| view! { <th scope="col">{h.clone()}</th> }).collect_view()}</tr>
                        <tr>{s.columns.iter().enumerate().map(|(i, (h, t))| view! {
                            <td>
                                <label for=format!("col{i}") class="visually-hidden">{format!("Column {h}")}</label>
                                <select id=format!("col{i}") name=format!("col{i}")>{options(t)}</select>
                            </td>
                        }).collect_view()}</tr>
                    </thead>
                    <tbody data-testid="preview">
                        {s.preview.iter().map(|row| view! {
                            <tr>{row.iter().map(|v| view! { <td>{v.clone()}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <button type="submit" class="primary">"Import"</button>
        </form>
    }
}

#[component]
pub(super) fn Progress(s: ImportStatus) -> impl IntoView {
    let percent = s.percent();
    let finished = s.finished();
    let errors_href = format!("/contacts/import/{}/errors.csv", s.id);
    view! {
        <Title text=format!("Import · {}", s.filename) />
        <h1>"Import of " {s.filename.clone()}</h1>
        <p data-testid="import-status">{s.status.label()}</p>
        <progress max="100" value=percent.to_string() aria-label="Import progress">{format!("{percent}%")}</progress>
        <p class="muted">{format!("{} of {} rows", format_count(s.processed_rows), format_count(s.total_rows))}</p>
        {(!s.finished()).then(|| view! { <p><a href=format!("/contacts/import/{}", s.id)>"Refresh"</a></p> })}
        {s.failure.clone().map(|f| view! { <p class="error" role="alert">{f}</p> })}
        <dl class="facts" data-testid="import-counts">
            <dt>"New contacts"</dt><dd data-testid="created">{format_count(s.created_rows)}</dd>
            <dt>"Updated"</dt><dd data-testid="updated">{format_count(s.updated_rows)}</dd>
            <dt>"Unchanged"</dt><dd data-testid="unchanged">{format_count(s.unchanged_rows)}</dd>
            <dt>"Refused rows"</dt><dd data-testid="refused">{format_count(s.error_rows)}</dd>
        </dl>
        {(!s.errors.is_empty()).then(|| view! {
            <section class="card">
                <h2>"Refused rows"</h2>
                <p class="muted">"These rows were not imported; correct them and import them again. " <a href=errors_href>"Download all as CSV"</a></p>
                <table data-testid="import-errors">
                    <thead><tr><th scope="col">"Line"</th><th scope="col">"Column"</th><th scope="col">"Value"</th><th scope="col">"Problem"</th></tr></thead>
                    <tbody>
                        {s.errors.into_iter().map(|e| view! {
                            <tr><td>{e.line}</td><td>{e.column}</td><td>{e.value}</td><td>{e.reason}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
        {finished.then(|| view! { <p><a href="/contacts">"Go to the contacts"</a></p> })}
    }
}
