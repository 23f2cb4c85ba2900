//! Email addresses, parsed once at the edge: past it, an [`EmailAddress`] is always valid and
//! normalised (trimmed, domain lower-cased).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("the email address is empty")]
    Empty,
    #[error("the email address is too long (at most 254 characters)")]
    TooLong,
    #[error("the email address needs exactly one @")]
    At,
    #[error("the part before the @ is not valid")]
    Local,
    #[error("the domain after the @ is not valid")]
    Domain,
}

const LOCAL_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let s = input.trim();
        if s.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        if s.len() > 254 {
            return Err(InvalidEmail::TooLong);
        }
        let (local, domain) = match s.split('@').collect::<Vec<_>>()[..] {
            [local, domain] => (local, domain),
            _ => return Err(InvalidEmail::At),
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c) || !c.is_ascii());
        if !local_ok {
            return Err(InvalidEmail::Local);
        }
        let domain = domain.to_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if !domain_ok {
            return Err(InvalidEmail::Domain);
        }
        Ok(EmailAddress(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = InvalidEmail;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        EmailAddress::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let table = [
            ("ada@example.com", "ada@example.com"),
            ("  Ada.Lovelace@Example.COM ", "Ada.Lovelace@example.com"),
            ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
            ("jose@ejemplo.españa", "jose@ejemplo.españa"),
        ];
        for (input, expected) in table {
            assert_eq!(
                EmailAddress::parse(input).unwrap().as_str(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_with_a_reason() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let too_long = format!("{}@{}.com", "a".repeat(60), "b".repeat(200));
        let table: Vec<(&str, InvalidEmail)> = vec![
            ("", InvalidEmail::Empty),
            ("   ", InvalidEmail::Empty),
            ("plainaddress", InvalidEmail::At),
            ("a@b@example.com", InvalidEmail::At),
            ("@example.com", InvalidEmail::Local),
            (".ada@example.com", InvalidEmail::Local),
            ("ada.@example.com", InvalidEmail::Local),
            ("a..b@example.com", InvalidEmail::Local),
            ("a b@example.com", InvalidEmail::Local),
            ("a<b>@example.com", InvalidEmail::Local),
            (&long_local, InvalidEmail::Local),
            ("ada@", InvalidEmail::Domain),
            ("ada@localhost", InvalidEmail::Domain),
            ("ada@example..com", InvalidEmail::Domain),
            ("ada@-example.com", InvalidEmail::Domain),
            ("ada@example.c", InvalidEmail::Domain),
            ("ada@127.0.0.1", InvalidEmail::Domain),
            ("ada@exa_mple.com", InvalidEmail::Domain),
            (&too_long, InvalidEmail::TooLong),
        ];
        for (input, reason) in table {
            assert_eq!(EmailAddress::parse(input), Err(reason), "{input:?}");
        }
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<EmailAddress>("\"not-an-address\"").is_err());
        let ok: EmailAddress = serde_json::from_str("\"A@EXAMPLE.org\"").unwrap();
        assert_eq!(ok.domain(), "example.org");
    }
}
