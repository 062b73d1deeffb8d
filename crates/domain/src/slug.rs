//! Slugs, display names and nicknames (DESIGN.md §3 "Slugs").

/// Lowercases `s`, turns every run of characters outside `[a-z0-9]` into one `_`, and trims
/// leading/trailing `_`.
///
/// Lowercasing is Unicode-aware and happens first, so a character whose lowercase form is
/// ASCII (the Kelvin sign `K` becomes `k`) counts as that letter; every other non-ASCII
/// character is a separator: `"Ünïcode"` → `"n_code"`.
pub fn slugify(s: &str) -> String {
    let mut slug = String::with_capacity(s.len());
    let mut pending_separator = false;
    for c in s.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            // A separator is only written between two kept characters, which both collapses
            // runs and trims both ends.
            if pending_separator && !slug.is_empty() {
                slug.push('_');
            }
            pending_separator = false;
            slug.push(c);
        } else {
            pending_separator = true;
        }
    }
    slug
}

/// A tool name as a display name: words split on `_`, `-`, `.`, whitespace and camelCase
/// boundaries, each capitalized, joined by one space (`"getUserInfo"` → `"Get User Info"`).
///
/// Only the first letter of a word changes, so acronyms survive (`"sendSMS"` → `"Send SMS"`).
pub fn humanize(tool_name: &str) -> String {
    words(tool_name)
        .iter()
        .map(|word| capitalize(word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a tool slug uses for a `tool_path` that slugs to nothing (`"!!!"`, `"工具"`), so
/// that the slug never ends in a bare `_` (DESIGN.md §3 Slugs: a stable stand-in).
pub const EMPTY_TOOL_PATH_STAND_IN: &str = "tool";

/// A tool's slug: `nickname_slug + "_" + slugify(tool_path)`, with
/// [`EMPTY_TOOL_PATH_STAND_IN`] for a `tool_path` that slugs to nothing.
pub fn tool_slug(nickname_slug: &str, tool_path: &str) -> String {
    let path = slugify(tool_path);
    let path = if path.is_empty() {
        EMPTY_TOOL_PATH_STAND_IN
    } else {
        &path
    };
    format!("{nickname_slug}_{path}")
}

/// First free slug: `base` if not taken, else base_2, base_3, ...
///
/// `is_taken` must eventually answer `false`; a caller checks against a finite set.
pub fn first_free_slug(base: &str, is_taken: impl Fn(&str) -> bool) -> String {
    if !is_taken(base) {
        return base.to_owned();
    }
    let mut suffix: u64 = 2;
    loop {
        let candidate = format!("{base}_{suffix}");
        if !is_taken(&candidate) {
            return candidate;
        }
        suffix += 1;
    }
}

/// Whether `s` is one line of display text: no control characters (line breaks, tabs, NUL
/// and the like), which no name shown to a person needs and some stores refuse.
pub fn is_single_line_text(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// The longest nickname accepted, in characters (not bytes).
pub const NICKNAME_MAX_CHARS: usize = 200;

/// A validated nickname: trimmed of surrounding whitespace, 1..=200 chars (chars, not bytes,
/// counted after trimming), and its slug non-empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nickname(String);

/// Why a nickname was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NicknameError {
    /// Empty, or only whitespace.
    #[error("The nickname must not be blank.")]
    Blank,
    /// Longer than `max` characters after trimming.
    #[error("The nickname must be at most {max} characters long.")]
    TooLong {
        /// The limit, [`NICKNAME_MAX_CHARS`].
        max: usize,
    },
    /// Holds a control character (a line break, a tab, NUL…): a nickname is one line of
    /// display text.
    #[error("The nickname must not contain control characters.")]
    ControlCharacter,
    /// No ASCII letter or digit, so no slug could be derived from it.
    #[error("The nickname must contain at least one letter (a-z) or digit.")]
    EmptySlug,
}

impl Nickname {
    /// Trims `raw` and checks it is usable as a connection nickname.
    pub fn parse(raw: &str) -> Result<Nickname, NicknameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(NicknameError::Blank);
        }
        if trimmed.chars().count() > NICKNAME_MAX_CHARS {
            return Err(NicknameError::TooLong {
                max: NICKNAME_MAX_CHARS,
            });
        }
        if !is_single_line_text(trimmed) {
            return Err(NicknameError::ControlCharacter);
        }
        if slugify(trimmed).is_empty() {
            return Err(NicknameError::EmptySlug);
        }
        Ok(Nickname(trimmed.to_owned()))
    }

    /// The trimmed nickname.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `slugify` of the nickname; never empty. Uniqueness suffixes are the caller's business
    /// ([`first_free_slug`]).
    pub fn slug(&self) -> String {
        slugify(&self.0)
    }
}

/// Splits a tool name into words at separators and camelCase boundaries.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c == '.' || c.is_whitespace() {
            push_word(&mut words, &mut current);
            continue;
        }
        let previous = i.checked_sub(1).and_then(|p| chars.get(p));
        let next = chars.get(i + 1);
        let lower_to_upper =
            previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit()) && c.is_uppercase();
        // The last capital of an acronym starts the next word: "HTTPServer" → "HTTP Server".
        let acronym_end = previous.is_some_and(|p| p.is_uppercase())
            && c.is_uppercase()
            && next.is_some_and(|n| n.is_lowercase());
        if lower_to_upper || acronym_end {
            push_word(&mut words, &mut current);
        }
        current.push(c);
    }
    push_word(&mut words, &mut current);
    words
}

fn push_word(words: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() {
        words.push(std::mem::take(current));
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn slugify_collapses_runs_and_trims() {
        assert_eq!(slugify("Hello, World!"), "hello_world");
        assert_eq!(slugify("__a--b__"), "a_b");
        assert_eq!(slugify("a   b\t\nc"), "a_b_c");
        assert_eq!(slugify("already_slug_9"), "already_slug_9");
    }

    #[test]
    fn slugify_of_blank_or_symbols_is_empty() {
        assert_eq!(slugify(""), "");
        assert_eq!(slugify("  "), "");
        assert_eq!(slugify("!@#$%^&*()"), "");
        assert_eq!(slugify("___"), "");
    }

    #[test]
    fn slugify_treats_non_ascii_letters_as_separators() {
        assert_eq!(slugify("Ünïcode"), "n_code");
        assert_eq!(slugify("café au lait"), "caf_au_lait");
        assert_eq!(slugify("日本語"), "");
        assert_eq!(slugify("emoji 🚀 rocket"), "emoji_rocket");
    }

    #[test]
    fn slugify_lowercases_unicode_before_filtering() {
        // KELVIN SIGN lowercases to ASCII 'k'.
        assert_eq!(slugify("\u{212A}ey"), "key");
        // 'İ' lowercases to 'i' followed by a combining dot, which is a separator.
        assert_eq!(slugify("İx"), "i_x");
    }

    #[test]
    fn slugify_keeps_digits() {
        assert_eq!(slugify("Team 42 (EU)"), "team_42_eu");
        assert_eq!(slugify("007"), "007");
    }

    #[test]
    fn humanize_snake_case() {
        assert_eq!(humanize("send_message"), "Send Message");
    }

    #[test]
    fn humanize_splits_on_every_separator() {
        assert_eq!(humanize("list-channels.v2 now"), "List Channels V2 Now");
        assert_eq!(humanize("a__b--c..d  e"), "A B C D E");
        assert_eq!(humanize("_leading_and_trailing_"), "Leading And Trailing");
    }

    #[test]
    fn humanize_splits_camel_case() {
        assert_eq!(humanize("getUserInfo"), "Get User Info");
        assert_eq!(humanize("GetUserInfo"), "Get User Info");
        assert_eq!(humanize("get2Factor"), "Get2 Factor");
    }

    #[test]
    fn humanize_keeps_acronyms() {
        assert_eq!(humanize("sendSMS"), "Send SMS");
        assert_eq!(humanize("HTTPServer"), "HTTP Server");
        assert_eq!(humanize("getHTTPResponse_code"), "Get HTTP Response Code");
    }

    #[test]
    fn humanize_empty_and_separator_only() {
        assert_eq!(humanize(""), "");
        assert_eq!(humanize("_-. "), "");
    }

    #[test]
    fn humanize_unicode() {
        assert_eq!(humanize("éclair_über"), "Éclair Über");
        assert_eq!(humanize("straße"), "Straße");
    }

    #[test]
    fn tool_slug_joins_nickname_slug_and_tool_path() {
        assert_eq!(
            tool_slug("my_slack", "send_message"),
            "my_slack_send_message"
        );
        assert_eq!(tool_slug("acme", "Get User-Info"), "acme_get_user_info");
    }

    #[test]
    fn a_tool_path_that_slugs_to_nothing_gets_the_stand_in() {
        assert_eq!(tool_slug("conn", "!!!"), "conn_tool");
        assert_eq!(tool_slug("conn", "工具"), "conn_tool");
        assert_eq!(tool_slug("conn", ""), "conn_tool");
    }

    #[test]
    fn first_free_slug_returns_base_when_free() {
        assert_eq!(first_free_slug("acme", |_| false), "acme");
    }

    #[test]
    fn first_free_slug_takes_first_free_collision_suffix() {
        let taken: HashSet<&str> = ["acme", "acme_2", "acme_4"].into();
        assert_eq!(first_free_slug("acme", |s| taken.contains(s)), "acme_3");
    }

    #[test]
    fn first_free_slug_starts_suffixes_at_two() {
        let taken: HashSet<&str> = ["acme"].into();
        assert_eq!(first_free_slug("acme", |s| taken.contains(s)), "acme_2");
    }

    #[test]
    fn nickname_is_trimmed() {
        let nickname = Nickname::parse("  My Slack \n").expect("valid");
        assert_eq!(nickname.as_str(), "My Slack");
        assert_eq!(nickname.slug(), "my_slack");
    }

    #[test]
    fn blank_nickname_is_refused() {
        assert_eq!(Nickname::parse(""), Err(NicknameError::Blank));
        assert_eq!(Nickname::parse(" \t\n "), Err(NicknameError::Blank));
    }

    #[test]
    fn nickname_length_counts_chars_not_bytes() {
        let at_limit = "é".repeat(NICKNAME_MAX_CHARS - 1) + "a";
        assert!(at_limit.len() > NICKNAME_MAX_CHARS);
        assert!(Nickname::parse(&at_limit).is_ok());
        let over = "a".repeat(NICKNAME_MAX_CHARS + 1);
        assert_eq!(
            Nickname::parse(&over),
            Err(NicknameError::TooLong { max: 200 })
        );
    }

    #[test]
    fn nickname_length_is_counted_after_trimming() {
        let padded = format!("  {}  ", "a".repeat(NICKNAME_MAX_CHARS));
        assert!(Nickname::parse(&padded).is_ok());
    }

    #[test]
    fn nickname_without_slug_is_refused() {
        assert_eq!(Nickname::parse("!!!"), Err(NicknameError::EmptySlug));
        assert_eq!(Nickname::parse("日本語"), Err(NicknameError::EmptySlug));
    }

    #[test]
    fn nickname_with_control_characters_is_refused() {
        for raw in ["a\0b", "line\nbreak", "tab\there", "bell\u{7}"] {
            assert_eq!(
                Nickname::parse(raw),
                Err(NicknameError::ControlCharacter),
                "{raw:?}"
            );
        }
        // Surrounding white space is trimmed before the check.
        assert!(Nickname::parse("\n Sales \t").is_ok());
    }

    #[test]
    fn single_line_text_allows_any_printable_unicode() {
        assert!(is_single_line_text("Équipe 日本 🚀 — ok"));
        assert!(!is_single_line_text("a\u{85}b"));
        assert!(is_single_line_text(""));
    }

    #[test]
    fn nickname_with_some_ascii_is_accepted() {
        let nickname = Nickname::parse("Équipe 1").expect("valid");
        assert_eq!(nickname.as_str(), "Équipe 1");
        assert_eq!(nickname.slug(), "quipe_1");
    }

    #[test]
    fn nickname_errors_are_sentences() {
        assert_eq!(
            NicknameError::Blank.to_string(),
            "The nickname must not be blank."
        );
        assert_eq!(
            NicknameError::TooLong { max: 200 }.to_string(),
            "The nickname must be at most 200 characters long."
        );
        assert!(NicknameError::EmptySlug.to_string().ends_with('.'));
    }
}
