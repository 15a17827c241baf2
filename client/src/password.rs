//! Where the password comes from, in this order: `--password` or `CHAT_PASSWORD`,
//! `--password-file` (its first line), and otherwise a prompt at the terminal that does
//! not echo. Without any of them and no terminal to ask at, the client stops with a hint
//! instead of waiting for input that cannot come.

use std::io::IsTerminal;

use crate::{Args, ClientError};

/// The password to sign in with.
pub fn resolve(args: &Args) -> Result<String, ClientError> {
    if let Some(password) = &args.password {
        return Ok(password.clone());
    }
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(|e| ClientError::NoPassword {
            reason: format!("cannot read {}: {e}", path.display()),
        })?;
        return first_line(&text).ok_or_else(|| ClientError::NoPassword {
            reason: format!("{} is empty", path.display()),
        });
    }
    if std::io::stdin().is_terminal() {
        let prompt = format!("password for {}: ", args.user);
        return rpassword::prompt_password(prompt).map_err(|e| ClientError::NoPassword {
            reason: format!("cannot read it at the terminal: {e}"),
        });
    }
    Err(ClientError::NoPassword {
        reason: "give --password-file or CHAT_PASSWORD (stdin is not a terminal to ask at)".into(),
    })
}

/// The first line without its line ending; `None` if there is none.
fn first_line(text: &str) -> Option<String> {
    let line = text.lines().next()?.trim_end_matches('\r');
    (!line.is_empty()).then(|| line.to_owned())
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn a_password_file_gives_its_first_line_without_the_line_ending() {
        assert_eq!(first_line("secret pass\n").as_deref(), Some("secret pass"));
        assert_eq!(first_line("secret\r\nother\n").as_deref(), Some("secret"));
        assert_eq!(first_line(" spaced \n").as_deref(), Some(" spaced "));
        assert_eq!(first_line(""), None);
        assert_eq!(first_line("\n"), None);
    }
}
