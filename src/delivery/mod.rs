//! The ways notifications leave the server: e-mail (SMTP through `lettre`, texts from
//! `templates/mail`) and webhooks (signed POSTs, only to public addresses). The outbox worker
//! (`jobs::outbox`) decides what to send when; this module only sends.

pub mod mail;
pub mod webhook;

use crate::config::Settings;

/// Built once at start from the settings; shared by every request and job.
pub struct Channels {
    pub templates: mail::Templates,
    pub mailer: mail::Mailer,
    pub webhooks: webhook::WebhookClient,
    pub settings: crate::config::DeliverySettings,
    /// Where links in e-mails point (the server's public origin).
    pub public_url: String,
}

impl Channels {
    pub fn start(settings: &Settings) -> Result<Self, String> {
        Ok(Channels {
            templates: mail::Templates::load()?,
            mailer: mail::Mailer::start(&settings.delivery)?,
            webhooks: webhook::WebhookClient::new(
                &settings.delivery,
                settings.dns_resolver,
                !settings.is_development(),
            )?,
            settings: settings.delivery.clone(),
            public_url: settings.public_url.clone(),
        })
    }
}
