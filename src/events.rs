//! Live events: ids of what changed, for the GraphQL subscriptions of this node's clients. On
//! PostgreSQL they travel between nodes by `NOTIFY`, sent inside the transaction that made the
//! change (so they leave only when it commits) and heard by every node's `LISTEN`; on SQLite, one
//! process, they go through memory. Events carry ids only: each subscriber reads the row again
//! under its own policy.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::error::AppResult;

/// The PostgreSQL channel every node listens on.
pub const CHANNEL: &str = "partnerhub_events";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A notification was committed.
    Notification(Uuid),
    /// An API token was revoked: streams it opened end at once.
    TokenRevoked(Uuid),
}

impl Event {
    fn encode(self) -> String {
        match self {
            Event::Notification(id) => format!("n:{id}"),
            Event::TokenRevoked(id) => format!("r:{id}"),
        }
    }

    fn decode(text: &str) -> Option<Event> {
        let (kind, id) = text.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "n" => Some(Event::Notification(id)),
            "r" => Some(Event::TokenRevoked(id)),
            _ => None,
        }
    }
}

/// This node's event bus.
#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events { tx: broadcast::channel(4096).0 }
    }
}

impl Events {
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// How many live streams listen on this node.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// To this node's subscribers now (SQLite, after the change committed).
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    /// Inside the transaction of a change: on PostgreSQL a `NOTIFY` that every node hears when it
    /// commits; elsewhere nothing (the caller publishes after the commit).
    pub async fn notify_on_commit(db: &impl ConnectionTrait, event: Event) -> AppResult<bool> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(false);
        }
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), event.encode().into()],
        ))
        .await?;
        Ok(true)
    }

    /// Listens on PostgreSQL for every node's events until the process stops, reconnecting
    /// after a lost connection.
    pub fn listen(&self, database_url: &str) {
        let tx = self.tx.clone();
        let url = database_url.to_string();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        if let Err(err) = listener.listen(CHANNEL).await {
                            tracing::warn!(error = %err, "cannot LISTEN for live events; retrying");
                        } else {
                            tracing::debug!("listening for live events");
                            loop {
                                match listener.recv().await {
                                    Ok(n) => {
                                        if let Some(event) = Event::decode(n.payload()) {
                                            let _ = tx.send(event);
                                        }
                                    }
                                    Err(err) => {
                                        tracing::warn!(error = %err, "live events connection lost; reconnecting");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "cannot connect for live events; retrying"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_the_wire() {
        let id = Uuid::now_v7();
        for e in [Event::Notification(id), Event::TokenRevoked(id)] {
            assert_eq!(Event::decode(&e.encode()), Some(e));
        }
        assert_eq!(Event::decode("x:1"), None);
    }
}
