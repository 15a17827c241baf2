//! Account input: usernames (their format, and the one fold in which they are compared)
//! and passwords. Registration applies the format rules; a login checks only presence,
//! since the rules would tell a guesser which passwords cannot be right.

use chat_schemas::http::Credentials;
use std::ops::RangeInclusive;

use super::fields::required_str;
use super::InputError;

/// Username length in bytes (all allowed characters are ASCII).
pub const USERNAME_LEN: RangeInclusive<usize> = 3..=32;
/// Password length in characters.
pub const PASSWORD_CHARS: RangeInclusive<usize> = 8..=128;

/// Whether `name` is a well-formed username: [`USERNAME_LEN`] characters of
/// `[A-Za-z0-9_.-]`.
pub fn valid_username(name: &str) -> bool {
    USERNAME_LEN.contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The one form in which usernames are compared: for the uniqueness of accounts, the
/// account lookup at login, and the per-username login limit. Computed here, once, so
/// that no two places fold names by different rules (Rust's `to_lowercase` and Postgres's
/// `lower()` disagree on, for example, the dotted `İ` U+0130).
///
/// The fold: compatibility normalisation (NFKC: fullwidth `ｓａｍ` is `sam`), then each
/// character lowercased from its uppercase (`ſ` U+017F is `s`, the Kelvin sign U+212A is
/// `k`, `ß` is `ss`), then NFKC again. Names are ASCII ([`valid_username`]), so an
/// account's key is its name in ASCII lowercase; a name whose key is not a well-formed
/// username (`İdle` folds to `i̇dle`, with a combining dot) can name no account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsernameKey(String);

impl UsernameKey {
    pub fn of(name: &str) -> Self {
        use unicode_normalization::UnicodeNormalization;
        let folded: String = name
            .nfkc()
            .flat_map(char::to_uppercase)
            .flat_map(char::to_lowercase)
            .collect();
        Self(folded.nfkc().collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether an account can have this key: only then is it worth looking up.
    pub fn can_name_an_account(&self) -> bool {
        valid_username(&self.0)
    }
}

/// The checks of a `POST /auth/register` or `POST /auth/login` body.
pub trait CredentialsPolicy {
    /// `(username, password)` for a new account: the format rules apply.
    fn for_registration(&self) -> Result<(&str, &str), InputError>;
    /// `(username, password)` for a login: only presence is checked, since the
    /// registration rules would tell a guesser which passwords cannot be right.
    fn for_login(&self) -> Result<(&str, &str), InputError>;
}

impl CredentialsPolicy for Credentials {
    fn for_registration(&self) -> Result<(&str, &str), InputError> {
        let (username, password) = self.for_login()?;
        if !valid_username(username) {
            return Err(InputError::new(
                "invalid_username",
                "username must be 3 to 32 characters of letters, digits, '_', '.' or '-'",
            ));
        }
        if !PASSWORD_CHARS.contains(&password.chars().count()) {
            return Err(InputError::new(
                "invalid_password",
                "password must be 8 to 128 characters",
            ));
        }
        Ok((username, password))
    }

    fn for_login(&self) -> Result<(&str, &str), InputError> {
        let username = required_str(&self.username, "username")?;
        let password = required_str(&self.password, "password")?;
        Ok((username, password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn registration_checks_the_format_and_login_only_presence() {
        let creds = |u: &str, p: &str| Credentials {
            username: json!(u),
            password: json!(p),
            display_name: Value::Null,
        };
        assert!(creds("alice", "password1").for_registration().is_ok());
        assert_eq!(
            creds("a b", "password1")
                .for_registration()
                .unwrap_err()
                .code,
            "invalid_username"
        );
        assert_eq!(
            creds("alice", "short").for_registration().unwrap_err().code,
            "invalid_password"
        );
        assert!(creds("a b", "short").for_login().is_ok());
    }

    #[test]
    fn look_alikes_fold_to_the_ascii_name_or_to_no_account() {
        let key = |n: &str| UsernameKey::of(n);
        assert_eq!(key("Kelvin").as_str(), "kelvin");
        assert_eq!(key("\u{212A}elvin"), key("kelvin"), "Kelvin sign");
        assert_eq!(key("\u{17F}am"), key("sam"), "long s");
        assert_eq!(key("\u{FF33}\u{FF41}\u{FF4D}"), key("sam"), "fullwidth");
        assert_eq!(key("STRASSE"), key("stra\u{DF}e"));
        // The dotted I lowercases to i + U+0307 by Unicode's default rules; Postgres's
        // lower() made it a plain i and so reached another user's account.
        let dotted = key("\u{130}dle");
        assert_ne!(dotted, key("idle"));
        assert!(!dotted.can_name_an_account());
        assert!(key("Sam_1.x-Y").can_name_an_account());
    }
}
