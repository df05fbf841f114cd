//! proxidd's side of the shared NSS table (layout: `proxid_proto::table`): the file it
//! publishes beside its socket, filled with the answers it gives, so the NSS module
//! answers a warm lookup from a read-only mapping instead of a round trip.
//!
//! One writer (this process, behind a mutex); every change is bracketed by the
//! header's generation (odd while writing) so readers copy, re-check and retry. The
//! file has a fixed size: records go into a ring, and a new record evicts the oldest
//! ones it overlaps. Entries carry the expiry of the daemon's positive TTL; an
//! invalidation, a reload or a not-found answer removes them; a restart writes a new
//! file and retires the old one (its `valid` word set to 0, so mapped readers re-map).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use proxid_proto::table::{self, h, r, Geometry, Kind, EMPTY, HEADER_SIZE, KINDS};
use proxid_proto::Response;

/// Size of the file unless told otherwise: 16 MiB holds some 100,000 passwd entries.
pub const DEFAULT_SIZE: usize = 16 * 1024 * 1024;
/// A record larger than this share of the data area is not published (a huge group
/// is answered by the socket; it would evict too much).
const MAX_RECORD_SHARE: usize = 8;

/// What a record mentions, for invalidating by name.
struct Meta {
    kind: Kind,
    key: Vec<u8>,
    len: usize,
    /// The user's name (passwd, initgroups), the group's name and members (group).
    names: Vec<String>,
    /// A group record's GID, an initgroups record's GIDs.
    gids: Vec<u32>,
}

/// The published table, mapped read-write in the daemon.
pub struct Table {
    path: PathBuf,
    base: *mut u8,
    len: usize,
    ino: u64,
    geometry: Geometry,
    ttl: Duration,
    /// Next free byte of the data area (ring).
    head: usize,
    /// Live records by data-relative offset.
    live: BTreeMap<usize, Meta>,
    keys: HashMap<(Kind, Vec<u8>), usize>,
}

// SAFETY: the mapping is owned by the table and only touched through `&mut self`.
unsafe impl Send for Table {}

/// The table's path for a socket path.
pub fn path_for_socket(socket: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let bytes = table::path_for_socket(socket.as_os_str().as_bytes());
    PathBuf::from(std::ffi::OsStr::from_bytes(&bytes))
}

impl Table {
    /// Writes a new, empty table at `path` (atomically: a temporary file renamed into
    /// place, 0644) and retires the one it replaces.
    pub fn create(path: &Path, size: usize, ttl: Duration) -> io::Result<Table> {
        let buckets = (size / 512).clamp(64, 1 << 20);
        let (header, geometry) = table::header(size, buckets)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "table size too small"))?;
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&tmp)?;
        let made = (|| {
            file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
            file.set_len(size as u64)?;
            // SAFETY: mapping the whole file we just sized, read-write, shared.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    size,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    file.as_raw_fd(),
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let mut t = Table {
                path: path.to_path_buf(),
                base: base.cast(),
                len: size,
                ino: file.metadata()?.ino(),
                geometry,
                ttl,
                head: 0,
                live: BTreeMap::new(),
                keys: HashMap::new(),
            };
            t.write(0, &header);
            t.empty_buckets();
            Ok(t)
        })();
        let t = match made {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let old = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)
            .ok();
        std::fs::rename(&tmp, path)?;
        if let Some(old) = old {
            retire_file(&old);
        }
        Ok(t)
    }

    pub fn set_ttl(&mut self, ttl: Duration) {
        self.ttl = ttl;
    }

    /// Records held.
    #[cfg(test)]
    pub fn entries(&self) -> usize {
        self.live.len()
    }

    fn write(&mut self, off: usize, bytes: &[u8]) {
        if off.saturating_add(bytes.len()) <= self.len {
            // SAFETY: in bounds (checked); the mapping is ours to write.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.base.add(off), bytes.len())
            };
        }
    }

    fn atomic32(&self, off: usize) -> Option<&AtomicU32> {
        if off % 4 != 0 || off.checked_add(4)? > self.len {
            return None;
        }
        // SAFETY: in bounds, aligned (the mapping is page-aligned).
        Some(unsafe { &*(self.base.add(off) as *const AtomicU32) })
    }

    fn load32(&self, off: usize) -> u32 {
        self.atomic32(off)
            .map_or(EMPTY, |a| a.load(Ordering::Relaxed))
    }

    fn store32(&self, off: usize, v: u32) {
        if let Some(a) = self.atomic32(off) {
            a.store(v, Ordering::Relaxed);
        }
    }

    fn generation(&self) -> &AtomicU64 {
        // SAFETY: inside the header, 8-aligned.
        unsafe { &*(self.base.add(h::GENERATION) as *const AtomicU64) }
    }

    /// Runs `change` with the generation odd (readers retry or ask the socket).
    fn changing<T>(&mut self, change: impl FnOnce(&mut Table) -> T) -> T {
        let g = self.generation();
        g.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        let out = change(self);
        self.generation().fetch_add(1, Ordering::Release);
        out
    }

    fn empty_buckets(&mut self) {
        let g = self.geometry;
        for kind in 0..KINDS {
            for b in 0..g.buckets {
                self.store32(g.index + (kind * g.buckets + b) * 4, EMPTY);
            }
        }
    }

    fn bucket_off(&self, kind: Kind, key: &[u8]) -> usize {
        let g = &self.geometry;
        g.bucket(kind, g.bucket_of(kind, key))
    }

    /// Takes the record at data offset `rel` out of its chain and out of the books.
    fn unlink(&mut self, rel: usize) {
        let Some(meta) = self.live.remove(&rel) else {
            return;
        };
        self.keys.remove(&(meta.kind, meta.key.clone()));
        let data = self.geometry.data;
        let next = self.load32(data + rel + r::NEXT);
        let mut link = self.bucket_off(meta.kind, &meta.key);
        // Bounded: a chain holds at most every live record.
        for _ in 0..=self.live.len() + 1 {
            let cur = self.load32(link);
            if cur == EMPTY {
                break;
            }
            if cur as usize == rel {
                self.store32(link, next);
                break;
            }
            link = data + cur as usize + r::NEXT;
        }
        self.store32(data + rel + r::MAGIC, 0);
    }

    /// Room for `len` bytes in the ring, evicting what is there.
    fn allocate(&mut self, len: usize) -> Option<usize> {
        let len = len.next_multiple_of(8);
        let data_len = self.geometry.data_len;
        if len > data_len / MAX_RECORD_SHARE {
            return None;
        }
        if self.head + len > data_len {
            self.head = 0;
        }
        let (start, end) = (self.head, self.head + len);
        // Records never overlap: only the last one starting before `start` can reach
        // into the room, then every one starting inside it (not a walk over the
        // whole ring on every publish).
        let reaching_in = self
            .live
            .range(..start)
            .next_back()
            .filter(|(off, m)| **off + m.len.next_multiple_of(8) > start)
            .map(|(off, _)| *off);
        let doomed: Vec<usize> = reaching_in
            .into_iter()
            .chain(self.live.range(start..end).map(|(off, _)| *off))
            .collect();
        for off in doomed {
            self.unlink(off);
        }
        self.head = end;
        Some(start)
    }

    /// Publishes (or replaces) the answer for `kind`/`key`. `answer` must be what the
    /// daemon serves (filters applied): a passwd, group or GID list.
    pub fn publish(&mut self, kind: Kind, key: &[u8], answer: &Response) {
        let (names, gids) = match answer {
            Response::Passwd(p) => (vec![p.name.clone()], Vec::new()),
            Response::Group(g) => {
                let mut names = vec![g.name.clone()];
                names.extend(g.members.iter().cloned());
                (names, vec![g.gid])
            }
            Response::Gids(list) => (
                vec![String::from_utf8_lossy(key).into_owned()],
                list.clone(),
            ),
            _ => return,
        };
        let expiry = table::now_ms().saturating_add(self.ttl.as_millis() as u64);
        let bytes = table::record(kind, key, answer, expiry);
        self.changing(|t| {
            if let Some(old) = t.keys.get(&(kind, key.to_vec())).copied() {
                t.unlink(old);
            }
            let Some(rel) = t.allocate(bytes.len()) else {
                return;
            };
            let data = t.geometry.data;
            let bucket = t.bucket_off(kind, key);
            t.write(data + rel, &bytes);
            t.store32(data + rel + r::NEXT, t.load32(bucket));
            t.store32(bucket, rel as u32);
            t.live.insert(
                rel,
                Meta {
                    kind,
                    key: key.to_vec(),
                    len: bytes.len(),
                    names,
                    gids,
                },
            );
            t.keys.insert((kind, key.to_vec()), rel);
        });
    }

    /// Removes the entry for `kind`/`key` (the daemon answered "not found").
    pub fn remove(&mut self, kind: Kind, key: &[u8]) {
        if let Some(rel) = self.keys.get(&(kind, key.to_vec())).copied() {
            self.changing(|t| t.unlink(rel));
        }
    }

    /// Removes every entry that mentions `name`: the user's passwd (by name and UID)
    /// and initgroups, the group's entries, groups listing it as a member, and
    /// initgroups lists holding such a group.
    pub fn forget(&mut self, name: &str) {
        let groups: Vec<u32> = self
            .live
            .values()
            .filter(|m| {
                matches!(m.kind, Kind::GrName | Kind::GrGid)
                    && m.names.first().is_some_and(|n| n == name)
            })
            .flat_map(|m| m.gids.iter().copied())
            .collect();
        let doomed: Vec<usize> = self
            .live
            .iter()
            .filter(|(_, m)| {
                m.names.iter().any(|n| n == name)
                    || (m.kind == Kind::InitGroups && m.gids.iter().any(|g| groups.contains(g)))
            })
            .map(|(off, _)| *off)
            .collect();
        if !doomed.is_empty() {
            self.changing(|t| {
                for off in doomed {
                    t.unlink(off);
                }
            });
        }
    }

    /// Removes everything (invalidate all, reload).
    pub fn clear(&mut self) {
        self.changing(|t| {
            let offs: Vec<usize> = t.live.keys().copied().collect();
            for off in offs {
                t.store32(t.geometry.data + off + r::MAGIC, 0);
            }
            t.live.clear();
            t.keys.clear();
            t.head = 0;
            t.empty_buckets();
        });
    }

    /// Marks this file retired and removes it (if it is still ours): readers that
    /// mapped it ask the socket, or map the next daemon's file.
    pub fn retire(&mut self) {
        self.changing(|t| t.store32(h::VALID, 0));
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.ino) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `create`, unmapped once.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

/// Sets `valid` to 0 in a table file left by an earlier daemon (only a regular file
/// with our header, written by us).
pub fn retire_file(file: &File) {
    use std::os::unix::fs::FileExt;
    let Ok(meta) = file.metadata() else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if !meta.is_file() || meta.uid() != me || meta.len() < HEADER_SIZE as u64 {
        return;
    }
    let mut magic = [0u8; 8];
    if file.read_exact_at(&mut magic, 0).is_ok() && magic == table::MAGIC {
        let _ = file.write_all_at(&0u32.to_ne_bytes(), h::VALID as u64);
    }
}

#[cfg(test)]
mod tests;
