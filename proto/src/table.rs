//! The shared NSS table: a read-only file proxidd publishes beside its socket and the
//! NSS module maps, so a warm lookup is answered without a round trip (the idea of
//! SSSD's "fast NSS cache", `/var/lib/sss/mc`).
//!
//! Who writes: proxidd only (root, the file is 0644 and replaced, never edited by
//! anyone else). Who reads: every process that loads `libnss_proxid.so.2`; the data is
//! what `getent passwd/group` answers anyway (public). What is in it: the answers the
//! daemon gave (after its filters), each with an expiry: passwd by name and by UID,
//! group by name and by GID, a user's initgroups list. Misses, expired entries and
//! anything odd go to the socket.
//!
//! # Layout (native endian, the file never leaves the host)
//!
//! ```text
//! header (HEADER_SIZE bytes)
//!   0  magic "PXDTABLE"
//!   8  u32 layout version          12 u32 header size
//!   16 u64 file size               24 u64 generation (seqlock: odd while written)
//!   32 u32 valid (1; 0 = retired)  36 u32 buckets per index
//!   40 u64 index offset            48 u64 data offset      56 u64 data length
//! indexes: KINDS arrays of `buckets` u32, each the data-relative offset of the first
//!   record of a chain, or EMPTY
//! data: records, 8-aligned:
//!   0 u32 RECORD_MAGIC  4 u32 record length  8 u32 next (chain) 12 u32 kind
//!   16 u64 expiry (CLOCK_BOOTTIME ms)  24 u32 key length  28 u32 checksum
//!   32 key bytes (a name, or a UID/GID as 4 native bytes), then the answer: the
//!   payload of the socket's answer frame (`Response::decode_payload`)
//! ```
//!
//! A reader reads the generation, walks the chain, copies the record, re-reads the
//! generation: a change (or an odd value) means a writer was busy, and it retries a
//! few times before asking the socket. The checksum (over everything in the record
//! but `next`) catches the rest. Every offset and length is checked against the
//! mapped size before it is used, so a corrupted file yields a miss, never a read out
//! of bounds. A restarted daemon writes a new file (new inode) and sets `valid` to 0 in
//! the old one, which tells mapped readers to map again.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

use crate::{Response, HEADER_LEN};

pub const MAGIC: [u8; 8] = *b"PXDTABLE";
pub const LAYOUT_VERSION: u32 = 1;
pub const HEADER_SIZE: usize = 128;
pub const RECORD_MAGIC: u32 = 0x5058_5245; // "PXRE"
pub const RECORD_HEADER: usize = 32;
/// No record (an empty bucket, the end of a chain).
pub const EMPTY: u32 = u32::MAX;
/// The file name beside the socket when the socket's ends in `.sock`
/// (`/run/proxid/nss.sock` → `/run/proxid/nss.cache`); otherwise `.cache` is appended.
pub const SUFFIX: &str = ".cache";
/// Largest file a reader maps.
pub const MAX_FILE: usize = 1 << 30;
/// Longest chain a reader walks before giving up (and asking the socket).
pub const MAX_CHAIN: usize = 64;
/// Times a reader retries while a writer is busy.
pub const RETRIES: usize = 8;

pub mod h {
    //! Header field offsets.
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 8;
    pub const HEADER_SIZE: usize = 12;
    pub const SIZE: usize = 16;
    pub const GENERATION: usize = 24;
    pub const VALID: usize = 32;
    pub const BUCKETS: usize = 36;
    pub const INDEX: usize = 40;
    pub const DATA: usize = 48;
    pub const DATA_LEN: usize = 56;
}

pub mod r {
    //! Record field offsets.
    pub const MAGIC: usize = 0;
    pub const LEN: usize = 4;
    pub const NEXT: usize = 8;
    pub const KIND: usize = 12;
    pub const EXPIRY: usize = 16;
    pub const KEY_LEN: usize = 24;
    pub const CHECKSUM: usize = 28;
}

/// What a record answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum Kind {
    PwName = 0,
    PwUid = 1,
    GrName = 2,
    GrGid = 3,
    InitGroups = 4,
}

pub const KINDS: usize = 5;

impl Kind {
    pub fn from_u32(v: u32) -> Option<Kind> {
        Some(match v {
            0 => Kind::PwName,
            1 => Kind::PwUid,
            2 => Kind::GrName,
            3 => Kind::GrGid,
            4 => Kind::InitGroups,
            _ => return None,
        })
    }
}

/// The table's path for a socket path (bytes, as the module holds it).
pub fn path_for_socket(socket: &[u8]) -> Vec<u8> {
    let stem = socket.strip_suffix(b".sock").unwrap_or(socket);
    let mut out = stem.to_vec();
    out.extend_from_slice(SUFFIX.as_bytes());
    out
}

/// FNV-1a 64 of the kind and key: the bucket hash.
pub fn hash(kind: Kind, key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in std::iter::once(kind as u8).chain(key.iter().copied()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The record checksum: every byte of `record` except `next` and the checksum field.
pub fn checksum(record: &[u8]) -> u32 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut mix = |chunk: &[u8]| {
        let mut words = chunk.chunks_exact(8);
        for w in &mut words {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            h = (h ^ u64::from_ne_bytes(a))
                .wrapping_mul(0xff51_afd7_ed55_8ccd)
                .rotate_left(29);
        }
        for &b in words.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        }
    };
    mix(record.get(..r::NEXT).unwrap_or(&[]));
    mix(record.get(r::KIND..r::CHECKSUM).unwrap_or(&[]));
    mix(record.get(RECORD_HEADER..).unwrap_or(&[]));
    (h ^ (h >> 32)) as u32
}

/// Milliseconds on `CLOCK_BOOTTIME`: the same clock in every process of the host, never
/// set back.
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writing a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1000)
        .saturating_add(ts.tv_nsec as u64 / 1_000_000)
}

/// The geometry a header announces, checked against the mapped size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub size: usize,
    pub buckets: usize,
    pub index: usize,
    pub data: usize,
    pub data_len: usize,
}

impl Geometry {
    /// `None` unless every region lies inside `len` bytes, aligned, without overlap.
    pub fn check(header: &[u8], len: usize) -> Option<Geometry> {
        let u32_at = |o: usize| -> Option<u32> {
            let mut a = [0u8; 4];
            a.copy_from_slice(header.get(o..o + 4)?);
            Some(u32::from_ne_bytes(a))
        };
        let u64_at = |o: usize| -> Option<usize> {
            let mut a = [0u8; 8];
            a.copy_from_slice(header.get(o..o + 8)?);
            usize::try_from(u64::from_ne_bytes(a)).ok()
        };
        if header.get(..8)? != MAGIC
            || u32_at(h::VERSION)? != LAYOUT_VERSION
            || u32_at(h::HEADER_SIZE)? as usize != HEADER_SIZE
        {
            return None;
        }
        let g = Geometry {
            size: u64_at(h::SIZE)?,
            buckets: u32_at(h::BUCKETS)? as usize,
            index: u64_at(h::INDEX)?,
            data: u64_at(h::DATA)?,
            data_len: u64_at(h::DATA_LEN)?,
        };
        let index_end = g.buckets.checked_mul(KINDS * 4)?.checked_add(g.index)?;
        let data_end = g.data.checked_add(g.data_len)?;
        let fits = g.size == len
            && len <= MAX_FILE
            && g.buckets > 0
            && g.index >= HEADER_SIZE
            && g.index % 8 == 0
            && g.data % 8 == 0
            && index_end <= g.data
            && data_end <= len
            && g.data_len < EMPTY as usize;
        fits.then_some(g)
    }

    /// Byte offset (file-relative) of bucket `b` of `kind`'s index.
    pub fn bucket(&self, kind: Kind, b: usize) -> usize {
        self.index + ((kind as usize) * self.buckets + b) * 4
    }

    /// The bucket a key hashes to.
    pub fn bucket_of(&self, kind: Kind, key: &[u8]) -> usize {
        (hash(kind, key) % self.buckets as u64) as usize
    }
}

/// A read-only view of a mapped table.
pub struct View {
    base: *const u8,
    len: usize,
    geometry: Geometry,
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// The answer, as the socket would have given it.
    Hit(Response),
    /// Not there, expired, retired, or unreadable: ask the socket.
    Miss,
}

impl View {
    /// # Safety
    /// `base` points at `len` readable bytes that stay mapped while the view lives,
    /// aligned to 8.
    pub unsafe fn new(base: *const u8, len: usize) -> Option<View> {
        if base.is_null() || len < HEADER_SIZE || base as usize % 8 != 0 {
            return None;
        }
        let mut header = [0u8; HEADER_SIZE];
        // SAFETY: the caller promises `len` readable bytes at `base`, and
        // `HEADER_SIZE <= len` (checked above); `header` is a local of that size.
        unsafe { std::ptr::copy_nonoverlapping(base, header.as_mut_ptr(), HEADER_SIZE) };
        let geometry = Geometry::check(&header, len)?;
        Some(View {
            base,
            len,
            geometry,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn u32_at(&self, off: usize) -> Option<u32> {
        if off % 4 != 0 || off.checked_add(4)? > self.len {
            return None;
        }
        // SAFETY: in bounds (checked) and aligned (base is 8-aligned, off % 4 == 0).
        Some(unsafe { (*(self.base.add(off) as *const AtomicU32)).load(Ordering::Relaxed) })
    }

    fn generation(&self) -> u64 {
        // SAFETY: h::GENERATION + 8 <= HEADER_SIZE <= len, 8-aligned.
        unsafe { (*(self.base.add(h::GENERATION) as *const AtomicU64)).load(Ordering::Acquire) }
    }

    /// False once the daemon retired this file (a newer one replaced it).
    pub fn valid(&self) -> bool {
        self.u32_at(h::VALID) == Some(1)
    }

    /// Copies `len` bytes at `off` (checked).
    fn copy(&self, off: usize, len: usize, out: &mut Vec<u8>) -> Option<()> {
        if off.checked_add(len)? > self.len {
            return None;
        }
        out.clear();
        out.reserve(len);
        // SAFETY: the source range is inside the mapping (checked above), the
        // destination has `len` bytes reserved. A concurrent writer may change the
        // bytes; the generation check afterwards throws such a copy away.
        unsafe {
            std::ptr::copy_nonoverlapping(self.base.add(off), out.as_mut_ptr(), len);
            out.set_len(len);
        }
        Some(())
    }

    /// Looks `key` up; `now` in [`now_ms`] units.
    pub fn lookup(&self, kind: Kind, key: &[u8], now: u64) -> Found {
        let mut record = Vec::new();
        self.lookup_payload(kind, key, now, &mut record)
            .and_then(|range| record.get(range))
            .map_or(Found::Miss, decode)
    }

    /// Looks `key` up and leaves the record in `record`; the answer payload is
    /// `record[range]`. `None`: ask the socket.
    pub fn lookup_payload(
        &self,
        kind: Kind,
        key: &[u8],
        now: u64,
        record: &mut Vec<u8>,
    ) -> Option<std::ops::Range<usize>> {
        for _ in 0..RETRIES {
            let before = self.generation();
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let found = self.walk(kind, key, record);
            fence(Ordering::Acquire);
            if self.generation() != before {
                continue;
            }
            return match found {
                Some(true) => checked(record, now),
                _ => None,
            };
        }
        None
    }

    /// Walks the chain: `Some(true)` with the record copied, `Some(false)` at the end
    /// of the chain, `None` on anything out of shape.
    fn walk(&self, kind: Kind, key: &[u8], record: &mut Vec<u8>) -> Option<bool> {
        let g = &self.geometry;
        let mut off = self.u32_at(g.bucket(kind, g.bucket_of(kind, key)))?;
        let mut head = [0u8; RECORD_HEADER];
        for _ in 0..MAX_CHAIN {
            if off == EMPTY {
                return Some(false);
            }
            let rel = off as usize;
            if rel % 8 != 0 || rel.checked_add(RECORD_HEADER)? > g.data_len {
                return None;
            }
            let at = g.data + rel;
            self.copy(at, RECORD_HEADER, record)?;
            head.copy_from_slice(record);
            let field = |o: usize| -> Option<u32> {
                let mut a = [0u8; 4];
                a.copy_from_slice(head.get(o..o + 4)?);
                Some(u32::from_ne_bytes(a))
            };
            let len = field(r::LEN)? as usize;
            let key_len = field(r::KEY_LEN)? as usize;
            if field(r::MAGIC)? != RECORD_MAGIC
                || len < RECORD_HEADER.checked_add(key_len)?
                || rel.checked_add(len)? > g.data_len
            {
                return None;
            }
            if field(r::KIND)? == kind as u32 && key_len == key.len() {
                self.copy(at, len, record)?;
                if record.get(RECORD_HEADER..RECORD_HEADER + key_len)? == key {
                    return Some(true);
                }
            }
            off = field(r::NEXT)?;
        }
        None
    }
}

/// The payload range of a copied record whose checksum holds and which has not
/// expired at `now`.
fn checked(record: &[u8], now: u64) -> Option<std::ops::Range<usize>> {
    let field32 = |o: usize| -> Option<u32> {
        let mut a = [0u8; 4];
        a.copy_from_slice(record.get(o..o + 4)?);
        Some(u32::from_ne_bytes(a))
    };
    if record.len() < RECORD_HEADER || checksum(record) != field32(r::CHECKSUM)? {
        return None;
    }
    let mut e = [0u8; 8];
    e.copy_from_slice(record.get(r::EXPIRY..r::EXPIRY + 8)?);
    if u64::from_ne_bytes(e) <= now {
        return None;
    }
    let start = RECORD_HEADER.checked_add(field32(r::KEY_LEN)? as usize)?;
    (start <= record.len()).then_some(start..record.len())
}

/// A payload as the answer it holds; only the three kinds a table keeps.
pub fn decode(payload: &[u8]) -> Found {
    match Response::decode_payload(payload) {
        Ok(answer @ (Response::Passwd(_) | Response::Group(_) | Response::Gids(_))) => {
            Found::Hit(answer)
        }
        _ => Found::Miss,
    }
}

/// The bytes of a record (next = EMPTY) for `answer` under `key`: what a writer
/// places in the data area.
pub fn record(kind: Kind, key: &[u8], answer: &Response, expiry: u64) -> Vec<u8> {
    let frame = answer.encode();
    let payload = frame.get(HEADER_LEN..).unwrap_or(&[]);
    let len = RECORD_HEADER + key.len() + payload.len();
    let mut out = Vec::with_capacity(len.next_multiple_of(8));
    out.extend_from_slice(&RECORD_MAGIC.to_ne_bytes());
    out.extend_from_slice(&(len as u32).to_ne_bytes());
    out.extend_from_slice(&EMPTY.to_ne_bytes());
    out.extend_from_slice(&(kind as u32).to_ne_bytes());
    out.extend_from_slice(&expiry.to_ne_bytes());
    out.extend_from_slice(&(key.len() as u32).to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(payload);
    let sum = checksum(&out);
    // The header written above is RECORD_HEADER bytes, so the slot is always there.
    if let Some(slot) = out.get_mut(r::CHECKSUM..r::CHECKSUM + 4) {
        slot.copy_from_slice(&sum.to_ne_bytes());
    }
    out
}

/// A fresh header for a file of `size` bytes with `buckets` buckets per index.
/// Returns the header bytes and the geometry; `None` when it does not fit.
pub fn header(size: usize, buckets: usize) -> Option<([u8; HEADER_SIZE], Geometry)> {
    let index = HEADER_SIZE;
    let data = (index + buckets.checked_mul(KINDS * 4)?).next_multiple_of(8);
    let data_len = size.checked_sub(data)?;
    let mut out = [0u8; HEADER_SIZE];
    out[..8].copy_from_slice(&MAGIC);
    out[h::VERSION..h::VERSION + 4].copy_from_slice(&LAYOUT_VERSION.to_ne_bytes());
    out[h::HEADER_SIZE..h::HEADER_SIZE + 4].copy_from_slice(&(HEADER_SIZE as u32).to_ne_bytes());
    out[h::SIZE..h::SIZE + 8].copy_from_slice(&(size as u64).to_ne_bytes());
    out[h::VALID..h::VALID + 4].copy_from_slice(&1u32.to_ne_bytes());
    out[h::BUCKETS..h::BUCKETS + 4].copy_from_slice(&u32::try_from(buckets).ok()?.to_ne_bytes());
    out[h::INDEX..h::INDEX + 8].copy_from_slice(&(index as u64).to_ne_bytes());
    out[h::DATA..h::DATA + 8].copy_from_slice(&(data as u64).to_ne_bytes());
    out[h::DATA_LEN..h::DATA_LEN + 8].copy_from_slice(&(data_len as u64).to_ne_bytes());
    let g = Geometry::check(&out, size)?;
    Some((out, g))
}

/// A read-only mapping of the table file, checked before it is trusted: a regular
/// file owned by root, writable by nobody else, whose header fits its size.
pub struct Mapped {
    view: View,
}

impl Mapped {
    /// Opens and maps `path`; `None` when absent or not to be trusted.
    pub fn open(path: &[u8]) -> Option<Mapped> {
        let cpath = std::ffi::CString::new(path).ok()?;
        // SAFETY: a NUL-terminated path; the descriptor is closed below in every case.
        let fd = unsafe {
            libc::open(
                cpath.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            )
        };
        if fd < 0 {
            return None;
        }
        let mapped = Self::map_fd(fd);
        // SAFETY: closing the descriptor we opened; the mapping outlives it.
        unsafe { libc::close(fd) };
        mapped
    }

    fn map_fd(fd: libc::c_int) -> Option<Mapped> {
        // SAFETY: stat is plain data.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on our descriptor into our struct.
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return None;
        }
        let len = usize::try_from(st.st_size).ok()?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG
            || st.st_uid != 0
            || st.st_mode & 0o022 != 0
            || !(HEADER_SIZE..=MAX_FILE).contains(&len)
        {
            return None;
        }
        // SAFETY: mapping `len` bytes of a regular file read-only; checked below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: the mapping is `len` bytes, page-aligned, and lives as long as `Mapped`.
        match unsafe { View::new(base as *const u8, len) } {
            Some(view) => Some(Mapped { view }),
            None => {
                // SAFETY: unmapping what we just mapped.
                unsafe { libc::munmap(base, len) };
                None
            }
        }
    }

    pub fn view(&self) -> &View {
        &self.view
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map_fd`, unmapped once.
        unsafe { libc::munmap(self.view.base as *mut libc::c_void, self.view.len) };
    }
}

// SAFETY: the view only reads shared memory through atomics and bounded copies.
unsafe impl Send for Mapped {}
// SAFETY: as above; no interior mutation on this side.
unsafe impl Sync for Mapped {}
