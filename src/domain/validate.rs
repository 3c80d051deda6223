//! Input checks shared by every capability; each returns the cleaned value or a message for the
//! field, which the service turns into `BAD_USER_INPUT` with `extensions.field`.

use super::country::is_country_code;

pub fn name(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if let Some(c) = trimmed.chars().find(|c| is_hidden_format(*c)) {
        return Err(format!("must not contain invisible or direction-changing characters (U+{:04X})", u32::from(c)));
    }
    Ok(trimmed.to_string())
}

/// Plain text a person wrote (a description, a proposal): trimmed, at most `max` characters,
/// line breaks and tabs kept, other control characters refused. Stored as typed; every output
/// escapes it.
pub fn plain_text(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err("must not contain control characters".into());
    }
    Ok(trimmed.to_string())
}

/// Bidirectional overrides, embeddings and isolates, and invisible characters: in a name they
/// make it read differently from what it is (U+202E turns "exe.txt" into "txt.exe"). Zero-width
/// (non-)joiners stay allowed: scripts such as Persian and the Indic ones need them.
fn is_hidden_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{00AD}' | '\u{180E}' | '\u{200B}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}')
}

pub fn country(value: &str) -> Result<String, String> {
    let upper = value.trim().to_ascii_uppercase();
    if is_country_code(&upper) {
        Ok(upper)
    } else {
        Err(format!("{value:?} is not an ISO 3166-1 alpha-2 country code"))
    }
}

/// A DNS name such as `example.com`, lower-cased.
pub fn domain(value: &str) -> Result<String, String> {
    let lower = value.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = lower.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if lower.len() > 253
        || labels.len() < 2
        || !labels.iter().all(label_ok)
        || labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{value:?} is not a domain name such as example.com"));
    }
    Ok(lower)
}

/// An absolute http(s) URL with a host.
pub fn website(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| format!("{value:?} must start with https:// or http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    domain(host).map_err(|_| format!("{value:?} has no valid host name"))?;
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{value:?} must not contain spaces"));
    }
    Ok(trimmed.to_string())
}

/// An EU-style VAT number: two-letter prefix and 2 to 13 letters or digits, spaces removed.
pub fn vat_number(value: &str) -> Result<String, String> {
    let compact: String =
        value.chars().filter(|c| !c.is_whitespace() && *c != '-' && *c != '.').collect::<String>().to_ascii_uppercase();
    // Not split at a byte that may fall inside a character: any text may arrive here.
    let (prefix, rest) = compact.split_at_checked(2).unwrap_or((&compact, ""));
    let ok = prefix.len() == 2
        && prefix.bytes().all(|b| b.is_ascii_uppercase())
        && (2..=13).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        && rest.bytes().any(|b| b.is_ascii_digit());
    if ok { Ok(compact) } else { Err(format!("{value:?} is not a VAT number such as DE123456789")) }
}

pub fn email(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    let (local, host) = trimmed.rsplit_once('@').ok_or_else(|| format!("{value:?} is not an e-mail address"))?;
    if local.is_empty()
        || local.len() > 64
        || local.chars().any(|c| c.is_whitespace() || c.is_control())
        || domain(host).is_err()
    {
        return Err(format!("{value:?} is not an e-mail address"));
    }
    Ok(format!("{local}@{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Found by the schemathesis run: a control character and a two-byte letter in the
        /// first two bytes panicked the request. Every validator answers any text, never panics.
        #[test]
        fn validators_answer_any_text(text in "([\\x00-\\x7f]|[\\u{80}-\\u{7ff}]|\\PC){0,12}") {
            let _ = vat_number(&text);
            let _ = email(&text);
            let _ = domain(&text);
            let _ = name(&text, 5);
            let _ = website(&text);
            let _ = plain_text(&text, 5);
            let _ = country(&text);
            let _ = return_to(&text);
        }
    }

    #[test]
    fn a_vat_number_starting_inside_a_character_is_refused() {
        assert!(vat_number("\u{7}\u{82}*ö").is_err());
        assert!(vat_number("é").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  Acme  ", 10).unwrap(), "Acme");
        assert!(name("   ", 10).is_err());
        assert!(name("abcdefghijk", 10).is_err());
        assert!(name("a\u{0}b", 10).is_err());
    }

    #[test]
    fn names_refuse_direction_overrides_and_invisible_characters() {
        for hidden in ['\u{202E}', '\u{202A}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200F}', '\u{FEFF}', '\u{2060}'] {
            let text = format!("Acme{hidden}gpj.exe");
            let err = name(&text, 50).unwrap_err();
            assert!(err.contains("U+"), "{hidden:?}: {err}");
        }
        assert_eq!(name("Zürich Café 東京", 50).unwrap(), "Zürich Café 東京");
        assert!(name("می\u{200C}خواهم", 50).is_ok(), "the zero-width non-joiner belongs to Persian");
    }

    #[test]
    fn countries() {
        assert_eq!(country("ch").unwrap(), "CH");
        assert!(country("ZZ").is_err());
    }

    #[test]
    fn domains_and_websites() {
        assert_eq!(domain("Example.COM.").unwrap(), "example.com");
        assert!(domain("localhost").is_err());
        assert!(domain("-bad.com").is_err());
        assert!(domain("1.2.3.4").is_err());
        assert!(website("https://acme.example/about").is_ok());
        assert!(website("https://acme.example:8443/").is_ok());
        assert!(website("ftp://acme.example").is_err());
        assert!(website("https://").is_err());
    }

    #[test]
    fn vat_and_email() {
        assert_eq!(vat_number("de 123 456 789").unwrap(), "DE123456789");
        assert!(vat_number("123456789").is_err());
        assert!(vat_number("DE").is_err());
        assert_eq!(email("Ann@Example.com").unwrap(), "Ann@example.com");
        assert!(email("ann").is_err());
        assert!(email("ann@localhost").is_err());
    }
}

/// Where to send someone after sign-in: only a path on this site. `//host` and `/\host` are
/// read by browsers as another site, so they are refused like absolute URLs.
pub fn return_to(value: &str) -> Result<String, String> {
    let ok = value.starts_with('/')
        && !value.starts_with("//")
        && !value.starts_with("/\\")
        && !value.chars().any(|c| c.is_control() || c == '\\')
        && value.len() <= 2048;
    if ok { Ok(value.to_string()) } else { Err(format!("{value:?} is not a path on this site")) }
}

#[cfg(test)]
mod return_to_tests {
    use super::return_to;

    #[test]
    fn only_local_paths() {
        assert!(return_to("/").is_ok());
        assert!(return_to("/partners?tab=deals").is_ok());
        for bad in
            ["//evil.example", "https://evil.example/", "/\\evil.example", "evil", "", "/a\nb", "javascript:alert(1)"]
        {
            assert!(return_to(bad).is_err(), "{bad}");
        }
    }
}
