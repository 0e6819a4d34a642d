//! Carrying out one target's [`Plan`]: stage after stage, each stage's
//! files a few at a time, the next stage only once every file before it is
//! delivered, deletions last and only after every upload. Every outcome
//! goes to the caller as it happens, who records it in the outbox.
//!
//! The kinds that store files (`http-put`, `s3`) are behind [`FileStore`]:
//! `put` with a precondition and `delete` are all a kind must offer.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use super::plan::{Deletion, Plan, Upload};
use super::redact::Secrets;
use super::s3::Bucket;
use super::send::{Client, Delivery};
use crate::config::{PushKind, PushTarget};

/// Uploads (or deletions) at once per target.
const PARALLEL: usize = 4;

/// A target that stores files.
#[derive(Clone)]
pub enum FileStore {
    /// `http-put`: WebDAV and the like.
    Http(Client),
    /// `s3`.
    S3(Bucket),
}

/// A configured target.
#[derive(Clone)]
pub enum Target {
    /// Stores every file.
    Files(FileStore),
    /// Hears of changed and removed feeds.
    Webhook(Client),
}

impl Target {
    /// The target of `[[push]]` table `target`.
    pub fn new(target: &PushTarget, secrets: Arc<Secrets>) -> Result<Target, String> {
        Ok(match target.kind {
            PushKind::HttpPut => Target::Files(FileStore::Http(Client::new(target, secrets)?)),
            PushKind::S3 => Target::Files(FileStore::S3(Bucket::new(target, secrets)?)),
            PushKind::Webhook => Target::Webhook(Client::new(target, secrets)?),
        })
    }
}

impl FileStore {
    async fn put(&self, upload: Upload, path: PathBuf) -> Delivery {
        match self {
            FileStore::Http(c) => c.put(upload, path).await,
            FileStore::S3(b) => b.put(upload, path).await,
        }
    }

    async fn delete(&self, deletion: Deletion) -> Delivery {
        match self {
            FileStore::Http(c) => c.delete(deletion).await,
            FileStore::S3(b) => b.delete(deletion).await,
        }
    }
}

/// Carries out `plan` on `store`, sending each outcome, tagged `t`, to
/// `tx`. Files of the output folder `dir` are read as they go.
pub async fn deliver(
    t: usize,
    store: FileStore,
    plan: Plan,
    dir: PathBuf,
    tx: mpsc::UnboundedSender<(usize, Delivery)>,
) {
    let gate = Arc::new(Semaphore::new(PARALLEL));
    // The first file not delivered: what comes after it waits.
    let mut missing: Option<String> = None;
    for stage in plan.stages {
        if let Some(first) = &missing {
            for upload in stage {
                let held = Delivery::Failed {
                    files: vec![(upload.file, upload.sha256)],
                    attempts: 0,
                    error: format!("held back: {first}, which comes first, is not delivered yet"),
                    permanent: false,
                };
                let _ = tx.send((t, held));
            }
            continue;
        }
        let mut jobs = JoinSet::new();
        for upload in stage {
            let (store, gate) = (store.clone(), gate.clone());
            let path = dir.join(&upload.file);
            jobs.spawn(async move {
                let _permit = gate.acquire_owned().await;
                store.put(upload, path).await
            });
        }
        while let Some(done) = jobs.join_next().await {
            let Ok(delivery) = done else { continue };
            if let Delivery::Failed { files, .. } = &delivery {
                if missing.is_none() {
                    missing = files.first().map(|(f, _)| f.clone());
                }
            }
            let _ = tx.send((t, delivery));
        }
    }
    if let Some(first) = missing {
        for deletion in plan.deletions {
            let waits = Delivery::NotDeleted {
                file: deletion.file,
                error: format!("waits until every upload is delivered ({first} is not)"),
            };
            let _ = tx.send((t, waits));
        }
        return;
    }
    let mut jobs = JoinSet::new();
    for deletion in plan.deletions {
        let (store, gate) = (store.clone(), gate.clone());
        jobs.spawn(async move {
            let _permit = gate.acquire_owned().await;
            store.delete(deletion).await
        });
    }
    while let Some(done) = jobs.join_next().await {
        if let Ok(delivery) = done {
            let _ = tx.send((t, delivery));
        }
    }
}
