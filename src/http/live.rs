//! `GET /graphql` with a WebSocket upgrade: GraphQL subscriptions over graphql-transport-ws.
//! The connection signs in with `connection_init`'s payload (`authorization: "Bearer <token>"`,
//! optionally `organization`), or with the session cookie of the upgrade request, which must come
//! from this site as every cookie request; anonymous connections are refused.

use std::sync::Arc;

use async_graphql::{Data, http::WebSocketProtocols};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::ws::WebSocketUpgrade,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    AppState,
    auth::session,
    error::AppError,
    graphql::{
        context::RequestState,
        live::{Credential, LiveAuth},
        loaders::Loaders,
    },
};

pub fn upgrade(state: AppState, headers: &HeaderMap, ws: WebSocketUpgrade, protocol: GraphQLProtocol) -> Response {
    // The one the extractor chose: the first protocol of the list it knows.
    let chosen = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|list| list.split(',').map(str::trim).find(|p| p.parse::<WebSocketProtocols>().is_ok()));
    if chosen != Some("graphql-transport-ws") {
        return (StatusCode::BAD_REQUEST, "use the graphql-transport-ws protocol").into_response();
    }
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(session::secret_from_cookies)
        .map(str::to_string);
    if cookie.is_some()
        && let Err(err) = super::auth::same_origin(&state, headers)
    {
        return super::error_response(err);
    }
    let header_organization =
        headers.get("x-partnerhub-organization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let schema = state.schema.clone();
    ws.protocols(["graphql-transport-ws"]).on_upgrade(move |socket| async move {
        GraphQLWebSocket::new(socket, schema, protocol)
            .on_connection_init(move |payload| async move {
                let text = |key: &str| payload.get(key).and_then(|v| v.as_str()).map(str::to_string);
                let bearer = text("authorization")
                    .or_else(|| text("Authorization"))
                    .map(|v| v.trim().strip_prefix("Bearer ").unwrap_or(&v).trim().to_string())
                    .or_else(|| text("token"));
                let credential = match (bearer, cookie) {
                    (Some(token), _) => Credential::Token(token),
                    (None, Some(secret)) => Credential::Session(secret),
                    (None, None) => {
                        return Err(AppError::Unauthenticated(
                            "send {\"authorization\": \"Bearer <token>\"} in connection_init, or the session cookie"
                                .into(),
                        )
                        .into());
                    }
                };
                let auth = LiveAuth { credential, organization: text("organization").or(header_organization) };
                let principal = Arc::new(auth.authenticate(&state.ctx).await?);
                let principal = Some(principal);
                let mut data = Data::default();
                data.insert(Arc::new(Loaders::new(&state.ctx, &principal, state.settings.graphql.dataloader_delay)));
                data.insert(RequestState {
                    ctx: state.ctx.clone(),
                    principal,
                    dns_resolver: state.settings.dns_resolver,
                    public_url: state.settings.public_url.clone(),
                    development: state.settings.is_development(),
                    client: None,
                });
                data.insert(auth);
                Ok(data)
            })
            .serve()
            .await
    })
}
