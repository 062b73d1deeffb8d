//! Text both stores can hold. PostgreSQL refuses the NUL character (U+0000) in `text`
//! columns and in `jsonb` strings and keys, so no text containing it is accepted: from a
//! client it is a 422, from an upstream catalog a failed sync.

use serde_json::Value;

/// Whether `s` can be stored as it is.
pub fn is_storable(s: &str) -> bool {
    !s.contains('\0')
}

/// `s` with each NUL replaced by U+FFFD: for diagnostic text (an upstream's error
/// message) that is recorded rather than judged.
pub fn storable_lossy(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

/// Longest piece of an outsider's text [`quoted`] keeps.
pub const QUOTED_MAX_CHARS: usize = 200;

/// What an outsider wrote (an authorization server's error, a redirect's parameter), fit
/// to quote in a recorded reason: at most [`QUOTED_MAX_CHARS`] characters, storable.
pub fn quoted(s: &str) -> String {
    let s: String = s.chars().take(QUOTED_MAX_CHARS).collect();
    storable_lossy(&s)
}

/// Where, in `value`, a string or an object key cannot be stored: the path of each (object
/// keys and array indexes), in document order, at most `limit` of them.
pub fn unstorable_paths(value: &Value, limit: usize) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut path = Vec::new();
    collect(value, &mut path, &mut found, limit);
    found
}

fn collect(value: &Value, path: &mut Vec<String>, found: &mut Vec<Vec<String>>, limit: usize) {
    if found.len() >= limit {
        return;
    }
    match value {
        Value::String(s) if !is_storable(s) => found.push(path.clone()),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                collect(item, path, found, limit);
                path.pop();
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                path.push(key.clone());
                if is_storable(key) {
                    collect(item, path, found, limit);
                } else if found.len() < limit {
                    found.push(path.clone());
                }
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_is_the_one_unstorable_character() {
        assert!(is_storable("tabs\tand\nlines and ✓"));
        assert!(!is_storable("a\0b"));
        assert_eq!(storable_lossy("a\0b"), "a\u{FFFD}b");
    }

    #[test]
    fn every_unstorable_string_and_key_is_located_in_order() {
        let value = json!({
            "fine": "text",
            "name": "bad\u{0}",
            "list": ["ok", {"deep": "also\u{0}bad"}],
            "key\u{0}": "value"
        });
        assert_eq!(
            unstorable_paths(&value, 10),
            vec![
                vec!["name".to_owned()],
                vec!["list".to_owned(), "1".to_owned(), "deep".to_owned()],
                vec!["key\u{0}".to_owned()],
            ]
        );
        assert_eq!(unstorable_paths(&value, 1).len(), 1);
        assert!(unstorable_paths(&json!({"a": [1, true, null]}), 10).is_empty());
    }
}
