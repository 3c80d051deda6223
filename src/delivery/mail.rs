//! E-mail: the texts per kind and language (minijinja templates in `templates/mail`, built into
//! the binary) and the SMTP transport.

use std::collections::BTreeMap;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart, header::HeaderName, header::HeaderValue},
};
use minijinja::{AutoEscape, Environment, Value};
use serde::Deserialize;

use crate::{
    config::DeliverySettings,
    domain::{Language, notifications::NotificationKind},
};

const CATALOGS: [(Language, &str); 5] = [
    (Language::En, include_str!("../../templates/mail/en.toml")),
    (Language::De, include_str!("../../templates/mail/de.toml")),
    (Language::Fr, include_str!("../../templates/mail/fr.toml")),
    (Language::Pl, include_str!("../../templates/mail/pl.toml")),
    (Language::Es, include_str!("../../templates/mail/es.toml")),
];
const LAYOUT_TEXT: &str = include_str!("../../templates/mail/layout.txt");
const LAYOUT_HTML: &str = include_str!("../../templates/mail/layout.html");

#[derive(Deserialize)]
struct Catalog {
    layout: BTreeMap<String, String>,
    kinds: BTreeMap<String, KindTexts>,
}

#[derive(Deserialize)]
struct KindTexts {
    subject: String,
    body: String,
}

/// Every language's texts, checked at start: a kind without a text in some language is a
/// start-up error, not a silent English e-mail.
pub struct Templates {
    text: Environment<'static>,
    html: Environment<'static>,
    catalogs: BTreeMap<Language, Catalog>,
}

/// One e-mail, ready to send.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn day(value: String) -> String {
    value.chars().take(10).collect()
}

impl Templates {
    pub fn load() -> Result<Self, String> {
        let mut text = Environment::new();
        text.set_auto_escape_callback(|_| AutoEscape::None);
        text.add_filter("day", day);
        let mut html = Environment::new();
        html.set_auto_escape_callback(|_| AutoEscape::Html);
        html.add_template("layout.html", LAYOUT_HTML).map_err(|e| e.to_string())?;
        text.add_template("layout.txt", LAYOUT_TEXT).map_err(|e| e.to_string())?;
        let mut catalogs = BTreeMap::new();
        for (language, source) in CATALOGS {
            let catalog: Catalog = toml::from_str(source).map_err(|e| format!("templates/mail {language}: {e}"))?;
            for kind in NotificationKind::ALL {
                if !catalog.kinds.contains_key(kind.as_str()) {
                    return Err(format!("templates/mail {language}: no e-mail for {kind}"));
                }
            }
            catalogs.insert(language, catalog);
        }
        Ok(Templates { text, html, catalogs })
    }

    /// The e-mail of a notification of `kind` in `language`; `vars` holds the payload, the
    /// names it mentions, `recipient_name`, `organization`, `link` (and `accept_link`).
    pub fn render(
        &self,
        kind: NotificationKind,
        language: Language,
        vars: &serde_json::Value,
    ) -> Result<Rendered, String> {
        let catalog = self.catalogs.get(&language).ok_or_else(|| format!("no templates for {language}"))?;
        let texts = catalog.kinds.get(kind.as_str()).ok_or_else(|| format!("no e-mail for {kind}"))?;
        let context = Value::from_serialize(vars);
        let render =
            |source: &str| self.text.render_str(source, &context).map_err(|e| format!("{kind} {language}: {e}"));
        let subject = render(&texts.subject)?.split_whitespace().collect::<Vec<_>>().join(" ");
        let body = render(&texts.body)?;
        let layout: BTreeMap<&str, String> =
            catalog.layout.iter().map(|(k, v)| Ok((k.as_str(), render(v)?))).collect::<Result<_, String>>()?;
        let mut page = vars.clone();
        if let Some(object) = page.as_object_mut() {
            object.insert("layout".into(), serde_json::json!(layout));
            object.insert("body".into(), serde_json::json!(body));
            object.insert("subject".into(), serde_json::json!(subject));
            object.insert("lang".into(), serde_json::json!(language.as_str().to_lowercase()));
        }
        let page = Value::from_serialize(&page);
        let text = self.text.get_template("layout.txt").and_then(|t| t.render(&page)).map_err(|e| e.to_string())?;
        let html = self.html.get_template("layout.html").and_then(|t| t.render(&page)).map_err(|e| e.to_string())?;
        Ok(Rendered { subject, text, html })
    }
}

/// SMTP when configured; otherwise each e-mail is printed to standard output, so that
/// development and the demo show what would be sent.
pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Print { from: Mailbox },
}

impl Mailer {
    /// Refuses, at start, a URL that would send mail in clear beyond this host, and a bad sender.
    pub fn check_settings(settings: &DeliverySettings) -> Result<(), String> {
        settings.mail_from.parse::<Mailbox>().map_err(|e| format!("PARTNERHUB_MAIL_FROM: {e}"))?;
        let Some(raw) = settings.smtp_url.as_deref() else { return Ok(()) };
        let url = url::Url::parse(raw).map_err(|_| "not a URL".to_string())?;
        let tls = url.query_pairs().any(|(k, v)| k == "tls" && v == "required");
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        match url.scheme() {
            "smtps" => Ok(()),
            "smtp" if tls || loopback => Ok(()),
            "smtp" => Err("use smtps:// or smtp://...?tls=required: plain SMTP only to this host".into()),
            _ => Err("must start with smtp:// or smtps://".into()),
        }
    }

    pub fn start(settings: &DeliverySettings) -> Result<Self, String> {
        Self::check_settings(settings)?;
        let from: Mailbox = settings.mail_from.parse().map_err(|e| format!("PARTNERHUB_MAIL_FROM: {e}"))?;
        Ok(match settings.smtp_url.as_deref() {
            Some(url) => Mailer::Smtp {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("PARTNERHUB_SMTP_URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(15)))
                    .build(),
                from,
            },
            None => Mailer::Print { from },
        })
    }

    /// Sends one e-mail. `message_id` is the outbox id: receivers (and people) can tell a
    /// repeat after a crash from a new message.
    pub async fn send(&self, to: &str, message_id: &str, mail: &Rendered) -> Result<(), String> {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Print { from } => from.clone(),
        };
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to}: {e}"))?;
        let domain = from.email.domain().to_string();
        let mut message = Message::builder()
            .from(from)
            .to(to.clone())
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{message_id}@{domain}>")))
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| e.to_string())?;
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Partnerhub-Outbox-Id"),
            message_id.to_string(),
        ));
        match self {
            Mailer::Smtp { transport, .. } => transport.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::Print { .. } => {
                println!(
                    "--- e-mail (no PARTNERHUB_SMTP_URL: printed, not sent) to {to}\nSubject: {}\n\n{}",
                    mail.subject, mail.text
                );
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "recipient_name": "Anna Alpine", "organization": "Alpine IT", "link": "http://x/", "message_id": "m1",
            "partnerName": "Alpine <IT>", "customerName": "Bäckerei & Söhne", "rights": ["READ", "BILLING"],
            "endsAt": "2026-12-31T00:00:00Z", "status": "APPROVED", "number": "DR-1", "total": "10.00",
            "currency": "EUR", "amount": "5", "entries": 2, "invoiceNumber": "I-1", "program": "Northwind Partner Program",
            "tier": "Gold", "to": "Gold", "from": "Silver", "title": "t", "reason": "r", "protectedUntil": "2026-12-01T00:00:00Z",
            "partner": "Alpine", "seats": 3, "subscriptionIds": ["a"], "renewsAt": "2027-01-01T00:00:00Z",
            "inviter": "Ian", "role": "ADMIN", "expiresAt": "2026-12-08T00:00:00Z", "url": "https://h/x",
            "deadline": "2026-12-20T00:00:00Z", "count": 2, "price": "9.50",
            "tenders": [{ "title": "Phones", "budget": "1–2 EUR", "deadline": "2026-12-20T00:00:00Z" }],
        })
    }

    #[test]
    fn every_kind_renders_in_every_language() {
        let templates = Templates::load().unwrap();
        for language in Language::ALL {
            for kind in NotificationKind::ALL {
                let mail = templates.render(*kind, *language, &sample()).unwrap();
                assert!(!mail.subject.is_empty() && !mail.subject.contains("{{"), "{kind} {language}");
                assert!(mail.text.contains("Anna Alpine") && mail.text.contains("http://x/"), "{kind} {language}");
                // minijinja writes `/` as `&#x2f;` in HTML, which every HTML reader decodes.
                assert!(mail.html.replace("&#x2f;", "/").contains("<a href=\"http://x/\""), "{kind} {language}");
            }
        }
    }

    #[test]
    fn html_escapes_what_people_typed_and_text_keeps_it() {
        let templates = Templates::load().unwrap();
        let mail = templates.render(NotificationKind::GrantRequested, Language::En, &sample()).unwrap();
        assert!(mail.html.contains("Alpine &lt;IT&gt;") && !mail.html.contains("Alpine <IT>"));
        assert!(mail.text.contains("Alpine <IT> asks for access"));
        assert_eq!(mail.subject, "Alpine <IT> asks for access to your account");
        let de = templates.render(NotificationKind::InvoiceIssued, Language::De, &sample()).unwrap();
        assert_eq!(de.subject, "Rechnung DR-1 ausgestellt: 10.00 EUR");
        assert!(de.html.contains("lang=\"de\""));
    }

    #[test]
    fn plain_smtp_is_for_this_host_only() {
        let mut settings = crate::config::Settings::from_vars(&Default::default()).unwrap().delivery;
        for (url, ok) in [
            ("smtp://127.0.0.1:2525", true),
            ("smtp://mail.example.com:25", false),
            ("smtp://u:p@mail.example.com:587?tls=required", true),
            ("smtps://u:p@mail.example.com", true),
            ("http://mail.example.com", false),
        ] {
            settings.smtp_url = Some(url.into());
            assert_eq!(Mailer::check_settings(&settings).is_ok(), ok, "{url}");
        }
    }
}
