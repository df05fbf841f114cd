//! Searching: one subtree search (paged when the server's size limit cuts it), what
//! a failed attempt means (another server, or the answer), and running one lookup on
//! a pooled connection within `operation_timeout`, failing over between servers.

use std::future::Future;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapError, LdapResult, Scope, SearchEntry};

use super::pool::{unavailable, Handle, SOURCE};
use super::Inner;
use crate::clock::millis;
use crate::error::{Error, Result};

/// Entries per page. Servers cap this themselves (AD at 1000); paging is what makes
/// result sets larger than the server's size limit come back whole.
const PAGE_SIZE: i32 = 500;
/// LDAP result code sizeLimitExceeded.
const SIZE_LIMIT_EXCEEDED: u32 = 4;

/// Why one attempt at a lookup failed: the connection (try another), or the answer
/// (report it).
pub(crate) enum Failure {
    Connection(LdapError),
    Answer(Error),
}

impl From<LdapError> for Failure {
    fn from(e: LdapError) -> Self {
        match e {
            // busy / unavailable: this server cannot answer now; another one may.
            LdapError::LdapResult { result } if matches!(result.rc, 51 | 52) => {
                Failure::Connection(LdapError::LdapResult { result })
            }
            // Any other result code is the directory's answer: asking elsewhere will
            // not change it.
            LdapError::LdapResult { result } => Failure::Answer(unavailable(format!(
                "the server answered {} ({}){}",
                result.rc,
                result_code_name(result.rc),
                if result.text.is_empty() {
                    String::new()
                } else {
                    format!(": {}", result.text)
                }
            ))),
            e => Failure::Connection(e),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Answer(e)
    }
}

fn result_code_name(rc: u32) -> &'static str {
    match rc {
        2 => "protocol error",
        3 => "time limit exceeded",
        4 => "size limit exceeded: the answer would be incomplete",
        10 => "referral",
        11 => "administrative limit exceeded",
        32 => "no such object: check user_base / group_base",
        34 => "invalid DN syntax",
        48 => "inappropriate authentication",
        49 => "invalid credentials",
        50 => "insufficient access rights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwilling to perform",
        _ => "LDAP error",
    }
}

/// A subtree search returning whole entries. Asked plainly first, since nearly every
/// lookup fits in one answer; if the server stops at its size limit, asked again with
/// paging, so the answer is complete or an error, never silently truncated.
pub(super) async fn search(
    handle: Handle,
    base: &str,
    filter: &str,
    attrs: Vec<String>,
) -> std::result::Result<Vec<SearchEntry>, Failure> {
    let mut ldap = handle.ldap.clone();
    let (entries, done) = one_pass(&mut ldap, base, filter, attrs.clone()).await?;
    if done.rc == SIZE_LIMIT_EXCEEDED {
        return search_paged(handle, base, filter, attrs).await;
    }
    done.success()?;
    Ok(entries)
}

/// One unpaged subtree search (with the controls set on `ldap`, if any): the entries
/// that came and how the server ended it, left to the caller to judge.
pub(super) async fn one_pass(
    ldap: &mut Ldap,
    base: &str,
    filter: &str,
    attrs: Vec<String>,
) -> std::result::Result<(Vec<SearchEntry>, LdapResult), Failure> {
    let mut stream = ldap
        .streaming_search_with(EntriesOnly::new(), base, Scope::Subtree, filter, attrs)
        .await?;
    let mut entries = Vec::new();
    while let Some(entry) = stream.next().await? {
        entries.push(SearchEntry::construct(entry));
    }
    Ok((entries, stream.finish().await))
}

/// A subtree search in pages of `PAGE_SIZE`, one paged search per connection at a time.
pub(super) async fn search_paged(
    handle: Handle,
    base: &str,
    filter: &str,
    attrs: Vec<String>,
) -> std::result::Result<Vec<SearchEntry>, Failure> {
    let _one_at_a_time = handle.paging.lock().await;
    let mut ldap = handle.ldap.clone();
    let adapters: Vec<Box<dyn Adapter<String, Vec<String>>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(PAGE_SIZE)),
    ];
    let mut stream = ldap
        .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
        .await?;
    let mut entries = Vec::new();
    while let Some(entry) = stream.next().await? {
        entries.push(SearchEntry::construct(entry));
    }
    stream.finish().await.success()?;
    Ok(entries)
}

impl Inner {
    /// Runs `op` on a pooled connection within `operation_timeout`. A pooled connection
    /// that turns out broken is replaced (with every other pooled connection to that
    /// server: they were most likely cut together) and the lookup retried; a server
    /// that fails on a fresh connection, or does not answer in time, is marked dead
    /// and the next one tried.
    pub(super) async fn with_connection<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: Fn(Handle) -> Fut,
        Fut: Future<Output = std::result::Result<T, Failure>>,
    {
        let timeout = self.cfg.operation_timeout;
        let mut last: Option<Error> = None;
        // Each server fails at most twice (a stale pooled connection, then a fresh one)
        // before it is dead and skipped.
        for _ in 0..2 * self.pool.server_count() + 1 {
            let lease = match self.pool.get().await {
                Ok(lease) => lease,
                Err(e) => return Err(last.unwrap_or(e)),
            };
            let uri = self.pool.uri(lease.server);
            match tokio::time::timeout(timeout, op(lease.handle.clone())).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(Failure::Answer(e))) => return Err(e),
                Ok(Err(Failure::Connection(e))) => {
                    let why = e.to_string();
                    if lease.fresh {
                        self.pool.mark_dead(lease.server, &why);
                        self.pool.discard(&lease);
                    } else {
                        self.pool.discard_server(lease.server, lease.id);
                    }
                    last = Some(unavailable(format!("{uri}: {why}")));
                }
                Err(_) => {
                    let after_ms = millis(timeout);
                    self.pool
                        .mark_dead(lease.server, &format!("no answer within {after_ms} ms"));
                    // A server that hangs is dropped whole: every connection to it.
                    self.pool.discard_server(lease.server, u64::MAX);
                    last = Some(Error::Timeout {
                        source_name: SOURCE.into(),
                        after_ms,
                    });
                }
            }
        }
        Err(last.unwrap_or_else(|| unavailable("no LDAP server answered")))
    }
}
