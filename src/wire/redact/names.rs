//! Which field names are sensitive. A name is cut into words, at every
//! ASCII character that is not a letter or a digit (`_`, `.`, `-`, ...)
//! and where a lowercase letter or digit meets an uppercase one
//! (`dbPassword`, `APIKey`); it matches a listed name when its last words
//! are the listed name's words, compared without regard to ASCII case. So
//! `password` matches `password`, `db_password`, `DB-PASSWORD` and
//! `userPassword`; `api_key` matches `api_key`, `x-api-key` and
//! `stripe.apiKey`, but `key` and `api_key_id` do not; `auth` matches
//! `auth` and `basic_auth`, not `author` nor `auth_method`.

use smallvec::SmallVec;

/// The field names redacted by default (see
/// [`Builder::send_sensitive_fields`](crate::Builder::send_sensitive_fields)):
/// Sentry's default list, with the few names it spells out that the word
/// rule already covers left out (`x_api_key`, `set_cookie`, `csrf_token`,
/// `user_session`, ...), and `pwd`, `passphrase`, `bearer`, `credential`,
/// `jsessionid`, `cvv` and `cvc` added. A field matches a name when its
/// last words are that name's: `db_password`, `auth.token` and `x-api-key`
/// are redacted; `session_id`, `token_count` and `author` are not.
///
/// ```
/// assert!(tracing_jkool::SENSITIVE_FIELDS.contains(&"password"));
/// assert!(tracing_jkool::SENSITIVE_FIELDS.contains(&"api_key"));
/// ```
pub const SENSITIVE_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "api_key",
    "apikey",
    "auth",
    "authorization",
    "bearer",
    "credential",
    "credentials",
    "private_key",
    "privatekey",
    "token",
    "access_token",
    "refresh_token",
    "csrf",
    "csrftoken",
    "xsrf",
    "session",
    "sessionid",
    "jsessionid",
    "phpsessid",
    "connect.sid",
    "cookie",
    "set_cookie",
    "cvv",
    "cvc",
];

/// The words of a name, in order; most names have few, kept inline.
type Words<'a> = SmallVec<[&'a str; 8]>;

/// Names to redact, each kept as its words in lowercase.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names(Vec<Box<[Box<str>]>>);

impl Names {
    /// The default list (with `defaults`) and `more`; a name without a
    /// word (empty, or only separators) is left out.
    pub(crate) fn new<'a>(defaults: bool, more: impl IntoIterator<Item = &'a str>) -> Self {
        let listed = SENSITIVE_FIELDS.iter().copied().filter(|_| defaults);
        let mut names: Vec<Box<[Box<str>]>> = Vec::new();
        for name in listed.chain(more) {
            let words: Box<[Box<str>]> = words(name)
                .iter()
                .map(|word| word.to_ascii_lowercase().into_boxed_str())
                .collect();
            if !words.is_empty() && !names.contains(&words) {
                names.push(words);
            }
        }
        Names(names)
    }

    /// Whether no name is listed: nothing is sensitive.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `name` ends with the words of a listed name.
    pub(crate) fn matches(&self, name: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let words = words(name);
        self.0.iter().any(|listed| {
            listed.len() <= words.len()
                && (listed.iter().rev().zip(words.iter().rev()))
                    .all(|(listed, word)| word.eq_ignore_ascii_case(listed))
        })
    }
}

/// `name` cut into words (see the module's docs), without allocating for
/// up to eight of them.
fn words(name: &str) -> Words<'_> {
    let bytes = name.as_bytes();
    let mut words = Words::new();
    let mut start = None;
    for (at, &byte) in bytes.iter().enumerate() {
        // Bytes of non-ASCII characters belong to words.
        if byte.is_ascii() && !byte.is_ascii_alphanumeric() {
            if let Some(from) = start.take() {
                words.push(&name[from..at]);
            }
            continue;
        }
        match start {
            None => start = Some(at),
            Some(from) if at > from && starts_word(bytes, at) => {
                words.push(&name[from..at]);
                start = Some(at);
            }
            Some(_) => {}
        }
    }
    if let Some(from) = start {
        words.push(&name[from..]);
    }
    words
}

/// Whether the uppercase letter at `at` (not a word's first byte) begins a
/// word: after a lowercase letter or a digit (`dbPassword`, `db2Password`),
/// or as an uppercase run's last letter before lowercase (`APIKey`).
fn starts_word(bytes: &[u8], at: usize) -> bool {
    let before = bytes[at - 1];
    bytes[at].is_ascii_uppercase()
        && (before.is_ascii_lowercase()
            || before.is_ascii_digit()
            || (before.is_ascii_uppercase()
                && bytes.get(at + 1).is_some_and(u8::is_ascii_lowercase)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_into_words_at_separators_and_case_changes() {
        let cases: [(&str, &[&str]); 9] = [
            ("password", &["password"]),
            ("db_password", &["db", "password"]),
            ("x-api-key", &["x", "api", "key"]),
            ("auth.token", &["auth", "token"]),
            ("__csrf__", &["csrf"]),
            ("dbPassword", &["db", "Password"]),
            ("APIKey", &["API", "Key"]),
            ("db2Password", &["db2", "Password"]),
            ("mot_de_passe_é", &["mot", "de", "passe", "é"]),
        ];
        for (name, expected) in cases {
            assert_eq!(&words(name)[..], expected, "{name}");
        }
        assert!(words("").is_empty() && words("_.-").is_empty());
    }

    #[test]
    fn a_name_matches_when_its_last_words_are_a_listed_name() {
        let names = Names::new(true, []);
        for sensitive in [
            "password",
            "PASSWORD",
            "Password",
            "db_password",
            "DB-PASSWORD",
            "userPassword",
            "api_key",
            "x-api-key",
            "X-Api-Key",
            "stripe.apiKey",
            "apikey",
            "APIKey",
            "Authorization",
            "basic_auth",
            "auth.token",
            "access_token",
            "idToken",
            "set-cookie",
            "connect.sid",
            "JSESSIONID",
            "client_secret",
            "card.cvv",
        ] {
            assert!(names.matches(sensitive), "{sensitive} is sensitive");
        }
        for harmless in [
            "order_no",
            "amount",
            "key",
            "api_key_id",
            "primary_key",
            "author",
            "auth_method",
            "oauth",
            "session_id",
            "token_count",
            "tokenizer",
            "passwords_changed",
            "message",
            "",
        ] {
            assert!(!names.matches(harmless), "{harmless} is not sensitive");
        }
    }

    #[test]
    fn added_names_match_by_the_same_rule_with_or_without_the_defaults() {
        let names = Names::new(false, ["order_secret_code", "PIN", "", "--"]);
        assert!(names.matches("order_secret_code"));
        assert!(names.matches("shop.orderSecretCode"));
        assert!(names.matches("card_pin"));
        assert!(!names.matches("secret_code"));
        assert!(!names.matches("password"), "the default list is off");
        assert!(!Names::new(false, [""]).matches("password"));
        assert!(Names::new(false, ["", "_"]).is_empty());
        let both = Names::new(true, ["order_secret_code"]);
        assert!(both.matches("password") && both.matches("order_secret_code"));
    }

    #[test]
    fn every_default_name_matches_itself() {
        let names = Names::new(true, []);
        for name in SENSITIVE_FIELDS {
            assert!(names.matches(name), "{name}");
            assert!(names.matches(&format!("my_{name}")), "my_{name}");
        }
    }
}
