//! The browser session cookie. Sessions themselves are rows (`service::identity`): any node
//! serves the next request, and logout or the absolute lifetime ends them.

use chrono::TimeDelta;

/// `__Host-` binds the cookie to this host over HTTPS with `Path=/`; plain HTTP development
/// uses an unprefixed name, since browsers refuse `__Host-` cookies without `Secure`.
pub const SECURE_COOKIE: &str = "__Host-partnerhub_session";
pub const PLAIN_COOKIE: &str = "partnerhub_session";

/// How the session cookie is written for this deployment.
#[derive(Clone, Copy, Debug)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    pub fn name(self) -> &'static str {
        if self.secure { SECURE_COOKIE } else { PLAIN_COOKIE }
    }

    pub fn set(self, secret: &str, lifetime: TimeDelta) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{}={secret}; HttpOnly{secure}; SameSite=Lax; Path=/; Max-Age={}", self.name(), lifetime.num_seconds())
    }

    pub fn clear(self) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{}=; HttpOnly{secure}; SameSite=Lax; Path=/; Max-Age=0", self.name())
    }
}

/// The session secret from a `Cookie` header, under either name.
pub fn secret_from_cookies(header: &str) -> Option<&str> {
    header.split(';').map(str::trim).find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == SECURE_COOKIE || name == PLAIN_COOKIE).then_some(value).filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_outside_plain_development() {
        let secure = CookiePolicy { secure: true }.set("abc", TimeDelta::hours(12));
        assert_eq!(secure, "__Host-partnerhub_session=abc; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=43200");
        let plain = CookiePolicy { secure: false }.set("abc", TimeDelta::hours(1));
        assert!(plain.starts_with("partnerhub_session=abc; HttpOnly; SameSite=Lax") && !plain.contains("Secure"));
        assert!(CookiePolicy { secure: true }.clear().contains("Max-Age=0"));
    }

    #[test]
    fn finds_the_secret_among_other_cookies() {
        assert_eq!(secret_from_cookies("a=1; __Host-partnerhub_session=xyz; b=2"), Some("xyz"));
        assert_eq!(secret_from_cookies("partnerhub_session=q"), Some("q"));
        assert_eq!(secret_from_cookies("partnerhub_session="), None);
        assert_eq!(secret_from_cookies("other=1"), None);
    }
}
