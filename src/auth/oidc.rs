//! Sign-in with OpenID Connect: authorization code flow with PKCE (S256), `state` and `nonce`
//! kept in the database for 10 minutes so any node can finish a login, and the ID token checked
//! (signature against the provider's keys, issuer, audience, expiry, nonce). Users are found by
//! (issuer, subject), never by e-mail.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use entity::user;
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims},
};
use sea_orm::DatabaseConnection;
use tokio::sync::RwLock;

use crate::{config::OidcProviderSettings, service::identity};

const LOGIN_VALIDITY: TimeDelta = TimeDelta::minutes(10);

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// Why a login could not go on; each is shown to the person as a page, never as a panic.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("unknown sign-in provider")]
    UnknownProvider,
    #[error("the return address must be a path on this site")]
    BadReturnTo,
    #[error("the sign-in provider cannot be reached right now; try again in a moment")]
    ProviderUnavailable,
    #[error("this sign-in link is unknown, used or expired; start again")]
    BadState,
    #[error("the answer did not come from the provider the sign-in started with")]
    WrongIssuer,
    #[error("the provider refused the sign-in: {0}")]
    Refused(String),
    #[error("the provider's identity token is not valid")]
    InvalidIdToken,
    #[error("internal error")]
    Internal(String),
}

impl From<sea_orm::DbErr> for LoginError {
    fn from(err: sea_orm::DbErr) -> Self {
        LoginError::Internal(err.to_string())
    }
}

impl From<crate::error::AppError> for LoginError {
    fn from(err: crate::error::AppError) -> Self {
        match err {
            // The detail, its place and source, for the log (the page says "internal error").
            crate::error::AppError::Internal(detail) => LoginError::Internal(detail.to_string()),
            other => LoginError::Internal(other.to_string()),
        }
    }
}

struct Provider {
    settings: OidcProviderSettings,
    /// Discovered metadata (endpoints and signing keys); fetched at start and again when missing.
    metadata: RwLock<Option<CoreProviderMetadata>>,
}

/// The configured providers, shared by all requests.
pub struct Providers {
    providers: BTreeMap<String, Provider>,
    http: reqwest::Client,
    redirect_uri: String,
}

pub struct ProviderInfo {
    pub key: String,
    pub display_name: String,
}

/// What the callback hands back: who signed in, and where to send them.
pub struct LoggedIn {
    pub user: user::Model,
    pub provider: String,
    pub return_to: String,
}

impl Providers {
    /// Builds the registry and runs discovery; a provider that cannot be reached now is tried
    /// again at its next login.
    pub async fn start(settings: &[OidcProviderSettings], public_url: &str) -> Arc<Providers> {
        // Never follow redirects: a provider's answer must come from the provider (SSRF).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let providers = settings
            .iter()
            .map(|s| (s.key.clone(), Provider { settings: s.clone(), metadata: RwLock::new(None) }))
            .collect();
        let registry = Arc::new(Providers { providers, http, redirect_uri: format!("{public_url}/auth/callback") });
        for provider in registry.providers.values() {
            if let Err(err) = registry.metadata(provider, true).await {
                tracing::warn!(provider = %provider.settings.key, error = %err, "OpenID discovery failed; will retry at login");
            }
        }
        registry
    }

    pub fn list(&self) -> Vec<ProviderInfo> {
        self.providers
            .values()
            .map(|p| ProviderInfo { key: p.settings.key.clone(), display_name: p.settings.label().to_string() })
            .collect()
    }

    async fn metadata(&self, provider: &Provider, refresh: bool) -> Result<CoreProviderMetadata, LoginError> {
        if !refresh && let Some(m) = provider.metadata.read().await.clone() {
            return Ok(m);
        }
        let issuer =
            IssuerUrl::new(provider.settings.issuer.clone()).map_err(|e| LoginError::Internal(e.to_string()))?;
        // discover_async checks that the document's issuer equals the configured one exactly.
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|err| {
            tracing::warn!(provider = %provider.settings.key, error = %err, "OpenID discovery failed");
            LoginError::ProviderUnavailable
        })?;
        *provider.metadata.write().await = Some(metadata.clone());
        Ok(metadata)
    }

    fn client(&self, provider: &Provider, metadata: CoreProviderMetadata) -> Result<Client, LoginError> {
        let redirect = RedirectUrl::new(self.redirect_uri.clone()).map_err(|e| LoginError::Internal(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.settings.client_id.clone()),
            Some(ClientSecret::new(provider.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    fn provider(&self, key: &str) -> Result<&Provider, LoginError> {
        self.providers.get(&key.to_ascii_lowercase()).ok_or(LoginError::UnknownProvider)
    }

    /// Starts a login: stores state, nonce and PKCE verifier, returns the provider's URL.
    pub async fn begin(
        &self,
        db: &DatabaseConnection,
        provider_key: &str,
        return_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, LoginError> {
        let provider = self.provider(provider_key)?;
        let return_to = match return_to {
            Some(r) => crate::domain::validate::return_to(r).map_err(|_| LoginError::BadReturnTo)?,
            None => "/".to_string(),
        };
        let metadata = self.metadata(provider, false).await?;
        let client = self.client(provider, metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request =
            client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for scope in provider.settings.scope_list() {
            request = request.add_scope(Scope::new(scope));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = identity::LoginStart {
            state: state.secret(),
            provider: &provider.settings.key,
            pkce_verifier: verifier.secret(),
            nonce: nonce.secret(),
            return_to,
        };
        identity::remember_login(db, pending, now + LOGIN_VALIDITY, now).await?;
        Ok(url.to_string())
    }

    /// Finishes a login. The state row is consumed first, so whatever fails afterwards, the same
    /// answer cannot be replayed.
    pub async fn finish(
        &self,
        db: &DatabaseConnection,
        state: &str,
        code: &str,
        iss: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LoggedIn, LoginError> {
        let pending = identity::take_login(db, state, now).await?.ok_or(LoginError::BadState)?;
        let provider = self.provider(&pending.provider)?;
        if iss.is_some_and(|iss| iss != provider.settings.issuer) {
            return Err(LoginError::WrongIssuer);
        }
        let metadata = self.metadata(provider, false).await?;
        let client = self.client(provider, metadata)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| LoginError::Internal(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|err| match err {
                RequestTokenError::ServerResponse(r) => LoginError::Refused(r.error().to_string()),
                RequestTokenError::Request(_) => LoginError::ProviderUnavailable,
                other => LoginError::Refused(other.to_string()),
            })?;
        let id_token = response.id_token().ok_or(LoginError::InvalidIdToken)?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            Err(first) => {
                // The provider may have rotated its keys since discovery: fetch them once more.
                tracing::info!(error = %first, "ID token did not verify; refreshing the provider's keys");
                let metadata = self.metadata(provider, true).await?;
                let client = self.client(provider, metadata)?;
                id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(|err| {
                        tracing::warn!(provider = %provider.settings.key, error = %err, "ID token refused");
                        LoginError::InvalidIdToken
                    })?
                    .clone()
            }
        };
        let subject = claims.subject().to_string();
        let mut email = claims.email().map(|e| e.to_string());
        let mut email_verified = claims.email_verified().unwrap_or(false);
        let mut name = claims.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        if email.is_none() {
            // Many providers put only `sub` in the ID token; the rest comes from userinfo.
            if let Some(info) = self.user_info(&client, response.access_token().clone(), &subject).await? {
                email = info.email().map(|e| e.to_string());
                email_verified = info.email_verified().unwrap_or(false);
                name = name.or_else(|| info.name().and_then(|n| n.get(None)).map(|n| n.to_string()));
            }
        }
        let user = identity::upsert_user(
            db,
            identity::SignedIn { issuer: &provider.settings.issuer, subject: &subject, email, email_verified, name },
            now,
        )
        .await?;
        Ok(LoggedIn { user, provider: provider.settings.key.clone(), return_to: pending.return_to })
    }

    async fn user_info(
        &self,
        client: &Client,
        access_token: AccessToken,
        subject: &str,
    ) -> Result<Option<CoreUserInfoClaims>, LoginError> {
        let Ok(request) = client.user_info(access_token, Some(openidconnect::SubjectIdentifier::new(subject.into())))
        else {
            return Ok(None);
        };
        match request.request_async(&self.http).await {
            Ok(info) => Ok(Some(info)),
            Err(err) => {
                tracing::warn!(error = %err, "userinfo request failed");
                Err(LoginError::ProviderUnavailable)
            }
        }
    }
}
