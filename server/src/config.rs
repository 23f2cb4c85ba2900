//! Configuration from the environment. Every variable has a default that gives a working
//! instance on one machine: SQLite under ./data, listening on 127.0.0.1:3000.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    /// `HERALD_DATABASE_URL`: `sqlite://…` or `postgres://…`. Default: `sqlite://<data dir>/herald.db`.
    pub database_url: String,
    /// `HERALD_LISTEN`: the address to listen on. Default `127.0.0.1:3000`.
    pub listen: SocketAddr,
    /// `HERALD_PUBLIC_URL`: the address people reach Herald at (links in mails, cookie security).
    /// Default `http://<listen>`.
    pub public_url: String,
    /// `HERALD_DATA_DIR`: the SQLite file and the generated secret key. Default `./data`.
    pub data_dir: PathBuf,
    /// `HERALD_SECRET_KEY`: signs tokens. Default: generated once into `<data dir>/secret.key`.
    pub secret_key: Option<String>,
    /// `HERALD_SITE_ROOT` (or cargo-leptos' `LEPTOS_SITE_ROOT`): the built browser bundle
    /// (`pkg/herald.js`, `pkg/herald_bg.wasm`, `pkg/herald.css`). Default `target/site`.
    pub site_root: PathBuf,
    /// `HERALD_WORKERS`: background jobs this instance runs at once; 0 runs none (an instance
    /// that only serves requests). Default 4.
    pub workers: usize,
    /// `HERALD_JOB_LEASE_SECONDS`: how long a worker's claim on a job holds before another
    /// instance may take the job over (renewed while it runs). Default 60.
    pub job_lease_seconds: i64,
    /// `HERALD_TRUSTED_PROXIES`: addresses or CIDR ranges of the reverse proxies in front of
    /// Herald, whose `X-Forwarded-For` is believed. Default: none.
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// `HERALD_SMTP_URL`: send through this SMTP relay (`smtp://user:pass@host:port`, STARTTLS
    /// when offered; `smtps://` for implicit TLS). Default: none, messages go to the
    /// development mailbox (stored in the database, nothing leaves the machine).
    pub smtp_url: Option<String>,
    /// `HERALD_SMTP_POOL`: SMTP connections (and transactions at once) to the relay at most.
    /// Default 4. `HERALD_SMTP_PER_DESTINATION`: of those, at most this many towards one mailbox
    /// provider (Gmail, Microsoft, Yahoo, Apple, or any other domain). Default: the pool.
    pub smtp_limits: herald_core::delivery::provider::SmtpLimits,
    /// `HERALD_DEFAULT_FROM`: the From address of campaigns that name none. Default
    /// `noreply@` the public URL's host when that is a mail domain; with an IP address or
    /// `localhost` (the embedded default), `noreply@herald.localhost` while messages go to the
    /// development mailbox, and a refusal to start once they leave the machine (see
    /// [`derived_from`]).
    pub default_from: String,
    /// `HERALD_SES_REGION`: send through Amazon SES v2 in this region (credentials from the
    /// standard AWS chain) instead of SMTP or the development mailbox. Default: none.
    pub ses_region: Option<String>,
    /// `HERALD_SES_CONFIGURATION_SET`: the SES configuration set that publishes events.
    pub ses_configuration_set: Option<String>,
    /// `HERALD_SES_ENDPOINT`: where the SES client connects (a local double). Default: AWS.
    pub ses_endpoint: Option<String>,
    /// `HERALD_SMS_URL`: an HTTP SMS provider with a Twilio-style API,
    /// `https://ACCOUNT:TOKEN@api.twilio.com`. Default: none (text messages fail with a reason).
    pub sms_url: Option<String>,
    /// `HERALD_SMS_FROM`: the number or sender id text messages come from.
    pub sms_from: String,
    /// `HERALD_REGION`: the deployment region, `us` or `eu`; the daily run that evaluates
    /// record dates happens at its hour (`us` 16:00 UTC, `eu` 09:00 UTC). Default `us`.
    /// `HERALD_DAILY_RUN_AT` (`HH:MM`, UTC) overrides the hour.
    pub daily_run_at: chrono::NaiveTime,
    /// `HERALD_PREVIOUS_SECRET_KEYS`: keys that signed earlier tokens, comma-separated, so that
    /// tracking and unsubscribe links sent before a key was replaced keep working. Default: none.
    pub previous_secret_keys: Vec<String>,
    /// `HERALD_SES_TOPIC_ARNS`: the SNS topics (comma-separated ARNs) whose SES events this
    /// instance accepts at `/webhooks/ses`, besides those in organisations' SES settings.
    pub ses_topic_arns: Vec<String>,
    /// `HERALD_SNS_CERT_DIR`: SNS signing certificates, each named as the last segment of its
    /// `SigningCertURL`, used instead of fetching them (no outbound internet; tests).
    pub sns_cert_dir: Option<PathBuf>,
    /// `HERALD_TRACKING_QUEUE`: opens and clicks held in memory on their way to the database;
    /// beyond it hits are dropped (and counted). Default 100000.
    pub tracking_queue: usize,
    /// `HERALD_DNS_RESOLVER`: the DNS server (`address` or `address:port`) that checks sending
    /// domains' SPF, DKIM and DMARC records ask. Default: the first nameserver of
    /// `/etc/resolv.conf`.
    pub dns_resolver: herald_core::delivery::dns::Resolver,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let data_dir = PathBuf::from(var("HERALD_DATA_DIR").unwrap_or_else(|| "data".into()));
        let listen_text = var("HERALD_LISTEN")
            .or_else(|| var("LEPTOS_SITE_ADDR"))
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen: SocketAddr = listen_text.parse().map_err(|e| {
            anyhow::anyhow!(
                "HERALD_LISTEN={listen_text:?} is not an address like 127.0.0.1:3000: {e}"
            )
        })?;
        let public_url = var("HERALD_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            anyhow::bail!("HERALD_PUBLIC_URL={public_url:?} must start with http:// or https://");
        }
        let database_url = var("HERALD_DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("herald.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            anyhow::bail!("HERALD_DATABASE_URL must start with sqlite:// or postgres://");
        }
        let workers = match var("HERALD_WORKERS") {
            None => 4,
            Some(w) => w
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|w| *w <= 64)
                .ok_or_else(|| {
                    anyhow::anyhow!("HERALD_WORKERS={w:?} must be a number from 0 to 64")
                })?,
        };
        let job_lease_seconds = match var("HERALD_JOB_LEASE_SECONDS") {
            None => 60,
            Some(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|s| (2..=3600).contains(s))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "HERALD_JOB_LEASE_SECONDS={s:?} must be a number of seconds from 2 to 3600"
                    )
                })?,
        };
        let trusted_proxies = crate::http::client_ip::TrustedProxies::parse(
            &var("HERALD_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|e| anyhow::anyhow!("HERALD_TRUSTED_PROXIES: {e}"))?;
        let smtp_pool = match var("HERALD_SMTP_POOL") {
            None => 4,
            Some(n) => n
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| anyhow::anyhow!("HERALD_SMTP_POOL={n:?} must be from 1 to 100"))?,
        };
        let per_destination = match var("HERALD_SMTP_PER_DESTINATION") {
            None => smtp_pool,
            Some(n) => n
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=smtp_pool).contains(n))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "HERALD_SMTP_PER_DESTINATION={n:?} must be from 1 to HERALD_SMTP_POOL ({smtp_pool})"
                    )
                })?,
        };
        let smtp_limits = herald_core::delivery::provider::SmtpLimits {
            pool: smtp_pool,
            per_destination,
        };
        let smtp_url = var("HERALD_SMTP_URL");
        if let Some(url) = &smtp_url {
            herald_core::delivery::provider::parse_smtp_url(url).map_err(|e| anyhow::anyhow!(e))?;
        }
        let default_from = match var("HERALD_DEFAULT_FROM") {
            Some(from) => {
                herald_core::domain::EmailAddress::parse(&from).map_err(|e| {
                    anyhow::anyhow!("HERALD_DEFAULT_FROM={from:?} is not an address: {e}")
                })?;
                from.trim().to_owned()
            }
            None => {
                let host = public_url
                    .split("://")
                    .nth(1)
                    .unwrap_or_default()
                    .split(['/', '?', '#'])
                    .next()
                    .unwrap_or_default();
                let sends_out = smtp_url.is_some() || var("HERALD_SES_REGION").is_some();
                derived_from(host, sends_out)?
            }
        };
        let region = var("HERALD_REGION").unwrap_or_else(|| "us".into());
        let region_hour = herald_core::domain::schedule::region_hour(&region)
            .ok_or_else(|| anyhow::anyhow!("HERALD_REGION={region:?} must be us or eu"))?;
        let daily_run_at = match var("HERALD_DAILY_RUN_AT") {
            None => region_hour,
            Some(at) => chrono::NaiveTime::parse_from_str(at.trim(), "%H:%M").map_err(|_| {
                anyhow::anyhow!("HERALD_DAILY_RUN_AT={at:?} must be a time like 16:00 (UTC)")
            })?,
        };
        let dns_resolver = match var("HERALD_DNS_RESOLVER") {
            None => herald_core::delivery::dns::Resolver::system(),
            Some(s) => herald_core::delivery::dns::Resolver::parse(&s)
                .map_err(|e| anyhow::anyhow!("HERALD_DNS_RESOLVER: {e}"))?,
        };
        let sms_url = var("HERALD_SMS_URL");
        if let Some(url) = &sms_url {
            herald_core::delivery::provider::parse_sms_url(url)
                .map_err(|e| anyhow::anyhow!("HERALD_SMS_URL: {e}"))?;
        }
        let sms_from = var("HERALD_SMS_FROM").unwrap_or_default();
        if sms_url.is_some() && sms_from.is_empty() {
            anyhow::bail!("HERALD_SMS_FROM: say which number text messages come from");
        }
        let list = |name: &str| -> Vec<String> {
            var(name)
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let ses_topic_arns = list("HERALD_SES_TOPIC_ARNS");
        if let Some(bad) = ses_topic_arns.iter().find(|a| !a.starts_with("arn:aws")) {
            anyhow::bail!("HERALD_SES_TOPIC_ARNS: {bad:?} is not an SNS topic ARN (arn:aws:sns:…)");
        }
        let tracking_queue = match var("HERALD_TRACKING_QUEUE") {
            None => 100_000,
            Some(n) => n
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=10_000_000).contains(n))
                .ok_or_else(|| {
                    anyhow::anyhow!("HERALD_TRACKING_QUEUE={n:?} must be from 1 to 10000000")
                })?,
        };
        Ok(Config {
            previous_secret_keys: list("HERALD_PREVIOUS_SECRET_KEYS"),
            ses_topic_arns,
            sns_cert_dir: var("HERALD_SNS_CERT_DIR").map(PathBuf::from),
            tracking_queue,
            dns_resolver,
            ses_region: var("HERALD_SES_REGION"),
            ses_configuration_set: var("HERALD_SES_CONFIGURATION_SET"),
            ses_endpoint: var("HERALD_SES_ENDPOINT"),
            sms_url,
            sms_from,
            daily_run_at,
            smtp_url,
            smtp_limits,
            default_from,
            database_url,
            workers,
            job_lease_seconds,
            trusted_proxies,
            listen,
            public_url,
            data_dir,
            secret_key: var("HERALD_SECRET_KEY"),
            site_root: PathBuf::from(
                var("HERALD_SITE_ROOT")
                    .or_else(|| var("LEPTOS_SITE_ROOT"))
                    .unwrap_or_else(|| "target/site".into()),
            ),
        })
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The From address derived from the public URL's host (`host[:port]`) when
/// `HERALD_DEFAULT_FROM` is not set. A host that is no mail domain (an IP address, `localhost`,
/// a name without a dot) gives no valid address: the development mailbox, where nothing leaves
/// the machine, gets `noreply@herald.localhost` (the reserved `.localhost` name, RFC 6761);
/// with a real provider Herald refuses to start rather than send from an address every mailbox
/// provider rejects.
fn derived_from(host: &str, sends_out: bool) -> anyhow::Result<String> {
    let name = match host.strip_prefix('[') {
        // An IPv6 literal, `[::1]:3000`.
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    let candidate = format!("noreply@{name}");
    if herald_core::domain::EmailAddress::parse(&candidate).is_ok() {
        return Ok(candidate.to_lowercase());
    }
    if !sends_out {
        return Ok("noreply@herald.localhost".into());
    }
    anyhow::bail!(
        "HERALD_DEFAULT_FROM is not set, and the public URL's host {name:?} is not a mail \
         domain to send from: set HERALD_DEFAULT_FROM to the address campaigns that name no \
         sender come from (news@your-domain.example), or HERALD_PUBLIC_URL to Herald's public \
         https:// address on your domain"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_give_an_embedded_instance() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://data/herald.db");
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.site_root, PathBuf::from("target/site"));
        assert_eq!(c.workers, 4);
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.smtp_url, None);
        assert_eq!(c.default_from, "noreply@herald.localhost");
        assert_eq!(c.daily_run_at.to_string(), "16:00:00");
        assert!(!c.secure_cookies());
    }

    #[test]
    fn variables_override_defaults() {
        let c = config(&[
            ("HERALD_DATA_DIR", "/var/lib/herald"),
            ("HERALD_LISTEN", "0.0.0.0:8080"),
            ("HERALD_PUBLIC_URL", "https://mail.example.org/"),
        ])
        .unwrap();
        assert_eq!(c.database_url, "sqlite:///var/lib/herald/herald.db");
        assert_eq!(c.public_url, "https://mail.example.org");
        assert!(c.secure_cookies());
        assert_eq!(c.default_from, "noreply@mail.example.org");
        let pg = config(&[(
            "HERALD_DATABASE_URL",
            "postgres://postgres@127.0.0.1/herald",
        )])
        .unwrap();
        assert_eq!(pg.database_url, "postgres://postgres@127.0.0.1/herald");
    }

    #[test]
    fn the_default_sender_is_derived_from_the_public_url_or_start_up_is_refused() {
        // (public URL, a real provider configured, the derived From or None for a refusal)
        let cases = [
            (
                "https://mail.example.org",
                false,
                Some("noreply@mail.example.org"),
            ),
            (
                "https://Mail.Example.org:8443/herald",
                true,
                Some("noreply@mail.example.org"),
            ),
            (
                "http://127.0.0.1:3000",
                false,
                Some("noreply@herald.localhost"),
            ),
            ("http://[::1]:3000", false, Some("noreply@herald.localhost")),
            (
                "http://localhost:3000",
                false,
                Some("noreply@herald.localhost"),
            ),
            ("http://127.0.0.1:3000", true, None),
            ("http://[::1]:3000", true, None),
            ("http://intranet", true, None),
        ];
        for (url, sends_out, want) in cases {
            let mut vars = vec![("HERALD_PUBLIC_URL", url)];
            if sends_out {
                vars.push(("HERALD_SMTP_URL", "smtp://127.0.0.1:2525"));
            }
            match (config(&vars), want) {
                (Ok(c), Some(want)) => assert_eq!(c.default_from, want, "{url}"),
                (Err(e), None) => {
                    let e = e.to_string();
                    assert!(e.contains("set HERALD_DEFAULT_FROM"), "{url}: {e}");
                }
                (got, want) => panic!("{url} (provider {sends_out}): {got:?}, wanted {want:?}"),
            }
        }
        // An explicit address wins, and SES counts as a provider that sends out.
        let c = config(&[
            ("HERALD_SES_REGION", "eu-west-1"),
            ("HERALD_DEFAULT_FROM", "news@acme.example"),
        ])
        .unwrap();
        assert_eq!(c.default_from, "news@acme.example");
        assert!(config(&[("HERALD_SES_REGION", "eu-west-1")]).is_err());
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let e = config(&[("HERALD_LISTEN", "3000")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("HERALD_LISTEN"), "{e}");
        let e = config(&[("HERALD_PUBLIC_URL", "mail.example.org")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("HERALD_PUBLIC_URL"), "{e}");
        let e = config(&[("HERALD_DATABASE_URL", "mysql://x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("HERALD_DATABASE_URL"), "{e}");
        let e = config(&[("HERALD_WORKERS", "lots")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("HERALD_WORKERS"), "{e}");
        let e = config(&[("HERALD_TRUSTED_PROXIES", "10.0.0.0/40")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("HERALD_TRUSTED_PROXIES"), "{e}");
        let e = config(&[("HERALD_SMTP_URL", "mail.example.org:25")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("HERALD_SMTP_URL"), "{e}");
        let e = config(&[("HERALD_DEFAULT_FROM", "nobody")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("HERALD_DEFAULT_FROM"), "{e}");
        for (name, value) in [("HERALD_REGION", "mars"), ("HERALD_DAILY_RUN_AT", "4pm")] {
            let e = config(&[(name, value)]).unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
        // The per-destination limit is a part of the pool.
        let c = config(&[
            ("HERALD_SMTP_POOL", "16"),
            ("HERALD_SMTP_PER_DESTINATION", "4"),
        ])
        .unwrap();
        assert_eq!((c.smtp_limits.pool, c.smtp_limits.per_destination), (16, 4));
        let c = config(&[("HERALD_SMTP_POOL", "8")]).unwrap();
        assert_eq!(c.smtp_limits.per_destination, 8);
        for n in ["0", "9", "many"] {
            let e = config(&[
                ("HERALD_SMTP_POOL", "8"),
                ("HERALD_SMTP_PER_DESTINATION", n),
            ])
            .unwrap_err()
            .to_string();
            assert!(e.contains("HERALD_SMTP_PER_DESTINATION"), "{n}: {e}");
        }
        let eu = config(&[("HERALD_REGION", "eu")]).unwrap();
        assert_eq!(eu.daily_run_at.to_string(), "09:00:00");
        let at = config(&[("HERALD_REGION", "eu"), ("HERALD_DAILY_RUN_AT", "06:30")]).unwrap();
        assert_eq!(at.daily_run_at.to_string(), "06:30:00");
    }
}
