//! The ceiling `bench/send.py` compares Herald's sending with: a bare lettre loop that sends
//! COUNT pre-rendered messages (rendered before the clock starts, one per recipient, the size
//! of Herald's) through one pooled SMTP transport with POOL connections, POOL at a time, and
//! prints the messages per second. Nothing else: no database, no outbox, no state.
//!
//!     cargo run --release -p server --example smtp_ceiling -- smtp://127.0.0.1:2525 100000 4

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::{AsyncSmtpTransport, PoolConfig};
use lettre::{AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("an SMTP URL");
    let count: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let pool: u32 = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(4);
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .expect("an SMTP URL")
        .pool_config(PoolConfig::new().max_size(pool))
        .build();
    let from: Mailbox = "Acme <news@acme.example>".parse().unwrap();
    let messages: Arc<Vec<(lettre::address::Envelope, Vec<u8>)>> = Arc::new(
        (0..count)
            .map(|i| {
                let to: Mailbox = format!("ceiling{i}@example.org").parse().unwrap();
                let m = lettre::Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(format!("Hello P{i}"))
                    .multipart(MultiPart::alternative_plain_html(
                        format!("Hello P{i}\n\nUnsubscribe: http://127.0.0.1/u/token"),
                        format!("<p>Hello P{i}</p><p><a href=\"http://127.0.0.1/u/token\">Unsubscribe</a></p>"),
                    ))
                    .unwrap();
                (m.envelope().clone(), m.formatted())
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..pool)
        .map(|_| {
            let (transport, messages, next) = (transport.clone(), messages.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((envelope, raw)) = messages.get(i) else {
                        break;
                    };
                    transport
                        .send_raw(envelope, raw)
                        .await
                        .expect("the sink takes it");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"messages\": {count}, \"pool\": {pool}, \"seconds\": {seconds:.3}, \"per_second\": {:.1}}}",
        count as f64 / seconds
    );
}
