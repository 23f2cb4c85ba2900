//! Tracking: the signed tokens of the open pixel (`/o/…`), click redirects (`/c/…`) and the
//! view in the browser (`/v/…`); the links of each campaign's messages, rewritten at render time
//! and kept in Herald's own store (a click redirects only to a link Herald sent); and the
//! [`recorder`] that takes hits off the request path into batched writes.
//!
//! A token names a message (and for a click a link of its campaign), never an address or a
//! contact: `key id (2) | kind (1) | message id (8) | [link id (8)] | HMAC-SHA256 (16)`, in
//! URL-safe base64. The key id lets a replaced key keep verifying the tokens it signed.

pub mod recorder;
pub mod view;

use crate::entity::link;
use crate::secret::SecretKey;
use crate::{Result, Settings};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::collections::HashMap;

pub use crate::domain::HitKind;

const PURPOSE: &[u8] = b"herald.track.v1:";
const TAG: usize = 16;

fn kind_byte(kind: HitKind) -> u8 {
    match kind {
        HitKind::Open => b'o',
        HitKind::Click => b'c',
        HitKind::View => b'v',
    }
}

/// What a genuine token names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracked {
    pub message_id: i64,
    /// Set for clicks.
    pub link_id: Option<i64>,
}

/// The token of a `kind` URL of message `message_id` (`link_id` for clicks).
pub fn sign(key: &SecretKey, kind: HitKind, message_id: i64, link_id: Option<i64>) -> String {
    let mut body = Vec::with_capacity(19);
    body.extend_from_slice(&key.id().to_be_bytes());
    body.push(kind_byte(kind));
    body.extend_from_slice(&message_id.to_be_bytes());
    if let Some(link) = link_id {
        body.extend_from_slice(&link.to_be_bytes());
    }
    let tag = key.sign(&[PURPOSE, &body].concat());
    body.extend_from_slice(&tag[..TAG]);
    URL_SAFE_NO_PAD.encode(body)
}

/// What `token` names, when one of `keys` signed it for `kind`. Anything else (another kind's
/// token, a changed character, an unknown key, a length no token has) is `None`.
pub fn read<'a>(
    keys: impl IntoIterator<Item = &'a SecretKey>,
    kind: HitKind,
    token: &str,
) -> Option<Tracked> {
    let with_link = kind == HitKind::Click;
    let len = 2 + 1 + 8 + if with_link { 8 } else { 0 } + TAG;
    if token.len() != (len * 4).div_ceil(3) {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() != len || bytes[2] != kind_byte(kind) {
        return None;
    }
    let (body, tag) = bytes.split_at(len - TAG);
    let id = u16::from_be_bytes([body[0], body[1]]);
    let key = keys.into_iter().find(|k| k.id() == id)?;
    if !key.verify_truncated(&[PURPOSE, body].concat(), tag) {
        return None;
    }
    let message_id = i64::from_be_bytes(body[3..11].try_into().ok()?);
    let link_id = if with_link {
        Some(i64::from_be_bytes(body[11..19].try_into().ok()?))
    } else {
        None
    };
    (message_id > 0 && link_id.is_none_or(|l| l > 0)).then_some(Tracked {
        message_id,
        link_id,
    })
}

/// The keys tokens are checked with: the current one, then the previous ones.
pub fn keys(s: &Settings) -> impl Iterator<Item = &SecretKey> {
    std::iter::once(&s.secret_key).chain(s.previous_keys.iter())
}

/// A URL's key in the link store.
fn url_key(url: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(url.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The ids of `urls` among campaign `campaign_id`'s links, stored when new.
pub async fn link_ids(
    db: &impl ConnectionTrait,
    org_id: i64,
    campaign_id: i64,
    urls: &[String],
) -> Result<HashMap<String, i64>> {
    if urls.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: HashMap<String, &String> = urls.iter().map(|u| (url_key(u), u)).collect();
    link::Entity::insert_many(keys.iter().map(|(key, url)| link::ActiveModel {
        org_id: Set(org_id),
        campaign_id: Set(campaign_id),
        url: Set((*url).clone()),
        url_key: Set(key.clone()),
        ..Default::default()
    }))
    .on_conflict_do_nothing_on([link::Column::CampaignId, link::Column::UrlKey])
    .exec_without_returning(db)
    .await?;
    Ok(link::Entity::find()
        .filter(link::Column::CampaignId.eq(campaign_id))
        .filter(link::Column::UrlKey.is_in(keys.keys().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.url, l.id))
        .collect())
}

/// Where tracking URLs point and what they are signed with.
pub struct Urls<'a> {
    pub public_url: &'a str,
    pub key: &'a SecretKey,
}

impl Urls<'_> {
    pub fn open(&self, message_id: i64) -> String {
        format!(
            "{}/o/{}",
            self.public_url,
            sign(self.key, HitKind::Open, message_id, None)
        )
    }
    pub fn click(&self, message_id: i64, link_id: i64) -> String {
        format!(
            "{}/c/{}",
            self.public_url,
            sign(self.key, HitKind::Click, message_id, Some(link_id))
        )
    }
    pub fn view(&self, message_id: i64) -> String {
        format!(
            "{}/v/{}",
            self.public_url,
            sign(self.key, HitKind::View, message_id, None)
        )
    }

    /// Whether `url` is one of Herald's own (unsubscribe, view in the browser, tracking):
    /// never wrapped in a click URL.
    fn own(&self, url: &str) -> bool {
        url.strip_prefix(self.public_url).is_some_and(|rest| {
            ["/u/", "/v/", "/o/", "/c/"]
                .iter()
                .any(|p| rest.starts_with(p))
        })
    }
}

/// `html` with its links rewritten to click URLs of message `message_id` and the open pixel
/// added. `links` caches the campaign's link ids across the messages of a batch.
pub async fn track_html(
    db: &impl ConnectionTrait,
    urls: &Urls<'_>,
    org_id: i64,
    campaign_id: i64,
    message_id: i64,
    links: &mut HashMap<String, i64>,
    html: &str,
) -> Result<String> {
    if html.trim().is_empty() {
        return Ok(String::new());
    }
    let html = track_links(db, urls, org_id, campaign_id, message_id, links, html).await?;
    Ok(crate::domain::tracking::add_pixel(
        &html,
        &urls.open(message_id),
    ))
}

/// `html` with its links rewritten to click URLs of message `message_id`.
pub async fn track_links(
    db: &impl ConnectionTrait,
    urls: &Urls<'_>,
    org_id: i64,
    campaign_id: i64,
    message_id: i64,
    links: &mut HashMap<String, i64>,
    html: &str,
) -> Result<String> {
    if html.trim().is_empty() {
        return Ok(String::new());
    }
    let mut wanted = Vec::new();
    crate::domain::tracking::rewrite_links(html, |url| {
        if !urls.own(url) && !links.contains_key(url) {
            wanted.push(url.to_owned());
        }
        None
    });
    if !wanted.is_empty() {
        links.extend(link_ids(db, org_id, campaign_id, &wanted).await?);
    }
    Ok(crate::domain::tracking::rewrite_links(html, |url| {
        if urls.own(url) {
            return None;
        }
        links.get(url).map(|id| urls.click(message_id, *id))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> SecretKey {
        SecretKey::from_text(&c.to_string().repeat(40)).unwrap()
    }

    #[test]
    fn tokens_name_a_message_and_refuse_everything_else() {
        let (k, old, stranger) = (key('k'), key('o'), key('s'));
        let open = sign(&k, HitKind::Open, 42, None);
        let click = sign(&k, HitKind::Click, 42, Some(7));
        assert!(open.len() <= 36 && click.len() <= 47, "{open} {click}");
        assert_eq!(
            read([&k], HitKind::Open, &open),
            Some(Tracked {
                message_id: 42,
                link_id: None
            })
        );
        assert_eq!(
            read([&k], HitKind::Click, &click),
            Some(Tracked {
                message_id: 42,
                link_id: Some(7)
            })
        );
        // A token of a key since replaced still reads when that key is given.
        let before = sign(&old, HitKind::Click, 9, Some(3));
        assert_eq!(read([&k], HitKind::Click, &before), None);
        assert_eq!(
            read([&k, &old], HitKind::Click, &before),
            Some(Tracked {
                message_id: 9,
                link_id: Some(3)
            })
        );
        let mut flipped = click.clone().into_bytes();
        let at = flipped.len() / 2;
        flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let table = [
            (
                "another key",
                HitKind::Click,
                sign(&stranger, HitKind::Click, 42, Some(7)),
            ),
            ("an open token as a click", HitKind::Click, open.clone()),
            ("a click token as an open", HitKind::Open, click.clone()),
            (
                "a view token as an open",
                HitKind::Open,
                sign(&k, HitKind::View, 42, None),
            ),
            ("a changed character", HitKind::Click, flipped),
            (
                "cut short",
                HitKind::Click,
                click[..click.len() - 1].to_owned(),
            ),
            ("one more", HitKind::Click, format!("{click}A")),
            ("padding", HitKind::Open, format!("{open}==")),
            (
                "standard base64",
                HitKind::Click,
                click.replace('-', "+").replace('_', "/"),
            ),
            ("empty", HitKind::Open, String::new()),
            ("dots", HitKind::Open, "..%2f..%2fetc%2fpasswd".into()),
            ("huge", HitKind::Open, "A".repeat(100_000)),
            (
                "negative id",
                HitKind::Open,
                sign(&k, HitKind::Open, -5, None),
            ),
            (
                "zero link",
                HitKind::Click,
                sign(&k, HitKind::Click, 5, Some(0)),
            ),
        ];
        for (name, kind, token) in table {
            if name == "standard base64" && token == click {
                continue; // nothing to change in this token
            }
            assert_eq!(read([&k, &old], kind, &token), None, "{name}: {token}");
        }
    }
}
