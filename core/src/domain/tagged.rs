//! Reading internally tagged enums (`{"filter": "created", "within": ...}`) so that errors name
//! the field. serde reads such enums through a buffer that loses track of where it is, so a bad
//! date deep inside says only "input contains invalid characters". Each such enum here gets an
//! externally tagged twin (`{"created": {"within": ...}}`) that serde reads with full paths;
//! [`read`] turns one form into the other and prefixes errors with the field they are about
//! (`within.amount: invalid value...`), which callers join into a full path.

use serde::de::{DeserializeOwned, Error};
use serde_json::{Map, Value};

/// Joins a field path and a message that may start with a deeper field: `of[1]` +
/// `within.amount: bad` → `of[1].within.amount: bad`.
pub fn join(field: &str, message: &str) -> String {
    match lead(message) {
        Some((inner, rest)) if field.is_empty() => format!("{inner}: {rest}"),
        Some((inner, rest)) => format!("{field}.{inner}: {rest}"),
        None if field.is_empty() => message.to_owned(),
        None => format!("{field}: {message}"),
    }
}

/// The field a message starts with, if any: `within.amount: bad` → (`within.amount`, `bad`).
pub fn lead(message: &str) -> Option<(&str, &str)> {
    let (lead, rest) = message.split_once(": ")?;
    let is_path = !lead.is_empty()
        && lead
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c));
    is_path.then_some((lead, rest))
}

/// Reads an internally tagged enum through its externally tagged twin `T`. `unit` lists the
/// variants without fields.
pub fn read<'de, D, T>(d: D, tag: &str, unit: &[&str]) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    let mut map = <Map<String, Value> as serde::Deserialize>::deserialize(d)?;
    let kind = match map.remove(tag) {
        Some(Value::String(kind)) => kind,
        Some(_) => return Err(D::Error::custom(format!("{tag}: must be a string"))),
        None => return Err(D::Error::custom(format!("{tag}: missing"))),
    };
    let body = if unit.contains(&kind.as_str()) && map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    };
    let external = Value::Object([(kind, body)].into_iter().collect());
    // In the browser the values come from Herald's own server: no need for paths in errors,
    // nor for the code that tracks them.
    #[cfg(target_arch = "wasm32")]
    return T::deserialize(external).map_err(|e| D::Error::custom(e.to_string()));
    #[cfg(not(target_arch = "wasm32"))]
    serde_path_to_error::deserialize::<_, T>(external).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // The path starts with the variant: `created.within.amount`.
        let field = path
            .split_once('.')
            .map(|(_, f)| f)
            .filter(|f| !f.is_empty() && *f != "?");
        match field {
            Some(field) => D::Error::custom(join(field, &message)),
            None if message.starts_with("missing field `") => {
                let name = message.split('`').nth(1).unwrap_or_default().to_owned();
                D::Error::custom(join(&name, &message))
            }
            None if message.starts_with("unknown variant") => D::Error::custom(join(
                tag,
                &message.replacen("unknown variant", &format!("unknown {tag}"), 1),
            )),
            None => D::Error::custom(message),
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn joins() {
        assert_eq!(
            super::join("of[1]", "within.amount: bad"),
            "of[1].within.amount: bad"
        );
        assert_eq!(super::join("", "within: bad"), "within: bad");
        assert_eq!(super::join("date", "bad value"), "date: bad value");
        assert_eq!(super::join("", "just bad"), "just bad");
        assert_eq!(super::lead("invalid value: integer"), None);
    }
}
