//! What a push quotes from a server (a response body, a `Location`, an
//! error), made safe to print, log and keep in the outbox: every configured
//! secret redacted, on one line, control characters escaped, bounded.
//!
//! A target may echo what it was sent: a debugging endpoint, a proxy's
//! error page, a hostile server. So every secret of every target (the
//! token, the password, the Basic credential `user:password`) is cut out,
//! as sent and in the forms it is likely to come back in: base64 (standard
//! or URL-safe, padded or not) and percent-encoded (any hex case, any set
//! of characters encoded, `+` for a space).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::config::Config;

/// What stands in for a secret.
pub const REDACTED: &str = "[redacted]";
/// Characters of a server's text quoted in an error.
pub const QUOTE_CHARS: usize = 200;
/// Characters of an error as reported (the words around a quote too).
pub const ERROR_CHARS: usize = 500;

/// The secrets to keep out of what is printed and kept.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Every form of every secret, longest first.
    forms: Vec<Vec<u8>>,
}

impl Secrets {
    /// The secrets of every `[[push]]` target whose environment variables
    /// are set (an S3 target's secret key and session token too).
    pub fn of(config: &Config) -> Secrets {
        let var = |name: &Option<String>| name.as_ref().and_then(|n| std::env::var(n).ok());
        let mut secrets = Vec::new();
        for target in &config.push {
            if target.kind == crate::config::PushKind::S3 {
                let named = |name: &str| std::env::var(name).ok();
                secrets.extend(named(target.secret_key_var()));
                secrets.extend(named(target.session_token_var()));
            }
            secrets.extend(var(&target.token_env));
            if let Some(password) = var(&target.password_env) {
                if let Some(user) = &target.user {
                    secrets.push(format!("{user}:{password}"));
                }
                secrets.push(password);
            }
        }
        Secrets::new(secrets)
    }

    /// These secrets, in every form looked for.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Secrets {
        let mut forms = Vec::new();
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
                forms.push(engine.encode(&secret).into_bytes());
            }
            forms.push(secret.into_bytes());
        }
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup();
        Secrets { forms }
    }

    /// The most bytes one secret can take in a text (all of it
    /// percent-encoded): a text cut shorter than this before its end may
    /// end with part of a secret that no longer matches.
    pub fn longest(&self) -> usize {
        self.forms.first().map_or(0, |f| f.len() * 3)
    }

    /// `text` fit to quote: every secret replaced with `[redacted]`, then
    /// every run of white space (new lines included) made one space,
    /// control and direction-changing characters escaped (`\u{1b}`), and at
    /// most `max_chars` characters kept (`…` when cut). The one function
    /// through which a push quotes anything a server sent.
    pub fn quote(&self, text: &str, max_chars: usize) -> String {
        let one_line = self
            .redact(text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut out = String::new();
        for (n, c) in one_line.chars().enumerate() {
            if n == max_chars {
                out.push('…');
                break;
            }
            if escaped(c) {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            } else {
                out.push(c);
            }
        }
        out
    }

    /// `text` with every form of every secret replaced.
    fn redact(&self, text: &str) -> String {
        if self.forms.is_empty() {
            return text.to_owned();
        }
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match self.forms.iter().find_map(|f| matches_at(bytes, i, f)) {
                Some(end) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    i = end;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Where a match of `form` starting at `text[start]` ends (the furthest
/// end), reading each byte either as itself or percent-encoded (`+` also
/// stands for a space). A `%` may be either, so every way is followed at
/// once: the set of positions a prefix of `form` can end at.
fn matches_at(text: &[u8], start: usize, form: &[u8]) -> Option<usize> {
    let mut ends = vec![start];
    for &b in form {
        let mut next = Vec::with_capacity(ends.len());
        for &i in &ends {
            let here = text.get(i..).unwrap_or_default();
            if here.first() == Some(&b) || (b == b' ' && here.first() == Some(&b'+')) {
                next.push(i + 1);
            }
            if let [b'%', hi, lo, ..] = here {
                if let (Some(hi), Some(lo)) = (hex(*hi), hex(*lo)) {
                    if (hi << 4) | lo == b {
                        next.push(i + 3);
                    }
                }
            }
        }
        next.sort_unstable();
        next.dedup();
        if next.is_empty() {
            return None;
        }
        ends = next;
    }
    ends.last().copied()
}

fn hex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Characters that would let quoted text move the cursor, recolour the
/// terminal, end the line or reorder what is shown.
fn escaped(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_secret_is_redacted() {
        let s = Secrets::new(["tok/S3+t=".to_owned(), "editor:pw d".to_owned()]);
        let b64 = STANDARD.encode("editor:pw d");
        let cases = [
            "Bearer tok/S3+t=".to_owned(),
            "tok%2FS3%2Bt%3D".into(),
            "tok%2fS3%2bt%3d".into(),
            "tok/S3%2Bt=".into(),
            STANDARD.encode("tok/S3+t="),
            URL_SAFE_NO_PAD.encode("tok/S3+t="),
            format!("Basic {b64}"),
            percent_encoding::utf8_percent_encode(&b64, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
            "editor%3Apw+d".into(),
        ];
        for case in cases {
            let quoted = s.quote(&format!("x {case} y"), QUOTE_CHARS);
            assert!(quoted.contains(REDACTED), "{case}: {quoted}");
            assert!(
                !quoted.contains("S3") && !quoted.contains("pw"),
                "{case}: {quoted}"
            );
        }
        assert_eq!(s.quote("nothing secret", QUOTE_CHARS), "nothing secret");
        // A `%` in a secret: as itself or encoded, whichever way it came.
        let s = Secrets::new(["a%25b".to_owned()]);
        for case in ["a%25b", "a%2525b", "%61%25%32%35b", "A%25b"] {
            let redacted = case != "A%25b";
            assert_eq!(s.quote(case, QUOTE_CHARS) == REDACTED, redacted, "{case}");
        }
        assert_eq!(Secrets::new([String::new()]).quote("a", 10), "a");
    }

    #[test]
    fn quotes_are_one_bounded_line_without_control_characters() {
        let s = Secrets::default();
        assert_eq!(
            s.quote("  nope\r\nERROR forged\u{2028}x\t y  ", QUOTE_CHARS),
            "nope ERROR forged x y"
        );
        assert_eq!(
            s.quote("a\u{1b}[31mb\u{7}\u{202e}c", QUOTE_CHARS),
            "a\\u{1b}[31mb\\u{7}\\u{202e}c"
        );
        assert_eq!(s.quote("abcdef", 3), "abc…");
        assert_eq!(s.quote("abc", 3), "abc");
        assert_eq!(s.quote(&"é".repeat(1000), 5).chars().count(), 6);
        let quoted = s.quote(&"word ".repeat(100), QUOTE_CHARS);
        assert_eq!(quoted.chars().count(), QUOTE_CHARS + 1);
    }
}
