//! Reports: the organisation's sending over the last 90 days by message type, engagement by
//! campaign, and email deliverability against the limits providers enforce (warned about before
//! they are reached).

use crate::api::campaigns::reports_overview;
use crate::components::{CountRate, ErrorNote, format_count};
use herald_core::domain::reports::{
    BOUNCE_LIMITS, ComplaintLine, Overview, Standing, Suppression, WeekVolume, bars,
};
use herald_core::domain::{DeliveryStats, Rate};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ReportsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| reports_overview());
    view! {
        <Title text="Reports" />
        <h1>"Reports"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading reports…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <OverviewView o /> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn standing_note(s: Standing, what: &str, (warn, over): (f64, f64)) -> (String, &'static str) {
    match s {
        Standing::Fine => (
            format!("Fine: providers start reviewing senders at {over} % {what}."),
            tone(s),
        ),
        Standing::Warning => (
            format!(
                "Getting close: at {over} % {what} providers review the account (Herald warns from {warn} %)."
            ),
            tone(s),
        ),
        Standing::Over => (
            format!(
                "Over the {over} % providers allow for {what}: sending may be paused. Clean the list before sending more."
            ),
            tone(s),
        ),
    }
}

fn tone(s: Standing) -> &'static str {
    match s {
        Standing::Fine => "good",
        Standing::Warning => "warning",
        Standing::Over => "bad",
    }
}

/// The complaint rate against one provider's line, in words.
fn line_note(l: &ComplaintLine, s: Standing) -> String {
    let verdict = match s {
        Standing::Fine => "Within it.".to_owned(),
        Standing::Warning => format!(
            "Over it: get back under {} % before reaching {} %.",
            l.keep_under, l.limit
        ),
        Standing::Over => format!("At the limit: {}.", l.at_limit),
    };
    format!(
        "{}: keep under {} %, never reach {} %. {verdict}",
        l.who, l.keep_under, l.limit
    )
}

/// A duration in seconds, in words.
fn seconds_in_words(s: i64) -> String {
    match s {
        0 => "at once (under a second)".to_owned(),
        1..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

/// How quickly unsubscribes took effect, against Gmail's and Yahoo's two days.
fn suppression_note(s: &Suppression) -> (String, &'static str) {
    let Some(longest) = s.longest_seconds else {
        return ("Nobody unsubscribed. Gmail and Yahoo require unsubscribes to take effect within 2 days; Herald's take effect in the request.".to_owned(), "good");
    };
    let after = match s.sent_after {
        0 => "no message of the kind they left reached them afterwards".to_owned(),
        1 => "1 message of the kind they left reached someone afterwards".to_owned(),
        n => format!(
            "{} messages of the kind they left reached them afterwards",
            format_count(n)
        ),
    };
    let late = longest > 2 * 24 * 3600;
    let took = if longest == i64::MAX {
        "some have not taken effect".to_owned()
    } else {
        format!("the slowest took effect {}", seconds_in_words(longest))
    };
    let tone = if late || s.sent_after > 0 {
        "bad"
    } else {
        "good"
    };
    (
        format!("Suppressed: {took}, and {after} (Gmail and Yahoo allow 2 days)."),
        tone,
    )
}

#[component]
fn OverviewView(o: Overview) -> impl IntoView {
    let e = o.email;
    let hard = Rate {
        part: e.bounced - e.soft_bounced,
        whole: e.sent,
    };
    let (bounce_note, bounce_tone) = standing_note(o.bounce, "hard bounces", BOUNCE_LIMITS);
    let complaint_tone = tone(
        o.complaint
            .iter()
            .map(|(_, s)| *s)
            .max()
            .unwrap_or(Standing::Fine),
    );
    let (unsubscribe_note, unsubscribe_tone) = suppression_note(&o.suppression);
    view! {
        <section class="card" aria-labelledby="deliverability-title" data-testid="deliverability">
            <h2 id="deliverability-title">"Email deliverability, last 90 days"</h2>
            <div class="cards">
                <div class="card metric">
                    <span class="label">"Sent"</span>
                    <span class="value">{format_count(e.sent)}</span>
                    <span class="note">{format!("{} delivered", format_count(e.delivered))}</span>
                </div>
                <div class=format!("card metric tone-{bounce_tone}") data-testid="bounce-rate">
                    <span class="label">"Hard bounce rate"</span>
                    <span class="value">{hard.display()}</span>
                    <span class="note">{bounce_note}</span>
                </div>
                <div class=format!("card metric tone-{complaint_tone}") data-testid="complaint-rate">
                    <span class="label">"Complaint rate"</span>
                    <span class="value">{e.complaint_rate().display()}</span>
                    <ul class="plain note">
                        {o.complaint.into_iter().map(|(l, s)| view! { <li data-testid="complaint-line">{line_note(&l, s)}</li> }).collect_view()}
                    </ul>
                    <span class="note muted">"Counted from the complaints providers report to Herald (SES's feedback loops). Gmail shows its own rate, per Feedback-ID, in Postmaster Tools."</span>
                </div>
                <div class=format!("card metric tone-{unsubscribe_tone}") data-testid="unsubscribes">
                    <span class="label">"Unsubscribes"</span>
                    <span class="value">{format_count(o.suppression.unsubscribes)}</span>
                    <span class="note">{unsubscribe_note}</span>
                </div>
            </div>
        </section>
        <section class="card" aria-labelledby="volume-title">
            <h2 id="volume-title">"Messages sent per week"</h2>
            {if o.weeks.iter().all(|w| w.total() == 0) {
                view! { <p class="muted">"Nothing sent in the last 90 days."</p> }.into_any()
            } else {
                view! { <Weeks weeks=o.weeks /> }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="engagement-title">
            <h2 id="engagement-title">"Engagement by campaign"</h2>
            {if o.campaigns.is_empty() {
                view! { <p class="muted">"No campaign sent in the last 90 days."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table data-testid="engagement">
                            <thead><tr>
                                <th scope="col">"Campaign"</th>
                                <th scope="col">"Type"</th>
                                <th scope="col" class="num">"Sent"</th>
                                <th scope="col" class="num">"Bounced"</th>
                                <th scope="col" class="num">"Opened"</th>
                                <th scope="col" class="num">"By people"</th>
                                <th scope="col" class="num">"Clicked"</th>
                            </tr></thead>
                            <tbody>
                                {o.campaigns.into_iter().map(|c| { let s: DeliveryStats = c.stats; view! {
                                    <tr>
                                        <td class="name"><a href=format!("/campaigns/{}", c.id)>{c.name}</a></td>
                                        <td><span class=format!("badge type-{}", c.message_type.as_str())>{c.message_type.label()}</span></td>
                                        <td class="num">{format_count(s.sent)}</td>
                                        <td class="num"><CountRate count=s.bounced rate=s.bounce_rate() /></td>
                                        <td class="num"><CountRate count=s.opened rate=s.open_rate() /></td>
                                        <td class="num"><CountRate count=s.human_opened rate=s.human_open_rate() /></td>
                                        <td class="num"><CountRate count=s.clicked rate=s.click_rate() /></td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// Weeks as rows, message types as columns, with a bar of the week's total (drawn as SVG).
#[component]
fn Weeks(weeks: Vec<WeekVolume>) -> impl IntoView {
    let totals: Vec<i64> = weeks.iter().map(WeekVolume::total).collect();
    let widths = bars(&totals, 200);
    view! {
        <div class="table-wrap">
            <table data-testid="weeks">
                <thead><tr>
                    <th scope="col">"Week of"</th>
                    <th scope="col" class="num">"Operational"</th>
                    <th scope="col" class="num">"Marketing"</th>
                    <th scope="col" class="num">"Newsletter"</th>
                    <th scope="col">"Total"</th>
                </tr></thead>
                <tbody>
                    {weeks.into_iter().zip(widths).zip(totals).map(|((w, width), total)| view! {
                        <tr>
                            <td class="when">{w.week.to_string()}</td>
                            <td class="num">{format_count(w.operational)}</td>
                            <td class="num">{format_count(w.marketing)}</td>
                            <td class="num">{format_count(w.newsletter)}</td>
                            <td>
                                <svg width="204" height="12" role="img" aria-label=format!("{} messages", format_count(total))>
                                    <rect class="bar-open" x="0" y="1" height="10" width=width.to_string() />
                                </svg>
                                " "{format_count(total)}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
