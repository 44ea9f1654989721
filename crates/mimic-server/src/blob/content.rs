//! A blob's bytes through the store, bounded in memory whatever their size: a request body is
//! written a chunk at a time as it arrives (each chunk its own durable commit, so one request
//! holds one chunk), and a download reads a chunk at a time as the client takes them.
//!
//! Chunks of data that is never committed (an upload refused or broken off) are deleted by
//! the request that wrote them; a crash mid-upload leaves them until their container or
//! account is deleted (docs/compatibility.md).

use axum::body::{Body, Bytes, HttpBody};
use md5::{Digest, Md5};
use mimic_domain::storage::blob::{Block, CHUNK_BYTES};
use uuid::Uuid;

use super::{blocking, BlobError, BlobResult};
use crate::state::SharedState;

/// What an upload wrote.
pub struct Received {
    pub data: String,
    pub size: u64,
    pub md5: [u8; 16],
}

/// Writes `body` (of `declared` bytes, at most `limit`) as new data under `prefix`
/// (`{instance}/{container}/`), chunk by chunk.
pub async fn receive(state: &SharedState, prefix: &str, mut body: Body, declared: u64, limit: u64) -> BlobResult<Received> {
    if declared > limit {
        return Err(BlobError::body_too_large(limit));
    }
    let data = format!("{prefix}{}", Uuid::new_v4());
    let mut md5 = Md5::new();
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES.min(declared as usize));
    let mut seq: u32 = 0;
    let mut size: u64 = 0;
    let result: BlobResult<()> = async {
        loop {
            let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
            let Some(frame) = frame else { break };
            let frame = frame.map_err(|_| BlobError::invalid_header("Content-Length", &declared.to_string()))?;
            let Ok(bytes) = frame.into_data() else { continue };
            size += bytes.len() as u64;
            if size > limit {
                return Err(BlobError::body_too_large(limit));
            }
            md5.update(&bytes);
            let mut rest: &[u8] = &bytes;
            while !rest.is_empty() {
                let take = (CHUNK_BYTES - buf.len()).min(rest.len());
                buf.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if buf.len() == CHUNK_BYTES {
                    let full = std::mem::replace(&mut buf, Vec::with_capacity(CHUNK_BYTES));
                    write_chunk(state, &data, seq, full).await?;
                    seq += 1;
                }
            }
        }
        if !buf.is_empty() {
            write_chunk(state, &data, seq, std::mem::take(&mut buf)).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        discard(state, vec![data]).await;
        return Err(e);
    }
    Ok(Received { data, size, md5: md5.finalize().into() })
}

async fn write_chunk(state: &SharedState, data: &str, seq: u32, bytes: Vec<u8>) -> BlobResult<()> {
    let (state, data) = (state.clone(), data.to_string());
    blocking(move || Ok(state.store.write(|tx| tx.put_chunk(&data, seq, &bytes))?)).await
}

/// Deletes data that will never be committed (best effort: what fails stays until its
/// container goes).
pub async fn discard(state: &SharedState, data: Vec<String>) {
    if data.is_empty() {
        return;
    }
    let state = state.clone();
    let _ = blocking(move || {
        state.store.write(|tx| {
            for d in &data {
                tx.delete_chunks(d)?;
            }
            Ok::<_, BlobError>(())
        })
    })
    .await;
}

/// The bytes `start..=end` of the blob made of `blocks`, read a chunk at a time as the body
/// is sent. A chunk gone meanwhile (the blob replaced and its old data deleted) ends the body
/// early, which the client sees as a broken download, never as other bytes.
pub fn stream(state: &SharedState, blocks: Vec<Block>, start: u64, end: u64) -> Body {
    struct Cursor {
        state: SharedState,
        blocks: Vec<Block>,
        /// Index of the current block, and the byte offset where it starts in the blob.
        block: usize,
        block_start: u64,
        /// The next byte to send, and the last.
        pos: u64,
        end: u64,
    }
    let cursor = Cursor { state: state.clone(), blocks, block: 0, block_start: 0, pos: start, end };
    let stream = futures_util::stream::unfold(cursor, |mut c| async move {
        if c.pos > c.end {
            return None;
        }
        // Skip to the block holding `pos`.
        while c.block < c.blocks.len() && c.block_start + c.blocks[c.block].size <= c.pos {
            c.block_start += c.blocks[c.block].size;
            c.block += 1;
        }
        let b = c.blocks.get(c.block)?.clone();
        let within = c.pos - c.block_start;
        let seq = (within / CHUNK_BYTES as u64) as u32;
        let offset = (within % CHUNK_BYTES as u64) as usize;
        let state = c.state.clone();
        let data = b.data.clone();
        let chunk = blocking(move || Ok(state.store.read(|tx| tx.chunk(&data, seq))?)).await;
        let chunk = match chunk {
            Ok(Some(bytes)) if offset < bytes.len() => bytes,
            _ => return Some((Err(std::io::Error::other("blob data is gone")), Cursor { pos: c.end + 1, ..c })),
        };
        let want = (c.end - c.pos + 1) as usize;
        let take = (chunk.len() - offset).min(want);
        let out = Bytes::from(chunk).slice(offset..offset + take);
        c.pos += take as u64;
        Some((Ok::<_, std::io::Error>(out), c))
    });
    Body::from_stream(stream)
}
