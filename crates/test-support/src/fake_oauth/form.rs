//! `application/x-www-form-urlencoded` parameters, read the way RFC 6749 §3.1 and §3.2 ask:
//! a parameter sent twice is an error, an empty value is as good as none.

/// The pairs of `text`, decoded (`+` as space, percent escapes).
pub(super) fn pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

/// The parameters of one OAuth request.
#[derive(Debug)]
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    pub(super) fn parse(text: &str) -> Params {
        Params(pairs(text))
    }

    /// The value of `name`; a parameter without a value counts as omitted (RFC 6749 §3.1).
    /// The first one if repeated: [`Params::repeated`] makes such requests invalid.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// Every value of `name` (only `resource` may repeat, RFC 8707 §2).
    pub(super) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// A parameter other than `resource` sent more than once, which makes the request
    /// invalid (RFC 6749 §3.1: "MUST NOT be included more than once").
    pub(super) fn repeated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(index, (name, _))| {
            (name != "resource" && self.0[..index].iter().any(|(seen, _)| seen == name))
                .then_some(name.as_str())
        })
    }
}

/// Decodes one half of HTTP Basic client credentials: RFC 6749 §2.3.1 has the client ID
/// and secret form-urlencoded before they are joined by `:` and base64-encoded, so a
/// client that skips that step is caught whenever its credentials hold a reserved
/// character. `None` for a malformed escape or bytes that are not UTF-8.
pub(super) fn decode_credential(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = text.get(index + 1..index + 3)?;
                decoded.push(u8::from_str_radix(hex, 16).ok()?);
                index += 2;
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8(decoded).ok()
}

/// Whether `text` is 43 to 128 characters of `[A-Za-z0-9-._~]`: the syntax RFC 7636 §4.1
/// gives a code verifier and §4.2 a code challenge.
pub(super) fn is_pkce_string(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte))
}

/// Whether `scope` is a valid RFC 6749 §3.3 scope: tokens of printable ASCII other than
/// `"` and `\`, separated by single spaces.
pub(super) fn scope_tokens(scope: &str) -> Option<Vec<String>> {
    scope
        .split(' ')
        .map(|token| {
            let valid = !token.is_empty()
                && token
                    .bytes()
                    .all(|byte| (0x21..=0x7e).contains(&byte) && byte != b'"' && byte != b'\\');
            valid.then(|| token.to_owned())
        })
        .collect()
}
