//! Settings → Sending (admins): the provider the organisation's email and text messages go
//! through, with a "send a test" that reports the provider's answer in words; sender identities
//! (a campaign picks one; replies go to its address); sending domains with their generated DKIM
//! key, the DNS record to publish and, checked when asked, whether the domain's SPF, DKIM and
//! DMARC records meet the mailbox providers' sender rules; the rate limit and what each provider answered last.
//! Secrets are given once, sealed, and never shown again. Plain forms: it works without
//! JavaScript.

use crate::api::system::{
    AddSenderIdentity, AddSendingDomain, CheckProvider, CheckSendingDomain, SetSending,
    sending_settings, sending_status,
};
use crate::components::{ErrorNote, action_result, format_time};
use herald_core::domain::sending::{Domain, EmailProvider, SendingOverview, SmsProvider};
use herald_core::domain::system::SendingStatus;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SendingPage() -> impl IntoView {
    let set = ServerAction::<SetSending>::new();
    let identity = ServerAction::<AddSenderIdentity>::new();
    let domain = ServerAction::<AddSendingDomain>::new();
    let check = ServerAction::<CheckProvider>::new();
    let check_domain = ServerAction::<CheckSendingDomain>::new();
    let settings = Resource::new(
        move || {
            (
                set.version().get(),
                identity.version().get(),
                domain.version().get(),
                check_domain.version().get(),
            )
        },
        |_| sending_settings(),
    );
    let status = Resource::new(
        move || (set.version().get(), check.version().get()),
        |_| sending_status(),
    );
    view! {
        <Title text="Sending" />
        <p class="crumbs"><a href="/settings">"← Settings"</a></p>
        <h1>"Sending"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (settings.await, status.await) {
                    (Ok(o), Ok(s)) => view! { <Providers o=o.clone() s set check /><Identities o=o.clone() identity /><Domains o domain check=check_domain /> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorNote error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Providers(
    o: SendingOverview,
    s: SendingStatus,
    set: ServerAction<SetSending>,
    check: ServerAction<CheckProvider>,
) -> impl IntoView {
    let email_choices = [
        (
            EmailProvider::Instance,
            "The instance's (as the operator configured it)",
        ),
        (
            EmailProvider::Mailbox,
            "Development mailbox (nothing leaves the machine)",
        ),
        (EmailProvider::Smtp, "SMTP relay"),
        (EmailProvider::Ses, "Amazon SES"),
    ];
    let sms_choices = [
        (SmsProvider::Instance, "The instance's"),
        (SmsProvider::Http, "HTTP SMS provider (Twilio-style API)"),
        (SmsProvider::None, "None"),
    ];
    view! {
        <section class="card" data-testid="providers">
            <h2>"Providers"</h2>
            <dl class="facts">
                <dt>"Email goes to"</dt><dd data-testid="email-route">{o.email_route.clone()}</dd>
                <dt>"Text messages go to"</dt><dd>{o.sms_route.clone()}</dd>
                <dt>"Rate limit"</dt><dd>{s.rate_limit.map_or_else(|| "none: the provider's pace".to_owned(), |r| format!("{r} messages a second (per instance)"))}</dd>
                {s.answers.into_iter().map(|a| view! {
                    <dt>{format!("{} provider, last answer", a.channel)}</dt>
                    <dd data-testid=format!("last-answer-{}", a.channel)>
                        {a.last_ok_at.map(|t| format!("took a message {}", format_time(Some(t))))}
                        {a.last_error.map(|e| view! { <br /><span class="muted">{format!("last refusal: {e}")}</span> })}
                    </dd>
                }).collect_view()}
            </dl>
            <ActionForm action=check attr:class="inline" attr:data-testid="check-email">
                <input type="hidden" name="channel" value="email" />
                <button type="submit" disabled=move || check.pending().get()>"Send a test email to me"</button>
            </ActionForm>
            <ActionForm action=check attr:class="inline">
                <input type="hidden" name="channel" value="sms" />
                <label for="check-phone">"Test text message to"</label>
                <input id="check-phone" name="phone" type="tel" placeholder="+44 20 7946 0958" />
                <button type="submit" disabled=move || check.pending().get()>"Send a test text"</button>
            </ActionForm>
            <div data-testid="check-answer">{move || action_result(check.value().get(), |s| s)}</div>
            <details>
                <summary>"Change the providers"</summary>
                <ActionForm action=set attr:class="narrow">
                    <label for="email-provider">"Email"</label>
                    <select id="email-provider" name="form[email_provider]">
                        {email_choices.map(|(p, label)| view! { <option value=p.as_str() selected=p == o.email_provider>{label}</option> }).collect_view()}
                    </select>
                    <label for="smtp-url">"SMTP URL " <span class="muted">{o.smtp.clone().map_or_else(|| "(smtp://user:password@host:587 or smtps://…)".to_owned(), |u| format!("(now {u}; leave empty to keep it)"))}</span></label>
                    <input id="smtp-url" name="form[smtp_url]" type="password" autocomplete="off" />
                    <label for="ses-region">"SES region"</label>
                    <input id="ses-region" name="form[ses_region]" placeholder="eu-west-1" value=o.ses_region.clone().unwrap_or_default() />
                    <label for="ses-set">"SES configuration set " <span class="muted">"(where SES publishes delivery events)"</span></label>
                    <input id="ses-set" name="form[ses_configuration_set]" value=o.ses_configuration_set.clone().unwrap_or_default() />
                    <label for="ses-topic">"SNS topic ARN " <span class="muted">"(SES events arrive from it at /webhooks/ses)"</span></label>
                    <input id="ses-topic" name="form[ses_topic_arn]" placeholder="arn:aws:sns:eu-west-1:123456789012:ses-events" value=o.ses_topic_arn.clone().unwrap_or_default() />
                    <label for="sms-provider">"Text messages"</label>
                    <select id="sms-provider" name="form[sms_provider]">
                        {sms_choices.map(|(p, label)| view! { <option value=p.as_str() selected=p == o.sms_provider>{label}</option> }).collect_view()}
                    </select>
                    <label for="sms-url">"SMS API URL " <span class="muted">{o.sms.clone().map_or_else(|| "(https://ACCOUNT:TOKEN@api.example.com)".to_owned(), |u| format!("(now {u}; leave empty to keep it)"))}</span></label>
                    <input id="sms-url" name="form[sms_url]" type="password" autocomplete="off" />
                    <label for="sms-from">"Text messages come from"</label>
                    <input id="sms-from" name="form[sms_from]" value=o.sms_from.clone().unwrap_or_default() />
                    <label for="rate">"Rate limit " <span class="muted">"(messages a second, per instance; empty: the provider's pace)"</span></label>
                    <input id="rate" name="form[rate_per_second]" inputmode="numeric" value=o.rate_per_second.map(|r| r.to_string()).unwrap_or_default() />
                    <p class="muted">"Passwords and tokens are sealed when saved and never shown again."</p>
                    <button type="submit" class="primary">"Save providers"</button>
                </ActionForm>
                {move || action_result(set.value().get(), |s| s)}
            </details>
        </section>
    }
}

#[component]
fn Identities(o: SendingOverview, identity: ServerAction<AddSenderIdentity>) -> impl IntoView {
    view! {
        <section class="card" data-testid="identities">
            <h2>"Sender identities"</h2>
            <p class="muted">"Who messages are from. A campaign picks one (or uses the default); replies go to its reply-to address, else to its From address, whoever pressed Send."</p>
            {if o.identities.is_empty() {
                view! { <p>"None yet: messages come from the instance's address."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {o.identities.into_iter().map(|i| view! {
                            <li>{format!("{} <{}>", i.name, i.email)}
                                {(!i.reply_to.is_empty()).then(|| format!(" · replies to {}", i.reply_to))}
                                {i.is_default.then(|| view! { " " <span class="badge">"Default"</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ActionForm action=identity attr:class="narrow">
                <label for="identity-name">"From name"</label>
                <input id="identity-name" name="name" required maxlength="200" />
                <label for="identity-email">"From address"</label>
                <input id="identity-email" name="email" type="email" required />
                <label for="identity-reply">"Reply-to " <span class="muted">"(an alias; optional)"</span></label>
                <input id="identity-reply" name="reply_to" type="email" />
                <label><input type="checkbox" name="default" value="on" />" The default for campaigns that name no sender"</label>
                <button type="submit">"Add the identity"</button>
            </ActionForm>
            {move || action_result(identity.value().get(), |s| s)}
        </section>
    }
}

#[component]
fn Domains(
    o: SendingOverview,
    domain: ServerAction<AddSendingDomain>,
    check: ServerAction<CheckSendingDomain>,
) -> impl IntoView {
    view! {
        <section class="card" data-testid="domains">
            <h2>"Sending domains"</h2>
            <p class="muted">"Herald signs messages from a domain with its own DKIM key. Publish the record below in the domain's DNS, then check it: Gmail, Yahoo and Outlook.com refuse bulk mail from domains without SPF, DKIM and DMARC, aligned with the From address."</p>
            {o.domains.into_iter().map(|d| view! { <DomainStanding d check /> }).collect_view()}
            // A failed check (not a failing domain) is said here; the result is in the card.
            <div data-testid="domain-check-answer">{move || check.value().get().and_then(Result::err).map(|e| view! { <ErrorNote error=e /> })}</div>
            <ActionForm action=domain attr:class="narrow">
                <label for="domain-name">"Domain"</label>
                <input id="domain-name" name="domain" required placeholder="news.example.com" />
                <button type="submit">"Add the domain"</button>
            </ActionForm>
            {move || action_result(domain.value().get(), |s| s)}
        </section>
    }
}

/// One sending domain: the DKIM record to publish and its last check, rule by rule.
#[component]
fn DomainStanding(d: Domain, check: ServerAction<CheckSendingDomain>) -> impl IntoView {
    let standing = d.check.as_ref().map_or_else(
        || view! { <span class="badge">"Not checked yet"</span> }.into_any(),
        |c| view! { <span class=format!("badge verdict-{}", c.verdict.as_str())>{c.verdict.label()}</span> }.into_any(),
    );
    let rules = d.check.map(|c| {
        let rows = [("SPF", c.spf), ("DKIM", c.dkim), ("DMARC", c.dmarc), ("Alignment", c.alignment)];
        view! {
            <p data-testid="domain-summary">{c.summary} " " <span class="muted">{format!("Checked {}.", format_time(Some(c.checked_at)))}</span></p>
            <div class="table-wrap">
                <table class="rules">
                    <thead><tr><th scope="col">"Rule"</th><th scope="col">"Looked up at"</th><th scope="col">"Found"</th><th scope="col">"Standing"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|(rule, f)| view! {
                            <tr data-testid=format!("rule-{}", rule.to_lowercase())>
                                <th scope="row">{rule}</th>
                                {if f.name.is_empty() {
                                    view! { <td colspan="2" class="muted">"Judged from the records above"</td> }.into_any()
                                } else {
                                    view! {
                                        <td><code class="wrap">{f.name}</code></td>
                                        <td>{f.record.map_or_else(|| view! { <span class="muted">"nothing"</span> }.into_any(), |r| view! { <code class="wrap">{r}</code> }.into_any())}</td>
                                    }.into_any()
                                }}
                                <td><span class=format!("badge verdict-{}", f.verdict.as_str())>{f.verdict.label()}</span> " " {f.detail}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
    });
    view! {
        <article class="domain" data-testid=format!("domain-{}", d.domain)>
            <h3>{d.domain.clone()} " " {standing}</h3>
            <dl class="facts">
                <dt>"DKIM record (TXT)"</dt><dd><code data-testid="dkim-name">{d.record_name}</code></dd>
                <dt>"Value"</dt><dd><code class="wrap" data-testid="dkim-value">{d.record_value}</code></dd>
            </dl>
            {rules}
            <ActionForm action=check attr:class="inline">
                <input type="hidden" name="id" value=d.id />
                <button type="submit" disabled=move || check.pending().get()>"Check the DNS records now"</button>
            </ActionForm>
        </article>
    }
}
