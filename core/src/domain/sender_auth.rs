//! Whether a sending domain meets the sender rules Gmail, Yahoo and Outlook.com enforce on bulk
//! mail (2024–2025): an SPF record, a DKIM signature whose key is published, a DMARC record
//! (`p=none` at least), and DMARC alignment, that is, an SPF or DKIM pass for a domain that
//! matches the From address's.
//!
//! Pure: the DNS answers come in ([`Lookups`]), findings in words go out ([`DomainCheck`]). The
//! lookups themselves are `delivery::dns_check`'s.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the resolver answered for one name's TXT records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The records (each one's character-strings joined), possibly none.
    Records(Vec<String>),
    /// The lookup failed (timeout, SERVFAIL): nothing can be said.
    Failed(String),
}

/// Whose address the envelope sender (SMTP `MAIL FROM`, where SPF is checked) is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvelopeSender {
    /// The From address itself (Herald's SMTP relay and the development mailbox).
    FromAddress,
    /// A provider's own domain (Amazon SES uses `amazonses.com` unless the organisation set up
    /// a custom MAIL FROM domain in SES).
    Provider(String),
}

/// Everything looked up for one sending domain.
#[derive(Clone, Debug)]
pub struct Lookups {
    pub domain: String,
    pub selector: String,
    /// The public key Herald signs with (base64 DER), as the DKIM record must publish it.
    pub public_key: String,
    pub envelope: EnvelopeSender,
    /// TXT at the domain.
    pub spf: Answer,
    /// TXT at `<selector>._domainkey.<domain>`.
    pub dkim: Answer,
    /// TXT at each of [`dmarc_names`], in that order, as far as the walk went.
    pub dmarc: Vec<(String, Answer)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }

    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "OK",
            Verdict::Warn => "Check",
            Verdict::Fail => "Missing or wrong",
        }
    }
}

/// One rule's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub verdict: Verdict,
    /// The DNS name looked up.
    pub name: String,
    /// The record found there, if one was.
    pub record: Option<String>,
    /// What it means and, when it fails, what to do.
    pub detail: String,
}

/// A sending domain's standing, as of `checked_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub checked_at: DateTime<Utc>,
    pub spf: Finding,
    pub dkim: Finding,
    pub dmarc: Finding,
    pub alignment: Finding,
    /// Pass only when bulk mail from the domain meets the providers' rules.
    pub verdict: Verdict,
    pub summary: String,
}

/// The names DMARC's policy is looked for at: `_dmarc.` the domain, then each parent down to
/// (not including) the top-level domain, the tree walk of DMARCbis, which replaced the public
/// suffix list (`_dmarc.co.uk` is asked and answers nothing). At most eight names.
pub fn dmarc_names(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    let deepest = labels.len().saturating_sub(1);
    (0..deepest)
        .map(|i| format!("_dmarc.{}", labels[i..].join(".")))
        .take(8)
        .collect()
}

/// Whether a TXT record is a DMARC record (`v=DMARC1`).
pub fn is_dmarc(record: &str) -> bool {
    has_version(record, "v=DMARC1")
}

/// Judges the lookups.
pub fn judge(l: &Lookups, now: DateTime<Utc>) -> DomainCheck {
    let spf = spf(&l.domain, &l.spf, &l.envelope);
    let dkim = dkim(
        &format!("{}._domainkey.{}", l.selector, l.domain),
        &l.dkim,
        &l.public_key,
    );
    let (dmarc, policy) = dmarc(&l.domain, &l.dmarc);
    let alignment = alignment(&l.domain, &dkim, &spf, policy.as_ref(), &l.envelope);
    let rules = [
        ("SPF", &spf),
        ("DKIM", &dkim),
        ("DMARC", &dmarc),
        ("alignment", &alignment),
    ];
    let failing: Vec<&str> = rules
        .iter()
        .filter(|(_, f)| f.verdict == Verdict::Fail)
        .map(|(n, _)| *n)
        .collect();
    let warning: Vec<&str> = rules
        .iter()
        .filter(|(_, f)| f.verdict == Verdict::Warn)
        .map(|(n, _)| *n)
        .collect();
    let (verdict, summary) = if !failing.is_empty() {
        (
            Verdict::Fail,
            format!(
                "Does not meet Gmail's, Yahoo's and Outlook.com's rules for bulk mail: see {}.",
                failing.join(", ")
            ),
        )
    } else if !warning.is_empty() {
        (
            Verdict::Warn,
            format!(
                "Meets the rules for bulk mail, with something to look at: {}.",
                warning.join(", ")
            ),
        )
    } else {
        (
            Verdict::Pass,
            "Meets Gmail's, Yahoo's and Outlook.com's rules for bulk mail.".into(),
        )
    };
    DomainCheck {
        checked_at: now,
        spf,
        dkim,
        dmarc,
        alignment,
        verdict,
        summary,
    }
}

fn finding(verdict: Verdict, name: &str, record: Option<&str>, detail: String) -> Finding {
    Finding {
        verdict,
        name: name.to_owned(),
        record: record.map(str::to_owned),
        detail,
    }
}

/// Records that start with `tag` (`v=spf1`, `v=DMARC1`), case-insensitively, followed by the
/// end, a space or a semicolon.
fn versioned<'a>(records: &'a [String], tag: &str) -> Vec<&'a str> {
    records
        .iter()
        .map(|r| r.trim())
        .filter(|r| has_version(r, tag))
        .collect()
}

fn has_version(record: &str, tag: &str) -> bool {
    let r = record.trim();
    r.len() >= tag.len()
        && r.is_char_boundary(tag.len())
        && r[..tag.len()].eq_ignore_ascii_case(tag)
        && r[tag.len()..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == ';')
}

fn spf(domain: &str, answer: &Answer, envelope: &EnvelopeSender) -> Finding {
    let records = match answer {
        Answer::Failed(e) => {
            return finding(
                Verdict::Fail,
                domain,
                None,
                format!("The lookup failed: {e}. Try again later."),
            );
        }
        Answer::Records(r) => r,
    };
    let spf = versioned(records, "v=spf1");
    let record = match spf.as_slice() {
        [] => {
            let hint = match envelope {
                EnvelopeSender::Provider(p) => format!("v=spf1 include:{p} ~all"),
                EnvelopeSender::FromAddress => "v=spf1 include:<your relay's domain> ~all".into(),
            };
            return finding(
                Verdict::Fail,
                domain,
                None,
                format!(
                    "No SPF record. Publish a TXT record at {domain} that lists the servers \
                     that send its mail, for example “{hint}”."
                ),
            );
        }
        [one] => *one,
        many => {
            return finding(
                Verdict::Fail,
                domain,
                Some(&many.join("\n")),
                format!(
                    "{} SPF records: receivers treat more than one as an error (RFC 7208 \
                     §4.5), so SPF fails for every message. Merge them into one.",
                    many.len()
                ),
            );
        }
    };
    let terms: Vec<String> = record
        .split_ascii_whitespace()
        .skip(1)
        .map(str::to_ascii_lowercase)
        .collect();
    let mechanism = |t: &str| t.trim_start_matches(['+', '-', '~', '?']).to_owned();
    // Mechanisms that cost a DNS lookup; receivers give up after ten (RFC 7208 §4.6.4). Only
    // this record's own are counted: included records add theirs.
    let lookups = terms
        .iter()
        .filter(|t| {
            let m = mechanism(t);
            let name = m.split([':', '/', '=']).next().unwrap_or_default();
            matches!(name, "include" | "a" | "mx" | "ptr" | "exists" | "redirect")
        })
        .count();
    let all = terms.iter().find(|t| mechanism(t) == "all");
    let redirect = terms.iter().any(|t| t.starts_with("redirect="));
    let includes_provider = match envelope {
        EnvelopeSender::Provider(p) => {
            Some(terms.iter().any(|t| mechanism(t) == format!("include:{p}")))
        }
        EnvelopeSender::FromAddress => None,
    };
    let (verdict, mut detail) = match all.map(String::as_str) {
        Some("+all" | "all") => (
            Verdict::Fail,
            "“+all” lets every server in the world send as the domain: receivers distrust it. \
             End the record with “~all” or “-all”."
                .to_owned(),
        ),
        Some("?all") => (
            Verdict::Warn,
            "“?all” says nothing about servers not listed. End the record with “~all” or \
             “-all”."
                .to_owned(),
        ),
        Some(_) => (Verdict::Pass, "Published.".to_owned()),
        None if redirect => (
            Verdict::Pass,
            "Published (the policy is at the redirect's domain).".to_owned(),
        ),
        None => (
            Verdict::Warn,
            "The record has no “all” at its end, so it says nothing about servers not listed. \
             End it with “~all” or “-all”."
                .to_owned(),
        ),
    };
    if lookups > 10 {
        return finding(
            Verdict::Fail,
            domain,
            Some(record),
            format!(
                "The record needs {lookups} DNS lookups of its own; receivers stop at 10 and \
                 SPF fails (RFC 7208 §4.6.4). Flatten some includes."
            ),
        );
    }
    if let (EnvelopeSender::Provider(p), Some(false)) = (envelope, includes_provider) {
        detail.push_str(&format!(
            " The provider sends with its own envelope address ({p}), whose SPF it \
             publishes itself; add “include:{p}” only if you set up a custom MAIL FROM domain."
        ));
    } else if *envelope == EnvelopeSender::FromAddress && verdict == Verdict::Pass {
        detail.push_str(
            " Herald does not evaluate the record against your relay's addresses: make sure it \
             lists them.",
        );
    }
    finding(verdict, domain, Some(record), detail)
}

/// The tags of a DKIM or DMARC record (`k=v; k=v`), names lower-cased, values trimmed.
pub fn tags(record: &str) -> Vec<(String, String)> {
    record
        .split(';')
        .filter_map(|t| {
            let (k, v) = t.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect()
}

fn tag<'a>(tags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn dkim(name: &str, answer: &Answer, public_key: &str) -> Finding {
    let records = match answer {
        Answer::Failed(e) => {
            return finding(
                Verdict::Fail,
                name,
                None,
                format!("The lookup failed: {e}. Try again later."),
            );
        }
        Answer::Records(r) => r,
    };
    let keys: Vec<&String> = records
        .iter()
        .filter(|r| tags(r).iter().any(|(k, _)| k == "p"))
        .collect();
    let publish = format!("Publish the TXT record shown above at {name}.");
    let Some(record) = keys.first() else {
        return finding(
            Verdict::Fail,
            name,
            records.first().map(String::as_str),
            format!(
                "No DKIM key is published, so receivers cannot verify Herald's signature. \
                 {publish}"
            ),
        );
    };
    if keys.len() > 1 {
        return finding(
            Verdict::Fail,
            name,
            Some(
                &keys
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            format!(
                "{} DKIM records at one name: keep only Herald's.",
                keys.len()
            ),
        );
    }
    let t = tags(record);
    let published: String = tag(&t, "p")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (verdict, detail) = if published.is_empty() {
        (
            Verdict::Fail,
            format!("The key is revoked (an empty “p=”). {publish}"),
        )
    } else if tag(&t, "k").is_some_and(|k| !k.eq_ignore_ascii_case("rsa")) {
        (
            Verdict::Fail,
            format!("The record names a key type other than RSA; Herald signs with RSA. {publish}"),
        )
    } else if published != public_key {
        (
            Verdict::Fail,
            format!(
                "A key is published, but not the one Herald signs with, so signatures fail. \
                 {publish}"
            ),
        )
    } else if tag(&t, "t").is_some_and(|f| f.split(':').any(|f| f.trim() == "y")) {
        (
            Verdict::Warn,
            "Herald's key is published, in test mode (“t=y”): some receivers treat \
             signatures as unsigned. Remove “t=y”."
                .to_owned(),
        )
    } else {
        (
            Verdict::Pass,
            "Herald's key is published: receivers can verify its signatures.".to_owned(),
        )
    };
    finding(verdict, name, Some(record), detail)
}

/// The DMARC policy that applies to the domain.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Policy {
    strict_dkim: bool,
    strict_spf: bool,
}

fn dmarc(domain: &str, walk: &[(String, Answer)]) -> (Finding, Option<Policy>) {
    let first = format!("_dmarc.{domain}");
    let publish = format!(
        "Gmail and Yahoo require a DMARC record from bulk senders. Publish a TXT record at \
         {first}, for example “v=DMARC1; p=none; rua=mailto:dmarc@{domain}”."
    );
    for (name, answer) in walk {
        let records = match answer {
            Answer::Failed(e) => {
                return (
                    finding(
                        Verdict::Fail,
                        name,
                        None,
                        format!("The lookup failed: {e}. Try again later."),
                    ),
                    None,
                );
            }
            Answer::Records(r) => r,
        };
        let found = versioned(records, "v=DMARC1");
        let record = match found.as_slice() {
            [] => continue,
            [one] => *one,
            many => {
                return (
                    finding(
                        Verdict::Fail,
                        name,
                        Some(&many.join("\n")),
                        format!(
                            "{} DMARC records at one name: receivers ignore them all. Keep one.",
                            many.len()
                        ),
                    ),
                    None,
                );
            }
        };
        let t = tags(record);
        let inherited = *name != first;
        // A parent's record applies to its subdomains through `sp=`, else through `p=`.
        let policy = if inherited {
            tag(&t, "sp").or(tag(&t, "p"))
        } else {
            tag(&t, "p")
        };
        let policy = policy.map(str::to_ascii_lowercase);
        let strict = |k: &str| tag(&t, k).is_some_and(|v| v.eq_ignore_ascii_case("s"));
        let p = Policy {
            strict_dkim: strict("adkim"),
            strict_spf: strict("aspf"),
        };
        let whence = if inherited {
            format!(" (inherited from {})", name.trim_start_matches("_dmarc."))
        } else {
            String::new()
        };
        let reports = if tag(&t, "rua").is_some() {
            ""
        } else {
            " Add “rua=mailto:…” to receive the providers' aggregate reports."
        };
        let (verdict, detail) = match policy.as_deref() {
            Some("none") => (
                Verdict::Pass,
                format!(
                    "Published{whence}, policy “none”: enough for Gmail's and Yahoo's rules; \
                     “quarantine” or “reject” also protects the domain from forgery.{reports}"
                ),
            ),
            Some("quarantine" | "reject") => (
                Verdict::Pass,
                format!(
                    "Published{whence}, policy “{}”.{reports}",
                    policy.as_deref().unwrap_or_default()
                ),
            ),
            Some(other) => (
                Verdict::Fail,
                format!(
                    "The policy “{other}” is not one of none, quarantine or reject: receivers \
                     ignore the record."
                ),
            ),
            None => (
                Verdict::Fail,
                "The record has no policy (“p=”): receivers ignore it.".to_owned(),
            ),
        };
        let ok = verdict != Verdict::Fail;
        return (
            finding(verdict, name, Some(record), detail),
            ok.then_some(p),
        );
    }
    (
        finding(
            Verdict::Fail,
            &first,
            None,
            format!("No DMARC record. {publish}"),
        ),
        None,
    )
}

fn alignment(
    domain: &str,
    dkim: &Finding,
    spf: &Finding,
    policy: Option<&Policy>,
    envelope: &EnvelopeSender,
) -> Finding {
    // Alignment is judged from the records above, not looked up.
    let name = "";
    // Herald signs with d=<the sending domain>: aligned with From addresses at the domain,
    // and (relaxed alignment) at its subdomains.
    let dkim_aligned = dkim.verdict != Verdict::Fail;
    let spf_aligned = *envelope == EnvelopeSender::FromAddress && spf.verdict != Verdict::Fail;
    let Some(policy) = policy else {
        return finding(
            Verdict::Fail,
            name,
            None,
            "Without a DMARC record there is nothing to align with.".into(),
        );
    };
    let spf_words = match envelope {
        EnvelopeSender::FromAddress if spf_aligned => {
            "SPF aligns too: the envelope sender is the From address."
        }
        EnvelopeSender::FromAddress => "SPF does not pass, so it does not align.",
        EnvelopeSender::Provider(_) => {
            "SPF does not align: the provider's envelope sender is its own domain (DKIM is \
             enough)."
        }
    };
    if dkim_aligned {
        let mut detail =
            format!("DKIM aligns: Herald signs as {domain}, the From domain. {spf_words}");
        let mut verdict = Verdict::Pass;
        if policy.strict_dkim {
            verdict = Verdict::Warn;
            detail.push_str(&format!(
                " The record asks for strict alignment (“adkim=s”): From addresses at \
                 subdomains of {domain} do not align."
            ));
        }
        finding(verdict, name, None, detail)
    } else if spf_aligned {
        let mut detail = "Only SPF aligns (the envelope sender is the From address): publish the DKIM key too, since forwarding breaks SPF.".to_owned();
        if policy.strict_spf {
            detail.push_str(" Strict SPF alignment (“aspf=s”) applies.");
        }
        finding(Verdict::Warn, name, None, detail)
    } else {
        finding(
            Verdict::Fail,
            name,
            None,
            format!(
                "Neither DKIM nor SPF passes for {domain}, so DMARC fails for every message. \
                 Publish the DKIM key."
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtest";

    fn records(r: &[&str]) -> Answer {
        Answer::Records(r.iter().map(|s| (*s).to_owned()).collect())
    }

    fn lookups(spf: Answer, dkim: Answer, dmarc: &[(&str, Answer)]) -> Lookups {
        Lookups {
            domain: "news.example.com".into(),
            selector: "herald".into(),
            public_key: KEY.into(),
            envelope: EnvelopeSender::FromAddress,
            spf,
            dkim,
            dmarc: dmarc
                .iter()
                .map(|(n, a)| ((*n).to_owned(), a.clone()))
                .collect(),
        }
    }

    fn good_dkim() -> Answer {
        records(&[&format!("v=DKIM1; k=rsa; p={KEY}")])
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn dmarc_names_walk_up_to_before_the_top_level_domain() {
        let cases: &[(&str, &[&str])] = &[
            ("example.com", &["_dmarc.example.com"]),
            (
                "a.b.example.co.uk",
                &[
                    "_dmarc.a.b.example.co.uk",
                    "_dmarc.b.example.co.uk",
                    "_dmarc.example.co.uk",
                    "_dmarc.co.uk",
                ],
            ),
            ("localhost", &[]),
        ];
        for (domain, want) in cases {
            assert_eq!(dmarc_names(domain), *want, "{domain}");
        }
        assert_eq!(dmarc_names(&"a.".repeat(20).to_string()).len(), 8);
    }

    #[test]
    fn spf_records_are_judged() {
        let cases: &[(&[&str], Verdict, &str)] = &[
            (&[], Verdict::Fail, "No SPF record"),
            (
                &["google-site-verification=abc"],
                Verdict::Fail,
                "No SPF record",
            ),
            (
                &["v=spf1 include:_spf.example.net ~all"],
                Verdict::Pass,
                "Published",
            ),
            (&["V=SPF1 ip4:192.0.2.1 -all"], Verdict::Pass, "Published"),
            (
                &["v=spf1 redirect=_spf.example.net"],
                Verdict::Pass,
                "redirect",
            ),
            (&["v=spf1 +all"], Verdict::Fail, "every server"),
            (&["v=spf1 a mx ?all"], Verdict::Warn, "?all"),
            (&["v=spf1 a mx"], Verdict::Warn, "no “all”"),
            (
                &["v=spf1 -all", "v=spf1 include:x.example ~all"],
                Verdict::Fail,
                "2 SPF records",
            ),
            // "v=spf10" is not an SPF record.
            (&["v=spf10 -all"], Verdict::Fail, "No SPF record"),
            (
                &[
                    "v=spf1 include:a.example include:b.example include:c.example a mx ptr \
                   exists:d.example include:e.example include:f.example include:g.example \
                   a:h.example ~all",
                ],
                Verdict::Fail,
                "11 DNS lookups",
            ),
            (
                &["v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 all:x include:a.example -all"],
                Verdict::Pass,
                "Published",
            ),
        ];
        for (r, verdict, words) in cases {
            let f = spf("example.com", &records(r), &EnvelopeSender::FromAddress);
            assert_eq!(f.verdict, *verdict, "{r:?}: {}", f.detail);
            assert!(f.detail.contains(words), "{r:?}: {}", f.detail);
        }
        let failed = spf(
            "example.com",
            &Answer::Failed("timed out".into()),
            &EnvelopeSender::FromAddress,
        );
        assert_eq!(failed.verdict, Verdict::Fail);
        assert!(failed.detail.contains("timed out"));
        let ses = spf(
            "example.com",
            &records(&["v=spf1 -all"]),
            &EnvelopeSender::Provider("amazonses.com".into()),
        );
        assert_eq!(ses.verdict, Verdict::Pass);
        assert!(
            ses.detail.contains("its own envelope address"),
            "{}",
            ses.detail
        );
    }

    #[test]
    fn dkim_records_are_judged() {
        let n = "herald._domainkey.example.com";
        let cases: &[(Answer, Verdict, &str)] = &[
            (good_dkim(), Verdict::Pass, "Herald's key is published"),
            (
                // Whitespace inside p= (a record split over several strings) is ignored.
                records(&[&format!("v=DKIM1; k=rsa; p={} {}", &KEY[..10], &KEY[10..])]),
                Verdict::Pass,
                "published",
            ),
            (records(&[]), Verdict::Fail, "No DKIM key"),
            (records(&["v=DKIM1; k=rsa; p="]), Verdict::Fail, "revoked"),
            (
                records(&["v=DKIM1; k=rsa; p=MIIBother"]),
                Verdict::Fail,
                "not the one",
            ),
            (
                records(&[&format!("v=DKIM1; k=ed25519; p={KEY}")]),
                Verdict::Fail,
                "other than RSA",
            ),
            (
                records(&[&format!("v=DKIM1; t=y; p={KEY}")]),
                Verdict::Warn,
                "test mode",
            ),
            (
                records(&[&format!("p={KEY}"), "v=DKIM1; p=MIIBold"]),
                Verdict::Fail,
                "2 DKIM records",
            ),
            (Answer::Failed("SERVFAIL".into()), Verdict::Fail, "SERVFAIL"),
        ];
        for (a, verdict, words) in cases {
            let f = dkim(n, a, KEY);
            assert_eq!(f.verdict, *verdict, "{a:?}: {}", f.detail);
            assert!(f.detail.contains(words), "{a:?}: {}", f.detail);
        }
    }

    #[test]
    fn dmarc_records_are_found_on_the_walk_and_judged() {
        let none = || records(&[]);
        type Walk = Vec<(&'static str, Answer)>;
        let cases: Vec<(Walk, Verdict, &str)> = vec![
            (
                vec![(
                    "_dmarc.news.example.com",
                    records(&["v=DMARC1; p=none; rua=mailto:d@example.com"]),
                )],
                Verdict::Pass,
                "policy “none”",
            ),
            (
                vec![
                    ("_dmarc.news.example.com", none()),
                    (
                        "_dmarc.example.com",
                        records(&["v=DMARC1; p=reject; sp=quarantine; rua=mailto:x@example.com"]),
                    ),
                ],
                Verdict::Pass,
                "inherited from example.com), policy “quarantine”",
            ),
            (
                vec![
                    ("_dmarc.news.example.com", none()),
                    ("_dmarc.example.com", none()),
                ],
                Verdict::Fail,
                "No DMARC record",
            ),
            (
                vec![(
                    "_dmarc.news.example.com",
                    records(&["v=DMARC1; rua=mailto:x@example.com"]),
                )],
                Verdict::Fail,
                "no policy",
            ),
            (
                vec![("_dmarc.news.example.com", records(&["v=DMARC1; p=maybe"]))],
                Verdict::Fail,
                "not one of",
            ),
            (
                vec![(
                    "_dmarc.news.example.com",
                    records(&["v=DMARC1; p=none", "v=DMARC1; p=reject"]),
                )],
                Verdict::Fail,
                "2 DMARC records",
            ),
            (
                vec![("_dmarc.news.example.com", records(&["v=DMARC1; p=reject"]))],
                Verdict::Pass,
                "aggregate reports",
            ),
            (
                vec![(
                    "_dmarc.news.example.com",
                    Answer::Failed("timed out".into()),
                )],
                Verdict::Fail,
                "timed out",
            ),
        ];
        for (walk, verdict, words) in cases {
            let walk: Vec<(String, Answer)> =
                walk.into_iter().map(|(n, a)| (n.to_owned(), a)).collect();
            let (f, _) = dmarc("news.example.com", &walk);
            assert_eq!(f.verdict, verdict, "{walk:?}: {}", f.detail);
            assert!(f.detail.contains(words), "{walk:?}: {}", f.detail);
        }
    }

    #[test]
    fn a_domain_meets_the_rules_only_with_all_three_records_aligned() {
        let spf_ok = || records(&["v=spf1 include:relay.example ~all"]);
        let dmarc_ok = || records(&["v=DMARC1; p=none; rua=mailto:d@example.com"]);
        let at = "_dmarc.news.example.com";
        let all = judge(&lookups(spf_ok(), good_dkim(), &[(at, dmarc_ok())]), now());
        assert_eq!(all.verdict, Verdict::Pass, "{all:#?}");
        assert_eq!(all.checked_at, now());
        assert!(all.alignment.detail.contains("SPF aligns too"));

        let no_dmarc = judge(
            &lookups(spf_ok(), good_dkim(), &[(at, records(&[]))]),
            now(),
        );
        assert_eq!(no_dmarc.verdict, Verdict::Fail);
        assert!(
            no_dmarc.summary.contains("DMARC, alignment"),
            "{}",
            no_dmarc.summary
        );

        let wrong_key = judge(
            &lookups(
                spf_ok(),
                records(&["v=DKIM1; p=MIIBother"]),
                &[(at, dmarc_ok())],
            ),
            now(),
        );
        assert_eq!(wrong_key.verdict, Verdict::Fail);
        // SPF still aligns through the From address: a warning, not a failure, on alignment.
        assert_eq!(wrong_key.alignment.verdict, Verdict::Warn);
        assert!(wrong_key.summary.contains("DKIM"), "{}", wrong_key.summary);

        let mut ses = lookups(records(&[]), records(&["p=MIIBother"]), &[(at, dmarc_ok())]);
        ses.envelope = EnvelopeSender::Provider("amazonses.com".into());
        let ses = judge(&ses, now());
        assert_eq!(ses.alignment.verdict, Verdict::Fail, "{:#?}", ses.alignment);

        let strict = judge(
            &lookups(
                spf_ok(),
                good_dkim(),
                &[(
                    at,
                    records(&["v=DMARC1; p=reject; adkim=s; rua=mailto:d@example.com"]),
                )],
            ),
            now(),
        );
        assert_eq!(strict.verdict, Verdict::Warn);
        assert!(strict.alignment.detail.contains("adkim=s"));
        assert!(strict.summary.contains("alignment"));
    }
}
