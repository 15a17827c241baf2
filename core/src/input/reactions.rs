//! Reactions: what counts as an emoji, and how many distinct ones a message may carry.
//!
//! A reaction is either one emoji, a single extended grapheme cluster made only of emoji
//! code points (pictographs, with the joiners, variation selector, skin tones, keycaps,
//! flag pairs and tag sequences that build the composed ones), or a short `:name:` of 1-32
//! characters `[a-z0-9_+-]` (a client's custom or shortcode reaction). Anything else,
//! letters, digits alone, two emoji, markup, a long string, is refused: the emoji becomes
//! part of an event every member's client shows, and of a `Nats-Msg-Id`.

use chat_schemas::MessageId;
use unicode_segmentation::UnicodeSegmentation;

use super::InputError;

/// A message id (a UUID) from a path or a frame.
pub fn message_id(raw: &str) -> Result<MessageId, InputError> {
    uuid::Uuid::parse_str(raw)
        .map(MessageId)
        .map_err(|_| InputError::new("invalid_message_id", "messageId must be a message id"))
}

/// Most distinct emoji one message may carry (a further new emoji is refused).
pub const MAX_DISTINCT_REACTIONS: i64 = 50;

/// Longest emoji accepted, in bytes: the longest real sequences (a family, a tag flag)
/// are well under it; the bound keeps the grapheme check cheap on hostile input.
pub const MAX_EMOJI_BYTES: usize = 64;

/// Longest `:name:` name, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// A checked reaction emoji.
pub fn emoji(raw: &str) -> Result<&str, InputError> {
    if raw.len() > MAX_EMOJI_BYTES {
        return Err(invalid(format!(
            "emoji must be one emoji or a :name: (at most {MAX_EMOJI_BYTES} bytes)"
        )));
    }
    if is_short_name(raw) || is_one_emoji(raw) {
        Ok(raw)
    } else {
        Err(invalid(
            "emoji must be one emoji or a :name: of 1-32 [a-z0-9_+-]".to_owned(),
        ))
    }
}

fn invalid(message: String) -> InputError {
    InputError::new("invalid_emoji", message)
}

/// `:name:` with 1-32 characters of `[a-z0-9_+-]` between the colons.
fn is_short_name(raw: &str) -> bool {
    let Some(name) = raw.strip_prefix(':').and_then(|r| r.strip_suffix(':')) else {
        return false;
    };
    (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+-".contains(&b))
}

/// One extended grapheme cluster, made of emoji code points only.
fn is_one_emoji(raw: &str) -> bool {
    let mut clusters = raw.graphemes(true);
    if clusters.next() != Some(raw) || clusters.next().is_some() {
        return false;
    }
    let chars: Vec<char> = raw.chars().collect();
    if chars.iter().all(|&c| is_regional_indicator(c)) {
        // A flag: exactly a pair of regional indicators.
        return chars.len() == 2;
    }
    if let Some((&first, rest)) = chars.split_first() {
        if matches!(first, '0'..='9' | '#' | '*') {
            // A keycap: the key, an optional VS16, the enclosing keycap.
            return rest == ['\u{20E3}'] || rest == ['\u{FE0F}', '\u{20E3}'];
        }
    }
    let mut pictographs = 0;
    for (i, &c) in chars.iter().enumerate() {
        let ok = match c {
            _ if is_pictographic(c) => {
                pictographs += 1;
                true
            }
            // Joins pictographs (families, professions): never first or last.
            '\u{200D}' => i > 0 && i + 1 < chars.len(),
            // Emoji presentation, skin tones, and the tags of subdivision flags: modifiers
            // of what precedes them.
            '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}' => i > 0,
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    pictographs > 0
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// Code points with the Unicode `Extended_Pictographic` property (emoji-data.txt), as
/// ranges: the pictographs every emoji is built on.
fn is_pictographic(c: char) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x00A9, 0x00A9),
        (0x00AE, 0x00AE),
        (0x203C, 0x203C),
        (0x2049, 0x2049),
        (0x2122, 0x2122),
        (0x2139, 0x2139),
        (0x2194, 0x2199),
        (0x21A9, 0x21AA),
        (0x231A, 0x231B),
        (0x2328, 0x2328),
        (0x2388, 0x2388),
        (0x23CF, 0x23CF),
        (0x23E9, 0x23F3),
        (0x23F8, 0x23FA),
        (0x24C2, 0x24C2),
        (0x25AA, 0x25AB),
        (0x25B6, 0x25B6),
        (0x25C0, 0x25C0),
        (0x25FB, 0x25FE),
        (0x2600, 0x2605),
        (0x2607, 0x2612),
        (0x2614, 0x2685),
        (0x2690, 0x2705),
        (0x2708, 0x2712),
        (0x2714, 0x2714),
        (0x2716, 0x2716),
        (0x271D, 0x271D),
        (0x2721, 0x2721),
        (0x2728, 0x2728),
        (0x2733, 0x2734),
        (0x2744, 0x2744),
        (0x2747, 0x2747),
        (0x274C, 0x274C),
        (0x274E, 0x274E),
        (0x2753, 0x2755),
        (0x2757, 0x2757),
        (0x2763, 0x2767),
        (0x2795, 0x2797),
        (0x27A1, 0x27A1),
        (0x27B0, 0x27B0),
        (0x27BF, 0x27BF),
        (0x2934, 0x2935),
        (0x2B05, 0x2B07),
        (0x2B1B, 0x2B1C),
        (0x2B50, 0x2B50),
        (0x2B55, 0x2B55),
        (0x3030, 0x3030),
        (0x303D, 0x303D),
        (0x3297, 0x3297),
        (0x3299, 0x3299),
        (0x1F000, 0x1F0FF),
        (0x1F10D, 0x1F10F),
        (0x1F12F, 0x1F12F),
        (0x1F16C, 0x1F171),
        (0x1F17E, 0x1F17F),
        (0x1F18E, 0x1F18E),
        (0x1F191, 0x1F19A),
        (0x1F1AD, 0x1F1E5),
        (0x1F201, 0x1F20F),
        (0x1F21A, 0x1F21A),
        (0x1F22F, 0x1F22F),
        (0x1F232, 0x1F23A),
        (0x1F23C, 0x1F23F),
        (0x1F249, 0x1F3FA),
        (0x1F400, 0x1F53D),
        (0x1F546, 0x1F64F),
        (0x1F680, 0x1F6FF),
        (0x1F774, 0x1F77F),
        (0x1F7D5, 0x1F7FF),
        (0x1F80C, 0x1F80F),
        (0x1F848, 0x1F84F),
        (0x1F85A, 0x1F85F),
        (0x1F888, 0x1F88F),
        (0x1F8AE, 0x1F8FF),
        (0x1F90C, 0x1F93A),
        (0x1F93C, 0x1F945),
        (0x1F947, 0x1FAFF),
        (0x1FC00, 0x1FFFD),
    ];
    let c = c as u32;
    RANGES.iter().any(|&(low, high)| (low..=high).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_emoji_of_every_build_are_accepted() {
        for ok in [
            "👍",
            "❤️", // heart with VS16
            "❤",  // the bare pictograph
            "👍🏽", // skin tone
            "👩‍👩‍👧‍👦", // ZWJ family
            "🧑🏿‍🚀", // skin tone inside a ZWJ sequence
            "🏳️‍🌈", // flag with VS16 and ZWJ
            "🇫🇷", // regional indicator pair
            "🏴󠁧󠁢󠁳󠁣󠁴󠁿", // tag sequence (Scotland)
            "1️⃣", // keycap with VS16
            "#⃣",  // keycap without
            "©",
            ":tada:",
            ":+1:",
            ":a:",
            ":party_parrot-2:",
        ] {
            assert_eq!(emoji(ok), Ok(ok), "{ok:?}");
        }
    }

    #[test]
    fn anything_else_is_invalid_emoji() {
        let long_name = format!(":{}:", "a".repeat(33));
        let five_kb = "👍".repeat(1280);
        for bad in [
            "",
            "a",
            "1",
            "#",
            "ok",
            "👍👍", // two clusters
            "👍 ",  // trailing space
            " 👍",
            "🇫",    // half a flag
            "🇫🇷🇩🇪", // two flags
            "\u{200D}👍",
            "👍\u{200D}",
            "\u{FE0F}",
            "\u{1F3FB}", // a skin tone alone
            "e\u{301}",  // one grapheme, not an emoji
            "<b>",
            "::",
            ":Tada:",
            ":ta da:",
            ":tada",
            long_name.as_str(),
            five_kb.as_str(),
            "\0",
            "1\u{20E3}\u{20E3}",
        ] {
            let err = emoji(bad).expect_err(bad);
            assert_eq!(err.code, "invalid_emoji", "{bad:?}");
        }
    }
}
