//! Persisted documents: automatic persisted queries (a client sends the SHA-256 of a document it
//! sent once before, the `extensions.persistedQuery` protocol) and the trusted-documents mode,
//! where only the operations of a manifest run (what Relay's `persistConfig` or Apollo's
//! persisted-query manifest produce), so a leaked token cannot run arbitrary queries.
//!
//! Done before execution rather than as an async-graphql extension: the document must be known
//! before GET can tell a query from a mutation, and a miss is a request error like a parse error.

use std::{collections::HashMap, num::NonZeroUsize, path::Path, sync::Mutex};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::code;

/// Why a request's document could not be had.
#[derive(Debug, PartialEq)]
pub struct Refused {
    pub message: String,
    pub code: &'static str,
    pub field: Option<&'static str>,
}

impl Refused {
    fn not_found(message: impl Into<String>) -> Self {
        Refused { message: message.into(), code: code::PERSISTED_QUERY_NOT_FOUND, field: None }
    }

    fn bad(field: &'static str, message: impl Into<String>) -> Self {
        Refused { message: message.into(), code: code::BAD_USER_INPUT, field: Some(field) }
    }
}

/// What a request names: its text, a persisted-query hash, a manifest document id.
#[derive(Debug, Default)]
pub struct Asked {
    pub query: Option<String>,
    pub sha256: Option<String>,
    pub document_id: Option<String>,
}

impl Asked {
    /// Reads `extensions.persistedQuery` (version 1 only).
    pub fn from_extensions(&mut self, extensions: &serde_json::Map<String, Value>) -> Result<(), Refused> {
        let Some(persisted) = extensions.get("persistedQuery") else { return Ok(()) };
        let Value::Object(persisted) = persisted else {
            return Err(Refused::bad("extensions.persistedQuery", "must be an object"));
        };
        if persisted.get("version").and_then(Value::as_i64) != Some(1) {
            return Err(Refused::bad("extensions.persistedQuery.version", "only version 1 is supported"));
        }
        match persisted.get("sha256Hash") {
            Some(Value::String(hash)) if is_sha256_hex(hash) => {
                self.sha256 = Some(hash.to_ascii_lowercase());
                Ok(())
            }
            _ => Err(Refused::bad("extensions.persistedQuery.sha256Hash", "must be 64 hexadecimal digits")),
        }
    }
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn sha256_hex(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

pub struct Documents {
    /// Automatic persisted queries, least recently used dropped first; `None` when turned off.
    automatic: Option<Mutex<lru::LruCache<String, String>>>,
    /// The trusted documents by id and by SHA-256; `None` unless that mode is on.
    trusted: Option<Trusted>,
}

struct Trusted {
    by_id: HashMap<String, String>,
    by_hash: HashMap<String, String>,
}

impl Documents {
    pub fn new(cache_size: usize, manifest: Option<&Path>) -> Result<Documents, String> {
        let trusted = match manifest {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the trusted documents {}: {e}", path.display()))?;
                let by_id = parse_manifest(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                let by_hash = by_id.values().map(|d| (sha256_hex(d), d.clone())).collect();
                Some(Trusted { by_id, by_hash })
            }
            None => None,
        };
        let automatic = NonZeroUsize::new(cache_size).map(|n| Mutex::new(lru::LruCache::new(n)));
        Ok(Documents { automatic, trusted })
    }

    /// The document to run.
    pub fn resolve(&self, asked: Asked) -> Result<String, Refused> {
        if let (Some(query), Some(hash)) = (&asked.query, &asked.sha256)
            && sha256_hex(query) != *hash
        {
            return Err(Refused::bad("extensions.persistedQuery.sha256Hash", "is not the SHA-256 of the query sent"));
        }
        if let Some(trusted) = &self.trusted {
            let found = match (&asked.document_id, &asked.sha256, &asked.query) {
                (Some(id), _, _) => trusted.by_id.get(id),
                (None, Some(hash), _) => trusted.by_hash.get(hash),
                (None, None, Some(query)) => trusted.by_hash.get(&sha256_hex(query)),
                (None, None, None) => return Err(Refused::bad("query", "send a query or a documentId")),
            };
            return match found {
                Some(document) => match &asked.query {
                    Some(query) if query != document => {
                        Err(Refused::bad("query", "differs from the trusted document of this id"))
                    }
                    _ => Ok(document.clone()),
                },
                None => Err(Refused::not_found("this server runs only trusted documents, and this is not one of them")),
            };
        }
        if asked.document_id.is_some() {
            return Err(Refused::not_found("this server has no trusted documents manifest; send the query"));
        }
        match (asked.query, asked.sha256) {
            (Some(query), None) => Ok(query),
            (Some(query), Some(hash)) => {
                if let Some(cache) = &self.automatic {
                    cache.lock().unwrap_or_else(|e| e.into_inner()).put(hash, query.clone());
                }
                Ok(query)
            }
            (None, Some(hash)) => {
                let Some(cache) = &self.automatic else {
                    return Err(Refused::not_found("persisted queries are turned off here; send the query"));
                };
                cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&hash)
                    .cloned()
                    .ok_or_else(|| Refused::not_found("PersistedQueryNotFound: send the query with its hash once"))
            }
            (None, None) => Err(Refused::bad("query", "must be a string")),
        }
    }
}

/// A Relay persisted-queries file (`{"<id>": "<document>"}`) or an Apollo persisted-query
/// manifest (`{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}`).
fn parse_manifest(text: &str) -> Result<HashMap<String, String>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(map) = value else { return Err("not a JSON object".into()) };
    if map.get("format").and_then(Value::as_str) == Some("apollo-persisted-query-manifest") {
        let Some(Value::Array(operations)) = map.get("operations") else {
            return Err("an Apollo manifest lists `operations`".into());
        };
        return operations
            .iter()
            .map(|op| match (op.get("id").and_then(Value::as_str), op.get("body").and_then(Value::as_str)) {
                (Some(id), Some(body)) => Ok((id.to_string(), body.to_string())),
                _ => Err("every operation has a string `id` and `body`".to_string()),
            })
            .collect();
    }
    map.into_iter()
        .map(|(id, document)| match document {
            Value::String(d) => Ok((id, d)),
            _ => Err(format!("document {id} is not a string")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{ viewer { user { displayName } } }";

    fn asked(query: Option<&str>, sha256: Option<&str>, id: Option<&str>) -> Asked {
        Asked {
            query: query.map(str::to_string),
            sha256: sha256.map(str::to_string),
            document_id: id.map(str::to_string),
        }
    }

    #[test]
    fn automatic_persisted_queries_register_then_run_by_hash() {
        let docs = Documents::new(2, None).unwrap();
        let hash = sha256_hex(DOC);
        assert_eq!(docs.resolve(asked(None, Some(&hash), None)).unwrap_err().code, code::PERSISTED_QUERY_NOT_FOUND);
        assert_eq!(docs.resolve(asked(Some(DOC), Some(&hash), None)).unwrap(), DOC);
        assert_eq!(docs.resolve(asked(None, Some(&hash), None)).unwrap(), DOC);
        let wrong = docs.resolve(asked(Some("{ __typename }"), Some(&hash), None)).unwrap_err();
        assert_eq!((wrong.code, wrong.field), (code::BAD_USER_INPUT, Some("extensions.persistedQuery.sha256Hash")));
    }

    #[test]
    fn the_cache_is_bounded() {
        let docs = Documents::new(2, None).unwrap();
        let queries = ["{ a }", "{ b }", "{ c }"];
        for q in queries {
            docs.resolve(asked(Some(q), Some(&sha256_hex(q)), None)).unwrap();
        }
        assert!(docs.resolve(asked(None, Some(&sha256_hex("{ a }")), None)).is_err(), "the oldest went");
        assert!(docs.resolve(asked(None, Some(&sha256_hex("{ c }")), None)).is_ok());
    }

    #[test]
    fn trusted_documents_run_only_what_the_manifest_lists() {
        let dir = tempfile::tempdir().unwrap();
        let relay = dir.path().join("relay.json");
        std::fs::write(&relay, serde_json::json!({ "abc": DOC }).to_string()).unwrap();
        let docs = Documents::new(10, Some(&relay)).unwrap();
        assert_eq!(docs.resolve(asked(None, None, Some("abc"))).unwrap(), DOC);
        assert_eq!(docs.resolve(asked(Some(DOC), None, None)).unwrap(), DOC, "the listed text itself");
        assert_eq!(docs.resolve(asked(None, Some(&sha256_hex(DOC)), None)).unwrap(), DOC);
        for refused in [asked(Some("{ __typename }"), None, None), asked(None, None, Some("nope"))] {
            assert_eq!(docs.resolve(refused).unwrap_err().code, code::PERSISTED_QUERY_NOT_FOUND);
        }
        let q = "{ __typename }";
        docs.resolve(asked(Some(q), Some(&sha256_hex(q)), None)).unwrap_err();
        assert!(docs.resolve(asked(None, Some(&sha256_hex(q)), None)).is_err(), "APQ cannot add documents");

        let apollo = dir.path().join("apollo.json");
        let manifest = serde_json::json!({ "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": "x1", "name": "Me", "type": "query", "body": DOC }] });
        std::fs::write(&apollo, manifest.to_string()).unwrap();
        let docs = Documents::new(0, Some(&apollo)).unwrap();
        assert_eq!(docs.resolve(asked(None, None, Some("x1"))).unwrap(), DOC);
        std::fs::write(&apollo, "[1]").unwrap();
        assert!(Documents::new(0, Some(&apollo)).is_err());
    }
}
