//! The daemon's shared table, mapped read-only and looked up without a round trip.

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use proxid_proto::table::{self, Kind, Mapped};
use proxid_proto::Request;

/// The mapped table, or NULL. The `Mapped` lives in an anonymous mapping of its own
/// rather than on the heap: glibc unloads NSS modules at exit under valgrind
/// (`__libc_freeres`), and a heap block only this module's statics pointed at would
/// then be reported as lost.
static TABLE: AtomicPtr<Mapped> = AtomicPtr::new(std::ptr::null_mut());
/// Lookups reading the table right now: a replaced mapping is unmapped only when
/// the thread replacing it is the only one, else left mapped (a rare, bounded leak:
/// one mapping per daemon restart met while another thread was reading).
static READERS: AtomicUsize = AtomicUsize::new(0);

struct Reading;

impl Reading {
    fn start() -> Reading {
        READERS.fetch_add(1, Ordering::SeqCst);
        Reading
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        READERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Moves `m` into an anonymous mapping; NULL (and `m` dropped) if that fails.
fn hold(m: Mapped) -> *mut Mapped {
    let size = std::mem::size_of::<Mapped>();
    // SAFETY: an anonymous private mapping; checked below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return std::ptr::null_mut();
    }
    let p = p.cast::<Mapped>();
    // SAFETY: page-aligned, `size` bytes, writable.
    unsafe { p.write(m) };
    p
}

/// Drops and unmaps what [`hold`] made.
///
/// # Safety
/// `p` came from `hold` and nobody uses it any more.
unsafe fn release(p: *mut Mapped) {
    // SAFETY: `p` holds the Mapped `hold` wrote, and nobody uses it any more.
    unsafe { std::ptr::drop_in_place(p) };
    // SAFETY: `p` is the start of the mapping of that size `hold` made; its value is dropped.
    unsafe { libc::munmap(p.cast(), std::mem::size_of::<Mapped>()) };
}

/// The answer from the shared table, as the record copied into `record` and the
/// range of its payload; `None`: ask the socket.
pub(crate) fn from_table(
    socket: &[u8],
    request: &Request,
    record: &mut Vec<u8>,
) -> Option<std::ops::Range<usize>> {
    let id;
    let (kind, key): (Kind, &[u8]) = match request {
        Request::GetPwNam(name) => (Kind::PwName, name),
        Request::GetPwUid(uid) => {
            id = uid.to_ne_bytes();
            (Kind::PwUid, &id)
        }
        Request::GetGrNam(name) => (Kind::GrName, name),
        Request::GetGrGid(gid) => {
            id = gid.to_ne_bytes();
            (Kind::GrGid, &id)
        }
        Request::InitGroups(name) => (Kind::InitGroups, name),
        _ => return None,
    };
    let _reading = Reading::start();
    let mut current = TABLE.load(Ordering::SeqCst);
    // SAFETY: a non-NULL TABLE is a live Box<Mapped>; it is freed only by a thread
    // that swapped it out while no other reader was counted (see READERS).
    if current.is_null() || !unsafe { &*current }.view().valid() {
        let fresh =
            Mapped::open(&table::path_for_socket(socket)).map_or(std::ptr::null_mut(), hold);
        let old = TABLE.swap(fresh, Ordering::SeqCst);
        if !old.is_null() && READERS.load(Ordering::SeqCst) == 1 {
            // SAFETY: swapped out, and no other thread is reading: ours to free.
            unsafe { release(old) };
        }
        current = fresh;
    }
    if current.is_null() {
        return None;
    }
    // SAFETY: as above; our Reading keeps it alive.
    unsafe { &*current }
        .view()
        .lookup_payload(kind, key, table::now_ms(), record)
}
