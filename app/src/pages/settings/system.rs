//! Settings → System (admins): the background job queue. How much work waits and since when,
//! per kind of job; what runs now and where; what failed, with its error and a retry button.

use crate::api::system::{RetryJob, sending_status, system_status};
use crate::components::{ErrorNote, action_result, format_count, format_time};
use herald_core::domain::system::{JobRow, QueueSummary, SendingStatus};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SystemPage() -> impl IntoView {
    let retry = ServerAction::<RetryJob>::new();
    let status = Resource::new(move || retry.version().get(), |_| system_status());
    let sending = Resource::new(|| (), |_| sending_status());
    view! {
        <Title text="System" />
        <p class="crumbs"><a href="/settings">"← Settings"</a></p>
        <h1>"System"</h1>
        <p class="muted">"Background work (imports, segment refreshes) runs on a job queue shared by every Herald instance. Failed jobs stay here until they are retried."</p>
        {move || action_result(retry.value().get(), |_| "Queued again: it runs within seconds.".into())}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match sending.await {
                    // Refused for the same reason as the queue, which says why below.
                    Err(_) => ().into_any(),
                    Ok(s) => view! { <Sending s /> }.into_any(),
                }
            })}
        </Transition>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(q) => view! { <Queue q retry /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Sending(s: SendingStatus) -> impl IntoView {
    let pace = format!(
        "{:.1} messages a second over the last minute",
        s.sent_last_minute as f64 / 60.0
    );
    view! {
        <section class="card" data-testid="sending">
            <h2>"Sending"</h2>
            <dl class="meta">
                <dt>"Email goes to"</dt><dd>{s.email_route}</dd>
                <dt>"Text messages go to"</dt><dd>{s.sms_route}</dd>
                <dt>"Rate limit"</dt><dd>{s.rate_limit.map_or_else(|| "none: the provider's pace".to_owned(), |r| format!("{r} messages a second (per instance)"))}</dd>
                <dt>"Now"</dt><dd data-testid="sending-pace">{pace}</dd>
                <dt>"Last hour"</dt><dd>{format_count(s.sent_last_hour as i64)}" sent"</dd>
                <dt>"Waiting"</dt><dd>{format_count(s.queued as i64)}" messages"</dd>
            </dl>
            {s.outages.into_iter().map(|(channel, since, error)| view! {
                <p class="note warning" role="status">{format!("The {channel} provider has not been taking messages since {}: {error}. Sending is paused and resumes by itself.", format_time(Some(since)))}</p>
            }).collect_view()}
        </section>
    }
}

#[component]
fn Queue(q: QueueSummary, retry: ServerAction<RetryJob>) -> impl IntoView {
    view! {
        <section class="card" data-testid="queue">
            <h2>"Queue"</h2>
            {if q.kinds.is_empty() {
                view! { <p>"Nothing waits, runs or failed."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table>
                            <thead><tr>
                                <th scope="col">"Kind"</th><th scope="col" class="num">"Waiting"</th><th scope="col" class="num">"Due now"</th>
                                <th scope="col">"Oldest waiting since"</th><th scope="col" class="num">"Running"</th><th scope="col" class="num">"Failed"</th>
                            </tr></thead>
                            <tbody>
                                {q.kinds.into_iter().map(|k| view! {
                                    <tr data-testid="queue-kind">
                                        <td><code>{k.kind}</code></td>
                                        <td class="num">{format_count(k.pending as i64)}</td>
                                        <td class="num">{format_count(k.due as i64)}</td>
                                        <td class="when">{format_time(k.oldest_pending_at)}</td>
                                        <td class="num">{format_count(k.running as i64)}</td>
                                        <td class="num">{format_count(k.failed as i64)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        <section class="card" data-testid="running-jobs">
            <h2>"Running"</h2>
            {if q.running.is_empty() {
                view! { <p class="muted">"Nothing runs right now."</p> }.into_any()
            } else {
                view! { <JobTable jobs=q.running retry=None /> }.into_any()
            }}
        </section>
        <section class="card" data-testid="failed-jobs">
            <h2>"Failed"</h2>
            {if q.failed.is_empty() {
                view! { <p class="muted">"No failed jobs."</p> }.into_any()
            } else {
                view! { <JobTable jobs=q.failed retry=Some(retry) /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn JobTable(jobs: Vec<JobRow>, retry: Option<ServerAction<RetryJob>>) -> impl IntoView {
    let failed = retry.is_some();
    view! {
        <div class="table-scroll">
            <table>
                <thead><tr>
                    <th scope="col">"Job"</th><th scope="col">"Kind"</th><th scope="col">"Of"</th><th scope="col" class="num">"Attempts"</th>
                    {if failed {
                        view! { <th scope="col">"Failed at"</th><th scope="col">"Error"</th><th></th> }.into_any()
                    } else {
                        view! { <th scope="col">"Started"</th><th scope="col">"On"</th> }.into_any()
                    }}
                </tr></thead>
                <tbody>
                    {jobs.into_iter().map(|j| {
                        let id = j.id.to_string();
                        view! {
                            <tr data-testid="job">
                                <td>{format!("#{}", j.id)}</td>
                                <td><code>{j.kind}</code></td>
                                <td>{j.subject}</td>
                                <td class="num">{format!("{} of {}", j.attempts, j.max_attempts)}</td>
                                {match retry {
                                    Some(retry) => view! {
                                        <td class="when">{format_time(j.failed_at)}</td>
                                        <td class="error-text">{j.last_error.unwrap_or_default()}</td>
                                        <td>{if j.retryable {
                                            view! {
                                                <ActionForm action=retry attr:class="inline">
                                                    <input type="hidden" name="id" value=id />
                                                    <button type="submit" class="small">"Retry"</button>
                                                </ActionForm>
                                            }.into_any()
                                        } else {
                                            view! { <span class="muted">"The instance's own: "<code>{format!("herald jobs retry {}", j.id)}</code></span> }.into_any()
                                        }}</td>
                                    }.into_any(),
                                    None => view! {
                                        <td class="when">{format_time(j.started_at)}</td>
                                        <td>{j.lease_owner.unwrap_or_default()}</td>
                                    }.into_any(),
                                }}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
