//! What a new password must be. Long passphrases are welcome; composition rules are not
//! imposed (NIST SP 800-63B).

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("the password must be at least {0} characters long")]
    TooShort(usize),
    #[error("the password must be at most {0} characters long")]
    TooLong(usize),
    #[error("the new password must differ from the current one")]
    Unchanged,
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

pub fn check_new_password(new: &str, current: Option<&str>) -> Result<(), PasswordPolicyError> {
    let chars = new.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooShort(MIN_PASSWORD_CHARS));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooLong(MAX_PASSWORD_CHARS));
    }
    if current == Some(new) {
        return Err(PasswordPolicyError::Unchanged);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        let long = "x".repeat(129);
        let table: Vec<(&str, Option<&str>, Result<(), PasswordPolicyError>)> = vec![
            ("short", None, Err(PasswordPolicyError::TooShort(10))),
            ("123456789", None, Err(PasswordPolicyError::TooShort(10))),
            ("1234567890", None, Ok(())),
            ("ünïcødé-ok", None, Ok(())),
            (&long, None, Err(PasswordPolicyError::TooLong(128))),
            (
                "same-password",
                Some("same-password"),
                Err(PasswordPolicyError::Unchanged),
            ),
            ("new-password", Some("old-password"), Ok(())),
        ];
        for (new, current, expected) in table {
            assert_eq!(check_new_password(new, current), expected, "{new}");
        }
    }
}
