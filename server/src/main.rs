//! `herald`: the server and its administration commands.

use clap::{Parser, Subcommand};
use herald_core::audience;
use herald_core::auth::accounts::{self, NewUser};
use herald_core::demo;
use herald_core::domain::Role;
use herald_core::domain::access::{Actor, KeyScopes};
use server::Config;

#[derive(Parser)]
#[command(name = "herald", version, about = "Herald, an open campaign platform")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load demo data into the organisation `demo` (does nothing if it is already there).
    Demo,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage REST API keys.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Work with audiences.
    Audience {
        #[command(subcommand)]
        command: AudienceCommand,
    },
    /// What the campaign builder checks.
    Builder {
        #[command(subcommand)]
        command: BuilderCommand,
    },
    /// Saved segments.
    Segments {
        #[command(subcommand)]
        command: SegmentsCommand,
    },
    /// How an organisation sends: providers, sender identities, sending domains (DKIM).
    Sending {
        #[command(subcommand)]
        command: SendingCommand,
    },
    /// The background job queue: what waits, runs and failed (`herald jobs`), and retrying.
    Jobs {
        #[command(subcommand)]
        command: Option<JobsCommand>,
    },
}

#[derive(Subcommand)]
enum SegmentsCommand {
    /// Bring every segment of an organisation up to date now, one after the other (the
    /// background worker does it every minute on the job queue).
    Refresh {
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum SendingCommand {
    /// The organisation's providers, identities and domains (never a secret), as JSON.
    Show {
        #[arg(long)]
        org: String,
    },
    /// Change the providers: JSON with any of email_provider (instance, mailbox, smtp, ses),
    /// smtp_url, ses_region, ses_configuration_set, sms_provider (instance, http, none),
    /// sms_url, sms_from, rate_per_second. Secrets are stored sealed.
    Set {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: String,
    },
    /// Add a sender identity (the first is the default).
    AddIdentity {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        reply_to: String,
        #[arg(long)]
        default: bool,
    },
    /// Add a sending domain with a new DKIM key, and print the DNS record to publish.
    AddDomain {
        #[arg(long)]
        org: String,
        #[arg(long)]
        domain: String,
        #[arg(long, default_value = "herald")]
        selector: String,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Queue depth and oldest pending job per kind, running jobs, failed jobs (the default).
    List,
    /// Run a failed job again, with its attempts reset.
    Retry { id: i64 },
    /// Run every job that is due now in this process, then exit.
    Run,
}

#[derive(Subcommand)]
enum BuilderCommand {
    /// The duplicate warnings for a draft campaign (JSON), against the active campaigns.
    Conflicts {
        #[arg(long)]
        org: String,
        /// The draft as JSON, as the builder saves it.
        #[arg(long)]
        draft: String,
        /// Run the check this many times and report the median time.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
}

#[derive(Subcommand)]
enum AudienceCommand {
    /// Count the contacts an audience (a JSON filter tree) reaches now, with a few samples.
    Count {
        #[arg(long)]
        org: String,
        /// The filter tree as JSON, e.g. '{"filter":"active_contact"}'.
        #[arg(long)]
        filter: String,
        /// Run the count this many times and report the median time.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// Also count who a campaign of this type (operational, marketing, newsletter) would
        /// reach, and why not the others (timed the same way).
        #[arg(long)]
        reach: Option<herald_core::domain::MessageType>,
        /// The channel for `--reach`: email or sms.
        #[arg(long, default_value = "email")]
        channel: herald_core::domain::Channel,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key for an organisation and print it (once: only its hash is kept).
    Create {
        #[arg(long)]
        org: String,
        /// What uses the key, e.g. "CRM sync".
        #[arg(long)]
        name: String,
        /// What the key may do: read, write, send, separated by commas (default: all three).
        #[arg(long, default_value = "read,write,send")]
        scopes: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user, creating the organisation when missing. Prints a generated password when none
    /// is given.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// admin, marketer or member.
        #[arg(long)]
        role: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value = "")]
        name: String,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,tower_http=warn".into()),
        )
        .init();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("herald: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let herald = server::open(&config).await?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
            tracing::info!(
                "Herald is listening on {} (public URL {})",
                listener.local_addr()?,
                config.public_url
            );
            tracing::info!(
                "messages go to {}; text messages to {}",
                herald.settings.providers.email.describe(),
                herald
                    .settings
                    .providers
                    .sms
                    .as_ref()
                    .map_or_else(|| "no SMS provider".into(), |p| p.describe())
            );
            server::start(&config, herald, listener, server::shutdown_signal()).await
        }
        Command::Migrate => {
            server::open(&config).await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::Demo => {
            let herald = server::open(&config).await?;
            match demo::load(&herald).await? {
                demo::Outcome::Loaded {
                    contacts,
                    campaigns,
                    messages,
                } => println!(
                    "Demo organisation loaded: {contacts} contacts, {campaigns} campaigns, {messages} messages."
                ),
                demo::Outcome::AlreadyLoaded => println!("Demo organisation already loaded."),
            }
            println!(
                "Sign in at {}/login as {} with password {}",
                config.public_url,
                demo::DEMO_ADMIN_EMAIL,
                demo::DEMO_PASSWORD
            );
            Ok(())
        }
        Command::ApiKey {
            command: ApiKeyCommand::Create { org, name, scopes },
        } => {
            let scopes = KeyScopes::parse(&scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let herald = server::open(&config).await?;
            let org = accounts::find_org(&herald.db, &org)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organisation {org:?}"))?;
            let (key, secret) = herald_core::auth::api_keys::create(
                &herald.db,
                &Actor::system(org.id),
                &name,
                scopes,
            )
            .await?;
            eprintln!(
                "Created API key “{}” ({}) for {}. Keep it secret; it is not shown again.",
                key.name,
                key.scopes.to_text(),
                org.slug
            );
            println!("{secret}");
            Ok(())
        }
        Command::Audience {
            command:
                AudienceCommand::Count {
                    org,
                    filter,
                    repeat,
                    reach,
                    channel,
                },
        } => {
            let filter: herald_core::domain::audience::Filter = serde_json::from_str(&filter)
                .map_err(|e| anyhow::anyhow!("--filter is not a valid audience: {e}"))?;
            let herald = server::open(&config).await?;
            let org = accounts::find_org(&herald.db, &org)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organisation {org:?}"))?;
            let actor = Actor::system(org.id);
            let now = chrono::Utc::now();
            let mut times = Vec::new();
            let mut count = 0;
            for _ in 0..repeat.max(1) {
                let started = std::time::Instant::now();
                count = audience::count(&herald.db, &actor, &filter, now).await?;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{count} contacts ({:.1} ms median of {})",
                times[times.len() / 2],
                times.len()
            );
            if let Some(message_type) = reach {
                let rule = herald_core::domain::delivery::ReachRule {
                    message_type,
                    channel,
                    suppression_list_ids: Vec::new(),
                };
                let mut times = Vec::new();
                let mut found = Default::default();
                for _ in 0..repeat.max(1) {
                    let started = std::time::Instant::now();
                    found = audience::reach::reach(&herald.db, &actor, &filter, &rule, now).await?;
                    times.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                times.sort_by(f64::total_cmp);
                let found: herald_core::domain::delivery::Reach = found;
                println!(
                    "{} reached of {} ({:.1} ms median of {})",
                    found.reachable,
                    found.matched,
                    times[times.len() / 2],
                    times.len()
                );
                for (reason, n) in &found.left_out {
                    println!("  {n} {}", rule.left_out_because(*reason));
                }
            }
            for c in audience::sample(&herald.db, &actor, &filter, now, 5).await? {
                println!(
                    "  {} {} <{}>",
                    c.first_name,
                    c.last_name,
                    c.email.unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Builder {
            command: BuilderCommand::Conflicts { org, draft, repeat },
        } => {
            let draft: herald_core::domain::campaign::Draft = serde_json::from_str(&draft)
                .map_err(|e| anyhow::anyhow!("--draft is not a valid campaign draft: {e}"))?;
            let herald = server::open(&config).await?;
            let org = accounts::find_org(&herald.db, &org)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organisation {org:?}"))?;
            let actor = Actor::system(org.id);
            let mut times = Vec::new();
            let mut found = Vec::new();
            for _ in 0..repeat.max(1) {
                let started = std::time::Instant::now();
                found = herald_core::campaigns::builder::conflicts(
                    &herald.db,
                    &actor,
                    None,
                    &draft,
                    chrono::Utc::now(),
                )
                .await?;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{} conflicts ({:.1} ms median of {})",
                found.len(),
                times[times.len() / 2],
                times.len()
            );
            for c in found {
                println!(
                    "  {} with “{}” (#{}): overlap {}",
                    c.severity.label(),
                    c.other_name,
                    c.other_id,
                    c.overlap
                );
            }
            Ok(())
        }
        Command::Segments {
            command: SegmentsCommand::Refresh { org },
        } => {
            let herald = server::open(&config).await?;
            let org = accounts::find_org(&herald.db, &org)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organisation {org:?}"))?;
            let started = std::time::Instant::now();
            let (n, entered, left) = herald_core::audience::segments::refresh_now(
                &herald.db,
                &Actor::system(org.id),
                herald.now(),
            )
            .await?;
            println!(
                "Refreshed {n} segments in {:.1} s: {entered} contacts entered, {left} left.",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Sending { command } => {
            let herald = server::open(&config).await?;
            sending(&herald, command).await
        }
        Command::Jobs { command } => {
            let herald = server::open(&config).await?;
            jobs(&herald, command.unwrap_or(JobsCommand::List)).await
        }
        Command::User {
            command:
                UserCommand::Add {
                    org,
                    email,
                    role,
                    password,
                    name,
                },
        } => {
            let role: Role = role
                .parse()
                .map_err(|_| anyhow::anyhow!("--role must be one of admin, marketer, member"))?;
            let herald = server::open(&config).await?;
            let org = accounts::ensure_org(&herald.db, &org, &org).await?;
            let generated = password.is_none().then(accounts::generate_password);
            let password = password.or(generated.clone()).unwrap_or_default();
            let user = accounts::create_user(
                &herald.db,
                org.id,
                NewUser {
                    email: &email,
                    name: &name,
                    role,
                    password: &password,
                },
            )
            .await?;
            println!("Added {} ({}) to {}.", user.email, role.label(), org.slug);
            if let Some(password) = generated {
                println!("Password: {password}");
            }
            Ok(())
        }
    }
}

/// `herald jobs`: the queue of the whole instance, as an operator sees it.
async fn jobs(herald: &herald_core::Herald, command: JobsCommand) -> anyhow::Result<()> {
    use herald_core::jobs::{self, Registry, Runner};
    // The operator acts for the whole instance: the system actor sees every organisation's jobs.
    let operator = Actor::system(0);
    match command {
        JobsCommand::List => {
            let q = jobs::queue::summary(&herald.db, &operator, herald.now()).await?;
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or("-".to_owned(), |t| {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                })
            };
            println!(
                "{:<24} {:>8} {:>8} {:>8} {:>8}  oldest pending",
                "kind", "pending", "due", "running", "failed"
            );
            for k in &q.kinds {
                println!(
                    "{:<24} {:>8} {:>8} {:>8} {:>8}  {}",
                    k.kind,
                    k.pending,
                    k.due,
                    k.running,
                    k.failed,
                    when(k.oldest_pending_at)
                );
            }
            if q.kinds.is_empty() {
                println!("(the queue is empty)");
            }
            if !q.running.is_empty() {
                println!("\nrunning:");
                for j in &q.running {
                    println!(
                        "  #{} {} {} attempt {}/{} on {} until {}",
                        j.id,
                        j.kind,
                        j.subject,
                        j.attempts,
                        j.max_attempts,
                        j.lease_owner.as_deref().unwrap_or("?"),
                        when(j.lease_expires_at)
                    );
                }
            }
            if !q.failed.is_empty() {
                println!("\nfailed (retry with `herald jobs retry ID`):");
                for j in &q.failed {
                    println!(
                        "  #{} {} {} after {} attempts at {}: {}",
                        j.id,
                        j.kind,
                        j.subject,
                        j.attempts,
                        when(j.failed_at),
                        j.last_error.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
        JobsCommand::Retry { id } => {
            jobs::queue::retry(&herald.db, &operator, id, herald.now()).await?;
            println!("Job {id} is queued again.");
            Ok(())
        }
        JobsCommand::Run => {
            let ran = Runner::new(
                herald.clone(),
                Registry::herald(herald.settings.daily_run_at),
            )
            .run_due()
            .await?;
            println!("Ran {ran} jobs.");
            Ok(())
        }
    }
}

async fn sending(herald: &herald_core::Herald, command: SendingCommand) -> anyhow::Result<()> {
    use herald_core::delivery::sending;
    let org_of = async |slug: &str| -> anyhow::Result<Actor> {
        let org = accounts::find_org(&herald.db, slug)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no organisation {slug:?}"))?;
        Ok(Actor::system(org.id))
    };
    match command {
        SendingCommand::Show { org } => {
            let actor = org_of(&org).await?;
            let shown = sending::overview(herald, &actor).await?;
            println!("{}", serde_json::to_string_pretty(&shown)?);
        }
        SendingCommand::Set { org, json } => {
            let actor = org_of(&org).await?;
            let input: sending::SendingInput = serde_json::from_str(&json)
                .map_err(|e| anyhow::anyhow!("--json does not read as sending settings: {e}"))?;
            sending::set(herald, &actor, &input).await?;
            let shown = sending::overview(herald, &actor).await?;
            println!(
                "Saved. Email goes to {}; text messages to {}.",
                shown.email_route, shown.sms_route
            );
        }
        SendingCommand::AddIdentity {
            org,
            email,
            name,
            reply_to,
            default,
        } => {
            let actor = org_of(&org).await?;
            sending::add_identity(
                &herald.db,
                &actor,
                &name,
                &email,
                &reply_to,
                default,
                herald.now(),
            )
            .await?;
            println!("Added the sender identity {email}.");
        }
        SendingCommand::AddDomain {
            org,
            domain,
            selector,
        } => {
            let actor = org_of(&org).await?;
            let d = sending::add_domain(
                &herald.db,
                &herald.settings.secret_key,
                &actor,
                &domain,
                &selector,
                herald.now(),
            )
            .await?;
            println!(
                "Publish this TXT record, then messages from @{} are signed:\n{}  TXT  \"{}\"",
                d.domain, d.record_name, d.record_value
            );
        }
    }
    Ok(())
}
