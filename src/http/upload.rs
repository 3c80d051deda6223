//! GraphQL multipart requests (the "GraphQL multipart request spec": `operations`, `map`, then
//! the files), read as they stream in. A file goes to a temporary file on disk in parts and the
//! stream is cut the moment it passes the limit, so an upload is never held whole in memory and
//! an oversized one is refused without being read to its end.

use async_graphql::UploadValue;
use axum::body::Body;
use futures_util::TryStreamExt;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// Why a multipart request was refused: the HTTP status, a message and the field it names.
pub struct Refusal {
    pub status: axum::http::StatusCode,
    pub message: String,
    pub field: Option<&'static str>,
}

impl Refusal {
    fn bad(message: impl Into<String>) -> Refusal {
        Refusal { status: axum::http::StatusCode::BAD_REQUEST, message: message.into(), field: None }
    }
}

/// The request's `operations` (as JSON, for the usual checks) and its files, each with the
/// variable paths the `map` gives it.
pub struct Received {
    pub operations: Value,
    pub files: Vec<(Vec<String>, UploadValue)>,
}

/// Largest `map` part: it names a few paths.
const MAX_MAP_BYTES: u64 = 64 * 1024;
/// Files per request: a claim carries one invoice.
const MAX_FILES: usize = 1;

pub async fn receive(body: Body, boundary: String, max_file: u64, max_operations: u64) -> Result<Received, Refusal> {
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(max_file + max_operations + MAX_MAP_BYTES + 64 * 1024)
            .per_field(max_file)
            .for_field("operations", max_operations)
            .for_field("map", MAX_MAP_BYTES),
    );
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut operations = None;
    let mut map: Option<std::collections::HashMap<String, Vec<String>>> = None;
    let mut files = Vec::new();
    let too_large = |limit: u64| Refusal {
        status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("the file is larger than the limit of {} bytes; nothing was stored", limit),
        field: Some("file"),
    };
    let failed = |err: multer::Error| match err {
        multer::Error::FieldSizeExceeded { field_name, .. } if field_name.as_deref() == Some("operations") => {
            Refusal::bad("the operations part is too large")
        }
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => too_large(max_file),
        other => Refusal::bad(format!("the multipart body is not readable: {other}")),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        match field.name() {
            Some("operations") => {
                let bytes = field.bytes().await.map_err(failed)?;
                operations = Some(
                    serde_json::from_slice::<Value>(&bytes).map_err(|_| Refusal::bad("`operations` is not JSON"))?,
                );
            }
            Some("map") => {
                let bytes = field.bytes().await.map_err(failed)?;
                map = Some(
                    serde_json::from_slice(&bytes)
                        .map_err(|_| Refusal::bad("`map` must be a JSON object of file names to paths"))?,
                );
            }
            Some(name) => {
                let name = name.to_string();
                if operations.is_none() || map.is_none() {
                    return Err(Refusal::bad("send `operations` and `map` before the files"));
                }
                if files.len() == MAX_FILES {
                    return Err(Refusal::bad(format!("a request carries at most {MAX_FILES} file")));
                }
                let paths = map.as_mut().and_then(|m| m.remove(&name)).unwrap_or_default();
                if paths.is_empty() {
                    return Err(Refusal::bad(format!("file part {name:?} is not in `map`")));
                }
                let filename = field.file_name().unwrap_or("upload").to_string();
                let content_type = field.content_type().map(ToString::to_string);
                let temp = tempfile::tempfile().map_err(|e| Refusal {
                    status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    message: format!("cannot take the upload: {e}"),
                    field: None,
                })?;
                let mut out = tokio::fs::File::from_std(temp);
                while let Some(chunk) = field.chunk().await.map_err(failed)? {
                    out.write_all(&chunk).await.map_err(|e| Refusal {
                        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        message: format!("cannot take the upload: {e}"),
                        field: None,
                    })?;
                }
                out.flush().await.map_err(|e| Refusal::bad(format!("cannot take the upload: {e}")))?;
                let content = out.into_std().await;
                files.push((paths, UploadValue { filename, content_type, content }));
            }
            None => return Err(Refusal::bad("every part needs a name")),
        }
    }
    let operations = operations.ok_or_else(|| Refusal::bad("the `operations` part is missing"))?;
    if map.is_none() {
        return Err(Refusal::bad("the `map` part is missing"));
    }
    Ok(Received { operations, files })
}
