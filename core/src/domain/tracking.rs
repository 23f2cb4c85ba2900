//! Tracking rules, free of the web and the database: which links of a message's HTML are
//! tracked and how they are rewritten, where the open pixel goes, and which opens and clicks look
//! like a machine's (flagged, never dropped: reports show both figures).

use super::{HitKind, Machine};

/// Longest URL that is rewritten; a longer one is left as it is (and not tracked).
pub const MAX_URL: usize = 2000;

/// Decodes the character references an attribute value may hold (`&amp;`, `&#x2f;`, `&#47;`,
/// `&quot;`, …); an unknown reference stays as written.
pub fn unescape_attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[..rest.len().min(12)].find(';');
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                _ => {
                    let n = if let Some(hex) =
                        name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = name.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    n.and_then(char::from_u32)
                }
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes a value for a double-quoted attribute.
pub fn escape_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Whether a link is one tracking may rewrite: an absolute http(s) URL of sensible length
/// (not `mailto:`, `tel:`, an anchor, a relative path or a template's leftover braces).
pub fn trackable(url: &str) -> bool {
    let lower = url
        .trim_start()
        .get(..8)
        .unwrap_or(url)
        .to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && url.len() <= MAX_URL
        && !url.contains("{{")
        && !url.chars().any(|c| c.is_control() || c == ' ')
}

/// The `href` attribute of one `<a …>` tag: where its value starts and ends in the tag and
/// the value as written. `None` when the tag has none or opts out (`data-notrack`).
fn href_of(tag: &str) -> Option<(usize, usize)> {
    let lower = tag.to_ascii_lowercase();
    if lower.contains("data-notrack") {
        return None;
    }
    let bytes = lower.as_bytes();
    let mut i = 2; // after "<a"
    while i < bytes.len() {
        // Attribute name.
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        let name = &lower[name_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            if i >= bytes.len() || bytes[i] == b'>' || name.is_empty() {
                return None;
            }
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let (start, end) = match bytes.get(i) {
            Some(q @ (b'"' | b'\'')) => {
                let close = lower[i + 1..].find(*q as char)? + i + 1;
                (i + 1, close)
            }
            Some(_) => {
                let mut e = i;
                while e < bytes.len() && !bytes[e].is_ascii_whitespace() && bytes[e] != b'>' {
                    e += 1;
                }
                (i, e)
            }
            None => return None,
        };
        if name == "href" {
            return Some((start, end));
        }
        i = end + 1;
    }
    None
}

/// Rewrites the tracked links of `html`: for each `<a>` whose `href` is [`trackable`],
/// `track(url)` (the URL decoded from the attribute) answers the URL to put in its place, or
/// `None` to leave it. Everything else is kept byte for byte.
pub fn rewrite_links(html: &str, mut track: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let lower = html.to_ascii_lowercase();
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find("<a") {
        let at = from + found;
        from = at + 2;
        // `<a` followed by a space: not `<abbr>` or `<area>`.
        if !lower[at + 2..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            continue;
        }
        let Some(close) = find_tag_end(&html[at..]) else {
            break;
        };
        let tag = &html[at..at + close];
        from = at + close;
        let Some((start, end)) = href_of(tag) else {
            continue;
        };
        let url = unescape_attr(tag[start..end].trim());
        if !trackable(&url) {
            continue;
        }
        if let Some(tracked) = track(&url) {
            let quoted = tag[..start].ends_with(['"', '\'']);
            out.push_str(&html[copied..at + start]);
            if quoted {
                out.push_str(&escape_attr(&tracked));
            } else {
                out.push('"');
                out.push_str(&escape_attr(&tracked));
                out.push('"');
            }
            copied = at + end;
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// Where a tag that starts at 0 ends (after its `>`), quotes respected.
fn find_tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The HTML with the open pixel at the end of its body.
pub fn add_pixel(html: &str, pixel_url: &str) -> String {
    let img = format!(
        "<img src=\"{}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">",
        escape_attr(pixel_url)
    );
    let lower = html.to_ascii_lowercase();
    match lower.rfind("</body>") {
        Some(at) => format!("{}{img}{}", &html[..at], &html[at..]),
        None => format!("{html}{img}"),
    }
}

/// What is known of one hit when it is classified.
#[derive(Clone, Debug, Default)]
pub struct Hit<'a> {
    pub head: bool,
    pub user_agent: &'a str,
    pub ip: Option<std::net::IpAddr>,
    /// Seconds from the message being handed over to the hit (`None`: not known).
    pub since_sent: Option<i64>,
}

/// A click this soon after the message left is a security gateway's, not a person's.
pub const SCANNER_SECONDS: i64 = 10;
/// An image proxy fetching this soon after the message left is prefetching it.
pub const PREFETCH_SECONDS: i64 = 60;

/// User-agent fragments of security scanners, link checkers and programs.
const SCANNERS: [&str; 22] = [
    "barracuda",
    "mimecast",
    "proofpoint",
    "symantec",
    "trendmicro",
    "trend micro",
    "forcepoint",
    "fireeye",
    "sophos",
    "ironport",
    "safelinks",
    "urldefense",
    "bot",
    "crawler",
    "spider",
    "scanner",
    "curl/",
    "wget/",
    "python-",
    "go-http-client",
    "java/",
    "headless",
];

/// Image proxies of mail providers.
const PROXIES: [&str; 4] = [
    "googleimageproxy",
    "yahoomailproxy",
    "ymailproxy",
    "via ggpht.com",
];

/// Whether Apple's proxy made the request: its own address range (17.0.0.0/8) or the bare
/// "Mozilla/5.0" it sends.
fn apple(hit: &Hit) -> bool {
    let apple_ip = matches!(hit.ip, Some(std::net::IpAddr::V4(v4)) if v4.octets()[0] == 17);
    apple_ip || hit.user_agent.trim() == "Mozilla/5.0"
}

/// Why `hit` looks like a machine's, or `None` when it looks like the recipient's.
pub fn classify(kind: HitKind, hit: &Hit) -> Option<Machine> {
    let ua = hit.user_agent.to_ascii_lowercase();
    if hit.head {
        return Some(Machine::Head);
    }
    if SCANNERS.iter().any(|s| ua.contains(s)) {
        return Some(Machine::Scanner);
    }
    match kind {
        HitKind::Open => {
            if apple(hit) {
                Some(Machine::AppleProxy)
            } else if PROXIES.iter().any(|p| ua.contains(p))
                && hit.since_sent.is_some_and(|s| s < PREFETCH_SECONDS)
            {
                Some(Machine::ImageProxy)
            } else {
                None
            }
        }
        HitKind::Click | HitKind::View => {
            if ua.trim().is_empty() {
                Some(Machine::Scanner)
            } else if hit.since_sent.is_some_and(|s| s < SCANNER_SECONDS) {
                Some(Machine::TooFast)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track_all(html: &str) -> (String, Vec<String>) {
        let mut seen = Vec::new();
        let out = rewrite_links(html, |url| {
            seen.push(url.to_owned());
            Some(format!("https://h.example/c/{}", seen.len()))
        });
        (out, seen)
    }

    #[test]
    fn links_are_rewritten_and_everything_else_kept() {
        let table: [(&str, &str, &[&str]); 14] = [
            (
                "<p><a href=\"https://a.example/x?y=1&amp;z=2\">A</a></p>",
                "<p><a href=\"https://h.example/c/1\">A</a></p>",
                &["https://a.example/x?y=1&z=2"],
            ),
            (
                "<A HREF='https:&#x2f;&#x2f;b.example&#x2f;p'>B</A>",
                "<A HREF='https://h.example/c/1'>B</A>",
                &["https://b.example/p"],
            ),
            (
                "<a class=\"btn\" title=\"x>y\" href=https://c.example>C</a>",
                "<a class=\"btn\" title=\"x>y\" href=\"https://h.example/c/1\">C</a>",
                &["https://c.example"],
            ),
            (
                "<a href=\"mailto:x@y.example\">m</a>",
                "<a href=\"mailto:x@y.example\">m</a>",
                &[],
            ),
            (
                "<a href=\"tel:+441\">t</a>",
                "<a href=\"tel:+441\">t</a>",
                &[],
            ),
            ("<a href=\"#top\">top</a>", "<a href=\"#top\">top</a>", &[]),
            (
                "<a href=\"/relative\">r</a>",
                "<a href=\"/relative\">r</a>",
                &[],
            ),
            (
                "<a name=\"x\">no href</a>",
                "<a name=\"x\">no href</a>",
                &[],
            ),
            (
                "<a data-notrack href=\"https://d.example\">d</a>",
                "<a data-notrack href=\"https://d.example\">d</a>",
                &[],
            ),
            (
                "<abbr title=\"https://e.example\">e</abbr>",
                "<abbr title=\"https://e.example\">e</abbr>",
                &[],
            ),
            (
                "<area href=\"https://f.example\">",
                "<area href=\"https://f.example\">",
                &[],
            ),
            (
                "<a href=\"javascript:alert(1)\">j</a>",
                "<a href=\"javascript:alert(1)\">j</a>",
                &[],
            ),
            (
                "<a href=\"https://g.example",
                "<a href=\"https://g.example",
                &[],
            ),
            (
                "x <a\nhref=\"https://h1.example\">1</a> <a href=\"https://h2.example\">2</a>",
                "x <a\nhref=\"https://h.example/c/1\">1</a> <a href=\"https://h.example/c/2\">2</a>",
                &["https://h1.example", "https://h2.example"],
            ),
        ];
        for (html, want, urls) in table {
            let (out, seen) = track_all(html);
            assert_eq!(out, want, "{html}");
            assert_eq!(seen, urls, "{html}");
        }
    }

    #[test]
    fn the_tracking_url_is_escaped_and_a_refusal_leaves_the_link() {
        let out = rewrite_links("<a href=\"https://a.example\">A</a>", |_| {
            Some("https://h.example/c/\"x<y>&".into())
        });
        assert_eq!(
            out,
            "<a href=\"https://h.example/c/&quot;x&lt;y&gt;&amp;\">A</a>"
        );
        let out = rewrite_links("<a href=\"https://a.example\">A</a>", |_| None);
        assert_eq!(out, "<a href=\"https://a.example\">A</a>");
    }

    #[test]
    fn trackable_links() {
        for (url, ok) in [
            ("https://a.example/", true),
            ("HTTP://A.EXAMPLE", true),
            ("https://a.example/{{ x }}", false),
            ("https://a.example/a b", false),
            ("ftp://a.example", false),
            ("//a.example", false),
            ("data:text/html,x", false),
        ] {
            assert_eq!(trackable(url), ok, "{url}");
        }
        assert!(!trackable(&format!(
            "https://a.example/{}",
            "x".repeat(MAX_URL)
        )));
    }

    #[test]
    fn entities_decode() {
        for (raw, want) in [
            ("a&amp;b", "a&b"),
            ("&#x2f;&#47;&#X2F;", "///"),
            ("&quot;&apos;&lt;&gt;", "\"'<>"),
            ("&unknown; & &#xZZ;", "&unknown; & &#xZZ;"),
            ("&#1114112;", "&#1114112;"),
        ] {
            assert_eq!(unescape_attr(raw), want, "{raw}");
        }
    }

    #[test]
    fn the_pixel_goes_before_the_end_of_the_body() {
        let out = add_pixel(
            "<html><body><p>x</p></BODY></html>",
            "https://h.example/o/T",
        );
        assert!(out.starts_with("<html><body><p>x</p><img src=\"https://h.example/o/T\""));
        assert!(out.ends_with("</BODY></html>"));
        assert!(add_pixel("<p>x</p>", "u").starts_with("<p>x</p><img src=\"u\""));
    }

    #[test]
    fn machines_are_recognised() {
        let apple: std::net::IpAddr = "17.58.1.2".parse().unwrap();
        let home: std::net::IpAddr = "81.2.69.160".parse().unwrap();
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0";
        let gmail = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
        let hit = |head, ua, ip, since| Hit {
            head,
            user_agent: ua,
            ip: Some(ip),
            since_sent: since,
        };
        use HitKind::*;
        let table = [
            (Open, hit(false, chrome, home, Some(3600)), None),
            (
                Open,
                hit(false, chrome, apple, Some(3600)),
                Some(Machine::AppleProxy),
            ),
            (
                Open,
                hit(false, "Mozilla/5.0", home, Some(5)),
                Some(Machine::AppleProxy),
            ),
            (
                Open,
                hit(false, gmail, home, Some(20)),
                Some(Machine::ImageProxy),
            ),
            (Open, hit(false, gmail, home, Some(7200)), None),
            (
                Open,
                hit(true, chrome, home, Some(7200)),
                Some(Machine::Head),
            ),
            (
                Click,
                hit(false, chrome, home, Some(3)),
                Some(Machine::TooFast),
            ),
            (Click, hit(false, chrome, home, Some(30)), None),
            (Click, hit(false, chrome, home, None), None),
            (
                Click,
                hit(false, "Mimecast Safe Links", home, Some(3600)),
                Some(Machine::Scanner),
            ),
            (
                Click,
                hit(false, "python-requests/2.31", home, Some(3600)),
                Some(Machine::Scanner),
            ),
            (
                Click,
                hit(false, "", home, Some(3600)),
                Some(Machine::Scanner),
            ),
            (
                Click,
                hit(true, chrome, home, Some(3600)),
                Some(Machine::Head),
            ),
            (
                Open,
                hit(false, "Barracuda Sentinel", home, Some(3600)),
                Some(Machine::Scanner),
            ),
        ];
        for (i, (kind, hit, want)) in table.iter().enumerate() {
            assert_eq!(classify(*kind, hit), *want, "row {i}: {:?}", hit.user_agent);
        }
    }
}
