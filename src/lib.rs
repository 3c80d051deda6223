//! partnerhub: a partner-ecosystem platform behind one GraphQL endpoint.
//!
//! `Application::build` assembles everything from settings; `main` and the tests both use it.

pub mod auth;
pub mod backup;
pub mod clock;
pub mod config;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod files;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod metrics;
pub mod policy;
pub mod principal;
pub mod secrets;
pub mod seed;
pub mod service;
pub mod telemetry;

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use tokio::net::TcpListener;

use crate::{clock::Clock, config::Settings, db::StatementCounter};

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub schema: graphql::AppSchema,
    pub ctx: service::Ctx,
    pub statements: StatementCounter,
    pub providers: Arc<auth::oidc::Providers>,
    pub cookie: auth::session::CookiePolicy,
    pub auth_limits: Arc<http::limits::AuthLimits>,
    pub documents: Arc<http::persisted::Documents>,
}

pub struct Application {
    pub state: AppState,
    router: Router,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Database(sea_orm::DbErr),
    #[error("cannot apply migrations: {0}")]
    Migration(sea_orm::DbErr),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Documents(String),
    #[error("cannot start: {0}")]
    Files(String),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

impl Application {
    /// Connects to the database, applies pending migrations and builds the router.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let limits = db::Limits {
            acquire_timeout: settings.operations.acquire_timeout,
            statement_timeout: settings.operations.statement_timeout,
        };
        let (db, statements) = db::connect_with(
            &settings.database_url,
            settings.database_max_connections,
            settings.database_statement_cache,
            limits,
        )
        .await
        .map_err(StartError::Database)?;
        metrics::install();
        db::migrate(&db).await.map_err(StartError::Migration)?;
        let schema = graphql::build(&settings);
        let providers = auth::oidc::Providers::start(&settings.oidc_providers, &settings.public_url).await;
        // Only plain-HTTP development may use a cookie without `Secure`.
        let cookie = auth::session::CookiePolicy {
            secure: !(settings.is_development() && settings.public_url.starts_with("http://")),
        };
        let auth_limits = Arc::new(http::limits::AuthLimits::new(settings.rate_limits));
        let documents = http::persisted::Documents::new(
            settings.graphql.persisted_queries,
            settings.graphql.trusted_documents.as_deref(),
        )
        .map_err(StartError::Documents)?;
        let ctx = service::Ctx::open(db, clock, &settings).map_err(StartError::Files)?;
        if sea_orm::ConnectionTrait::get_database_backend(&ctx.db) == sea_orm::DbBackend::Postgres {
            ctx.events.listen(&settings.database_url);
        }
        let state = AppState {
            settings: Arc::new(settings),
            schema,
            ctx,
            statements,
            providers,
            cookie,
            auth_limits,
            documents: Arc::new(documents),
        };
        let router = http::router(state.clone())
            .layer(axum::extract::DefaultBodyLimit::max(state.settings.graphql.max_body_bytes));
        Ok(Application { state, router })
    }

    pub async fn bind(&self) -> Result<TcpListener, StartError> {
        let addr = self.state.settings.listen;
        TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })
    }

    /// Serves until the process receives Ctrl-C / SIGTERM, running the background jobs. Then it
    /// stops accepting connections, lets requests in flight finish for up to
    /// `PARTNERHUB_SHUTDOWN_GRACE`, and waits for the jobs to put down what they hold (the outbox
    /// releases the deliveries it leased and did not try).
    pub async fn serve(self, listener: TcpListener) -> Result<(), StartError> {
        use std::future::IntoFuture;
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let jobs = jobs::spawn(self.state.ctx.clone(), stopping.clone());
        self.serve_metrics().await?;
        let grace = self.state.settings.operations.shutdown_grace;
        let signalled = async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        };
        let server = axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(signalled)
            .into_future();
        let mut waiting = stopping.clone();
        let grace_over = async move {
            let _ = waiting.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = server => served.map_err(StartError::Serve)?,
            () = grace_over => tracing::warn!(grace_s = grace.as_secs_f64(), "requests still in flight when the grace period ended"),
        }
        if tokio::time::timeout(std::time::Duration::from_secs(10), jobs).await.is_err() {
            tracing::warn!("a job did not stop within 10 s");
        }
        tracing::info!("stopped");
        Ok(())
    }

    /// Serves without waiting for a signal (tests stop it by dropping the runtime).
    pub async fn serve_forever(self, listener: TcpListener) -> Result<(), StartError> {
        self.serve_metrics().await?;
        axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .map_err(StartError::Serve)
    }

    /// `/metrics` on `PARTNERHUB_METRICS_LISTEN`, apart from the public address.
    async fn serve_metrics(&self) -> Result<(), StartError> {
        let Some(addr) = self.state.settings.operations.metrics_listen else { return Ok(()) };
        let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })?;
        tracing::info!(address = %addr, "serving /metrics");
        let router = metrics::router(self.state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
