//! Uploaded files, stored by their SHA-256 through `object_store`: a directory on local disk by
//! default, or an S3-compatible bucket shared by several nodes. A file's bytes are written once
//! whoever uploads them again, and they stream in and out in parts, never held whole.

use std::{path::PathBuf, sync::Arc};

use futures_util::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart, path::Path};
use tokio::io::AsyncReadExt;

use crate::error::{AppError, AppResult};

/// Where files go, from `PARTNERHUB_FILES`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A directory, created when missing.
    Local(PathBuf),
    /// A bucket, with an endpoint for S3-compatible servers; credentials and region come from
    /// the usual `AWS_*` variables.
    S3 { bucket: String, endpoint: Option<String> },
}

impl Location {
    /// `s3://bucket` or a directory path.
    pub fn parse(text: &str, endpoint: Option<String>) -> Result<Location, String> {
        match text.strip_prefix("s3://") {
            Some(bucket) => {
                let bucket = bucket.trim_end_matches('/');
                if bucket.is_empty() || bucket.contains('/') {
                    return Err("s3://<bucket>, without a path".into());
                }
                Ok(Location::S3 { bucket: bucket.to_string(), endpoint })
            }
            None if text.contains("://") => Err("a directory, or s3://<bucket>".into()),
            None => Ok(Location::Local(PathBuf::from(text))),
        }
    }
}

/// The store and what it is, for logs.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
    pub kind: &'static str,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files").field("kind", &self.kind).finish()
    }
}

/// S3 wants parts of at least 5 MiB but the last; this is also the most held in memory.
const PART_BYTES: usize = 5 * 1024 * 1024;
const READ_BYTES: usize = 64 * 1024;

impl Files {
    pub fn open(location: &Location) -> Result<Files, String> {
        match location {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| format!("cannot use {}: {e}", dir.display()))?;
                Ok(Files { store: Arc::new(store), kind: "local" })
            }
            Location::S3 { bucket, endpoint } => {
                // reqwest's rustls is built without a bundled provider; ring is ours already.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).with_region(
                    std::env::var("AWS_REGION")
                        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                        .unwrap_or_else(|_| "us-east-1".into()),
                );
                if let Some(endpoint) = endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                let store = builder.build().map_err(|e| format!("cannot use bucket {bucket}: {e}"))?;
                Ok(Files { store: Arc::new(store), kind: "s3" })
            }
        }
    }

    fn path(sha256: &str) -> Path {
        Path::from(format!("invoices/{}/{sha256}", &sha256[..2.min(sha256.len())]))
    }

    /// Stores a file read from `file` (the upload's temporary file) under its hash, unless a
    /// file with that hash is there already.
    pub async fn put(&self, sha256: &str, file: std::fs::File) -> AppResult<()> {
        let path = Self::path(sha256);
        match self.store.head(&path).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(AppError::internal(format!("file store: {e}"))),
        }
        let upload =
            self.store.put_multipart(&path).await.map_err(|e| AppError::internal(format!("file store: {e}")))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut file = tokio::fs::File::from_std(file);
        let mut buf = vec![0u8; READ_BYTES];
        loop {
            let n = file.read(&mut buf).await.map_err(|e| AppError::internal(format!("upload: {e}")))?;
            if n == 0 {
                break;
            }
            writer.wait_for_capacity(2).await.map_err(|e| AppError::internal(format!("file store: {e}")))?;
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(|e| AppError::internal(format!("file store: {e}")))?;
        Ok(())
    }

    /// The file's bytes as a stream of parts.
    pub async fn get(
        &self,
        sha256: &str,
    ) -> AppResult<impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + use<>> {
        let found = self.store.get(&Self::path(sha256)).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => {
                AppError::internal(format!("file {sha256} is missing from the store"))
            }
            e => AppError::internal(format!("file store: {e}")),
        })?;
        Ok(found.into_stream().map(|part| part.map_err(std::io::Error::other)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_a_directory_or_a_bucket() {
        assert_eq!(Location::parse("./files", None), Ok(Location::Local(PathBuf::from("./files"))));
        assert_eq!(
            Location::parse("s3://invoices", Some("http://127.0.0.1:9000".into())),
            Ok(Location::S3 { bucket: "invoices".into(), endpoint: Some("http://127.0.0.1:9000".into()) })
        );
        assert!(Location::parse("s3://", None).is_err());
        assert!(Location::parse("s3://a/b", None).is_err());
        assert!(Location::parse("gs://x", None).is_err());
    }

    #[tokio::test]
    async fn a_file_is_stored_once_by_its_hash_and_read_back_whole() {
        use std::io::{Seek, Write};
        let dir = tempfile::tempdir().unwrap();
        let files = Files::open(&Location::Local(dir.path().join("store"))).unwrap();
        let content: Vec<u8> = (0..(PART_BYTES + 12345)).map(|i| (i % 251) as u8).collect();
        let mut tmp = tempfile::tempfile().unwrap();
        tmp.write_all(&content).unwrap();
        tmp.rewind().unwrap();
        files.put("abcdef", tmp.try_clone().unwrap()).await.unwrap();
        // Again: already there, nothing is written.
        files.put("abcdef", tmp).await.unwrap();
        let mut read = Vec::new();
        let mut stream = Box::pin(files.get("abcdef").await.unwrap());
        while let Some(part) = stream.next().await {
            read.extend_from_slice(&part.unwrap());
        }
        assert_eq!(read, content);
        assert!(files.get("missing").await.is_err());
    }
}
