//! Names other people read: display names and room names.
//!
//! A name is shown to people who did not choose it (in a room list, beside a message, in a
//! terminal), so a name must not be able to change how anything else is shown or hide what
//! it is. Refused:
//! - control characters (C0, C1, DEL): terminal escapes, line breaks;
//! - invisible format characters (Unicode category Cf): bidirectional overrides and
//!   isolates (`"Invoice \u{202E}fdp.exe"` reads as `Invoice exe.pdf`), zero-width
//!   characters, tag characters, the byte-order mark; and the line and paragraph
//!   separators;
//! - a name with nothing visible: only spaces, fillers (Hangul filler, braille blank) or
//!   combining marks;
//! - more than [`MAX_STACKED_MARKS`] combining marks on one character ("zalgo" text that
//!   spills over the lines around it).
//!
//! Every script stays allowed, and so do the joiners some scripts and emoji need (U+200C
//! and U+200D) when they sit between visible characters.

use super::InputError;

/// Most combining marks one base character may carry (Vietnamese needs two, a few
/// scripts three).
pub const MAX_STACKED_MARKS: usize = 4;

/// Checks `name` (already trimmed); `field` and `code` say what it is in the error.
pub fn check_name(name: &str, field: &str, code: &'static str) -> Result<(), InputError> {
    if name.chars().any(char::is_control) {
        return Err(InputError::new(
            code,
            format!("{field} must not contain control characters"),
        ));
    }
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if is_joiner(c) {
            let between_visible = i > 0
                && i + 1 < chars.len()
                && is_visible(chars[i - 1])
                && is_visible(chars[i + 1]);
            if between_visible {
                continue;
            }
        }
        if is_invisible_format(c) {
            return Err(InputError::new(
                code,
                format!(
                    "{field} must not contain invisible formatting characters \
                     (such as U+{:04X}); they can disguise what a name says",
                    c as u32
                ),
            ));
        }
    }
    if !chars.iter().any(|&c| is_visible(c)) {
        return Err(InputError::new(
            code,
            format!("{field} must contain at least one visible character"),
        ));
    }
    let mut stacked = 0;
    for &c in &chars {
        stacked = if is_combining_mark(c) { stacked + 1 } else { 0 };
        if stacked > MAX_STACKED_MARKS {
            return Err(InputError::new(
                code,
                format!(
                    "{field} must not stack more than {MAX_STACKED_MARKS} accents on one character"
                ),
            ));
        }
    }
    Ok(())
}

/// Zero-width non-joiner and joiner: needed inside words of some scripts and emoji.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Unicode's format characters (general category Cf, as of Unicode 15) and the line and
/// paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061C}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08E2}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}'
    )
}

/// Characters that draw nothing although they are not whitespace.
fn is_filler(c: char) -> bool {
    matches!(
        c,
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}' | '\u{034F}'
    )
}

/// Combining marks of the common blocks (they draw on the character before them).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
    )
}

fn is_visible(c: char) -> bool {
    !c.is_whitespace()
        && !c.is_control()
        && !is_invisible_format(c)
        && !is_joiner(c)
        && !is_filler(c)
        && !is_combining_mark(c)
        && !('\u{FE00}'..='\u{FE0F}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(name: &str) -> bool {
        check_name(name, "name", "invalid_name").is_err()
    }

    #[test]
    fn names_in_any_script_and_emoji_pass() {
        for name in [
            "Ada Lovelace",
            "Nguyễn Thị Minh Khai",
            "山田太郎",
            "محمد",
            "देवनागरी",
            "👩\u{200D}💻 dev",
            "Zoë",
            "a\u{0301}\u{0302}",
        ] {
            assert!(!refused(name), "{name:?} should pass");
        }
    }

    #[test]
    fn disguising_and_invisible_names_are_refused() {
        for name in [
            "Invoice \u{202E}fdp.exe",
            "a\u{2066}b",
            "\u{200B}\u{200D}\u{FEFF}",
            "a\u{2028}b",
            "a\u{E0041}b",
            "\u{3164}\u{3164}",
            "\u{2800}",
            "\u{200D}",
            "a\u{1b}[31m",
            "a\u{7}b",
            "\u{0301}\u{0301}",
            &format!("a{}", "\u{0301}".repeat(63)),
        ] {
            assert!(refused(name), "{name:?} should be refused");
        }
    }

    #[test]
    fn the_error_names_the_field() {
        let error = check_name("x\u{202E}", "displayName", "invalid_display_name").unwrap_err();
        assert_eq!(error.code, "invalid_display_name");
        assert!(error.message.contains("displayName"), "{}", error.message);
    }
}
