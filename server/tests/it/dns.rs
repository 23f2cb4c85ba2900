//! Checking a sending domain against the mailbox providers' sender rules, through a real DNS
//! server on loopback (tools/dns-double, dnslib: an encoder that is not Herald's): records
//! published, wrong or missing; a DKIM key behind a CNAME; an answer too large for UDP asked
//! again over TCP; a failing lookup; the result kept on the domain, and for its organisation's
//! admins only.

use crate::builder::user;
use crate::delivery::{start_tool, world_with};
use herald_core::delivery::dns::Resolver;
use herald_core::delivery::{domain_check, sending};
use herald_core::domain::Role;
use herald_core::domain::sender_auth::Verdict;
use serde_json::json;

/// tools/dns-double answering from the zone files in a directory of its own.
struct DnsDouble {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl DnsDouble {
    fn start() -> DnsDouble {
        let dir = std::env::temp_dir().join(format!(
            "herald-zones-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (child, port) = start_tool("dns-double", &["--dir".as_ref(), dir.as_os_str()]);
        DnsDouble { child, port, dir }
    }

    /// Replaces the zone: the double reads it on the next question.
    fn publish(&self, zone: serde_json::Value) {
        let tmp = self.dir.join("zone.tmp");
        std::fs::write(&tmp, zone.to_string()).unwrap();
        std::fs::rename(tmp, self.dir.join("zone.json")).unwrap();
    }
}

impl Drop for DnsDouble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_sending_domain_is_checked_against_the_sender_rules_through_the_dns() {
    let dns = DnsDouble::start();
    let port = dns.port;
    let w = world_with(|c| {
        c.dns_resolver = Resolver::new(format!("127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    let (h, admin) = (&w.h, &w.admin);
    let record = sending::add_domain(
        &h.db,
        &h.settings.secret_key,
        admin,
        "news.acme.example",
        "herald",
        h.now(),
    )
    .await
    .unwrap();
    let domain = sending::overview(h, admin).await.unwrap().domains[0].clone();
    assert_eq!(domain.check, None, "never checked yet");

    // Nothing published: every rule fails, with what to publish.
    let c = domain_check::check(h, admin, domain.id).await.unwrap();
    assert_eq!(
        [c.spf.verdict, c.dkim.verdict, c.dmarc.verdict, c.verdict],
        [Verdict::Fail; 4]
    );
    assert!(c.spf.detail.contains("No SPF record"), "{}", c.spf.detail);
    assert!(
        c.dmarc.detail.contains("_dmarc.news.acme.example"),
        "{}",
        c.dmarc.detail
    );
    assert_eq!(c.checked_at, h.now());

    // Published: SPF at the domain, Herald's key (2048 bits: over 400 bytes, asked again over
    // TCP after a truncated UDP answer), DMARC at the parent (the tree walk finds it).
    let good = |dmarc: &str| {
        json!({
            "records": [
                ["news.acme.example", "TXT", "google-site-verification=abc"],
                ["news.acme.example", "TXT", "v=spf1 include:relay.example ~all"],
                [record.record_name, "TXT", record.record_value],
                ["_dmarc.acme.example", "TXT", dmarc],
            ],
            "tcp_only": [record.record_name],
        })
    };
    dns.publish(good(
        "v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.example",
    ));
    let c = domain_check::check(h, admin, domain.id).await.unwrap();
    assert_eq!(c.verdict, Verdict::Pass, "{c:#?}");
    assert_eq!(
        c.spf.record.as_deref(),
        Some("v=spf1 include:relay.example ~all")
    );
    assert_eq!(c.dkim.record.as_deref(), Some(record.record_value.as_str()));
    assert_eq!(c.dmarc.name, "_dmarc.acme.example");
    assert!(
        c.dmarc.detail.contains("inherited from acme.example"),
        "{}",
        c.dmarc.detail
    );
    // Kept on the domain for the settings page.
    let shown = sending::overview(h, admin).await.unwrap().domains[0]
        .check
        .clone();
    assert_eq!(shown, Some(c));

    // A DKIM record behind a CNAME with another key; DMARC without a policy.
    dns.publish(json!({
        "records": [
            ["news.acme.example", "TXT", "v=spf1 include:relay.example ~all"],
            [record.record_name, "CNAME", "herald.keys.provider.example"],
            ["herald.keys.provider.example", "TXT", "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOC"],
            ["_dmarc.news.acme.example", "TXT", "v=DMARC1; rua=mailto:d@acme.example"],
        ],
    }));
    let c = domain_check::check(h, admin, domain.id).await.unwrap();
    assert_eq!(c.dkim.verdict, Verdict::Fail);
    assert!(
        c.dkim.detail.contains("not the one Herald signs with"),
        "{}",
        c.dkim.detail
    );
    assert_eq!(c.dmarc.verdict, Verdict::Fail);
    assert!(c.dmarc.detail.contains("no policy"), "{}", c.dmarc.detail);
    assert!(c.summary.contains("DKIM, DMARC"), "{}", c.summary);

    // A lookup that fails says so, and says nothing about the record.
    let mut zone = good("v=DMARC1; p=none");
    zone["servfail"] = json!(["news.acme.example"]);
    dns.publish(zone);
    let c = domain_check::check(h, admin, domain.id).await.unwrap();
    assert_eq!(c.spf.verdict, Verdict::Fail);
    assert!(c.spf.detail.contains("SERVFAIL"), "{}", c.spf.detail);
    assert_eq!(c.dkim.verdict, Verdict::Pass);

    // Only the organisation's admins check its domains.
    let other = user(&h.db, "globex", Role::Admin).await;
    assert!(matches!(
        domain_check::check(h, &other, domain.id).await,
        Err(herald_core::Error::NotFound(_))
    ));
    let marketer = user(&h.db, "acme", Role::Marketer).await;
    assert!(domain_check::check(h, &marketer, domain.id).await.is_err());
}

#[tokio::test]
async fn a_resolver_that_does_not_answer_is_a_failed_check_in_words() {
    // Nothing listens on the test configuration's resolver.
    let w = world_with(|_| {}).await;
    sending::add_domain(
        &w.h.db,
        &w.h.settings.secret_key,
        &w.admin,
        "acme.example",
        "herald",
        w.h.now(),
    )
    .await
    .unwrap();
    let id = sending::overview(&w.h, &w.admin).await.unwrap().domains[0].id;
    let c = domain_check::check(&w.h, &w.admin, id).await.unwrap();
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(
        c.spf.detail.contains("The lookup failed") && c.spf.detail.contains("127.0.0.1:9"),
        "{}",
        c.spf.detail
    );
}
