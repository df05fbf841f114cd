use super::*;
use crate::buffer::Arena;
use proxid_proto::GroupEntry;

#[test]
fn arena_refuses_what_does_not_fit_and_aligns_pointers() {
    let mut buf = [0 as c_char; 16];
    let mut arena = Arena::new(buf.as_mut_ptr(), buf.len());
    assert!(arena.string("abc").is_some());
    let p = arena.pointers(1).unwrap();
    assert_eq!(p as usize % std::mem::align_of::<*mut c_char>(), 0);
    assert!(arena.pointers(2).is_none());
    assert!(arena.string("0123456789abcdef").is_none());
    let mut empty = Arena::new(std::ptr::null_mut(), 100);
    assert!(empty.string("").is_none());
}

#[test]
fn every_buffer_size_below_the_exact_one_is_too_small() {
    let g = GroupEntry {
        name: "staff".into(),
        passwd: "x".into(),
        gid: 7,
        members: vec!["alice".into(), "bob".into()],
    };
    let mut fits = None;
    for len in 0..200usize {
        let mut buf = vec![0 as c_char; len];
        // SAFETY: zeroed struct group is valid plain data.
        let mut out: group = unsafe { std::mem::zeroed() };
        // SAFETY: a live struct group and a live buffer of `len` bytes.
        let Outcome(status, errno) =
            unsafe { fill_group(&g, &mut out, buf.as_mut_ptr(), buf.len()) };
        if status == SUCCESS {
            fits = Some(len);
            // SAFETY: filled (SUCCESS): a NUL-terminated string in `buf`.
            let name = unsafe { CStr::from_ptr(out.gr_name) };
            assert_eq!(name.to_bytes(), b"staff");
            // SAFETY: filled with two members: gr_mem[1] is a string in `buf`.
            let second = unsafe { CStr::from_ptr(*out.gr_mem.add(1)) };
            assert_eq!(second.to_bytes(), b"bob");
            // SAFETY: gr_mem has three slots, the last the NULL terminator.
            assert!(unsafe { *out.gr_mem.add(2) }.is_null());
            break;
        }
        assert_eq!((status, errno), (TRYAGAIN, libc::ERANGE));
    }
    assert!(fits.is_some());
}

#[test]
fn a_panic_becomes_unavail() {
    let mut errno = 0;
    let status = boundary(&mut errno, || panic!("bug"));
    assert_eq!((status, errno), (UNAVAIL, libc::EIO));
}
