#![recursion_limit = "256"]
//! The `herald` server: configuration, the HTTP surface, and start-up. `main.rs` is the CLI;
//! tests start the same server on port 0 through [`start`].

pub mod api_v1;
pub mod config;
pub mod http;
pub mod public;
pub mod worker;

pub use config::Config;

use herald_core::secret::SecretKey;
use herald_core::{Herald, Settings};
use leptos::config::LeptosOptions;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Connects to the database, runs the migrations, and loads the secret key.
pub async fn open(config: &Config) -> anyhow::Result<Herald> {
    let db = herald_core::db::connect(&config.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    herald_core::db::migrate(&db)
        .await
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    let secret_key = match &config.secret_key {
        Some(text) => SecretKey::from_text(text).map_err(|e| anyhow::anyhow!(e))?,
        None => SecretKey::load_or_create(&config.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot read or create {}/secret.key: {e}",
                config.data_dir.display()
            )
        })?,
    };
    let previous_keys = config
        .previous_secret_keys
        .iter()
        .map(|k| SecretKey::from_text(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("HERALD_PREVIOUS_SECRET_KEYS: {e}"))?;
    use herald_core::delivery::Provider;
    // SES when a region is given, else SMTP when a URL is, else the development mailbox.
    let email = match (&config.ses_region, &config.smtp_url) {
        (Some(region), _) => {
            Provider::ses(
                region,
                config.ses_endpoint.as_deref(),
                config.ses_configuration_set.clone(),
            )
            .await
        }
        (None, Some(url)) => {
            Provider::smtp(url, config.smtp_limits).map_err(|e| anyhow::anyhow!(e))?
        }
        (None, None) => Provider::Mailbox,
    };
    let sms = match &config.sms_url {
        Some(url) => Some(Arc::new(
            Provider::sms(url, Some(format!("{}/webhooks/sms", config.public_url)))
                .map_err(|e| anyhow::anyhow!("HERALD_SMS_URL: {e}"))?,
        )),
        None => None,
    };
    let providers = herald_core::delivery::sending::InstanceProviders {
        email: Arc::new(email),
        sms,
        sms_from: config.sms_from.clone(),
        ses_endpoint: config.ses_endpoint.clone(),
        smtp_limits: config.smtp_limits,
    };
    Ok(Herald {
        db,
        settings: Arc::new(Settings {
            public_url: config.public_url.clone(),
            secure_cookies: config.secure_cookies(),
            secret_key,
            previous_keys,
            providers,
            provider_cache: Default::default(),
            default_from: config.default_from.clone(),
            daily_run_at: config.daily_run_at,
            live: Default::default(),
            resolver: config.dns_resolver.clone(),
        }),
        clock: Arc::new(herald_core::jobs::SystemClock),
    })
}

pub fn leptos_options(config: &Config, listen: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("herald")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(listen)
        .build()
}

/// Serves Herald on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn start(
    config: &Config,
    herald: Herald,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let bundle = config.site_root.join("pkg").join("herald.js");
    if !bundle.exists() {
        tracing::warn!(
            "the browser bundle {} is missing: pages are served without interactivity (run bin/build)",
            bundle.display()
        );
    }
    let recorder =
        herald_core::tracking::recorder::Recorder::start(herald.clone(), config.tracking_queue);
    let state = http::AppState::new(http::Shared {
        leptos_options: leptos_options(config, addr),
        herald,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        recorder: recorder.clone(),
        destinations: Default::default(),
        sns: Arc::new(public::webhooks::Sns {
            certs: herald_core::webhooks::sns::CertStore::new(config.sns_cert_dir.clone()),
            topics: config.ses_topic_arns.clone(),
        }),
    });
    let worker = worker::spawn(
        state.herald.clone(),
        config.workers,
        config.job_lease_seconds,
    );
    let app = http::router(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    // Every open and click a request was answered for reaches the database.
    recorder.stop().await;
    if let Some(worker) = worker {
        worker.stop().await;
    }
    served?;
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
