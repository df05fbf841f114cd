use super::*;
use proxid_proto::table::{Found, Mapped};
use proxid_proto::{GroupEntry, Passwd};

fn user(name: &str, uid: u32) -> Response {
    Response::Passwd(Passwd {
        name: name.into(),
        passwd: "x".into(),
        uid,
        gid: 100,
        gecos: "G".into(),
        dir: format!("/home/{name}"),
        shell: "/bin/sh".into(),
    })
}

fn open(dir: &Path, size: usize) -> Table {
    Table::create(&dir.join("nss.cache"), size, Duration::from_secs(60)).unwrap()
}

fn view(t: &Table) -> proxid_proto::table::View {
    // SAFETY: the table's own mapping (page-aligned, `len` bytes), alive with `t`.
    unsafe { proxid_proto::table::View::new(t.base, t.len) }.unwrap()
}

#[test]
fn published_answers_are_found_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = open(dir.path(), 1 << 20);
    let now = table::now_ms();
    t.publish(Kind::PwName, b"alice", &user("alice", 1000));
    t.publish(Kind::PwUid, &1000u32.to_ne_bytes(), &user("alice", 1000));
    let group = Response::Group(GroupEntry {
        name: "staff".into(),
        passwd: "x".into(),
        gid: 500,
        members: vec!["alice".into(), "bob".into()],
    });
    t.publish(Kind::GrName, b"staff", &group);
    t.publish(Kind::InitGroups, b"bob", &Response::Gids(vec![500, 501]));
    let v = view(&t);
    assert_eq!(
        v.lookup(Kind::PwName, b"alice", now),
        Found::Hit(user("alice", 1000))
    );
    assert_eq!(
        v.lookup(Kind::PwUid, &1000u32.to_ne_bytes(), now),
        Found::Hit(user("alice", 1000))
    );
    assert_eq!(v.lookup(Kind::GrName, b"staff", now), Found::Hit(group));
    assert_eq!(v.lookup(Kind::PwName, b"bob", now), Found::Miss);
    assert_eq!(v.lookup(Kind::GrName, b"alice", now), Found::Miss);
    // Expired.
    assert_eq!(v.lookup(Kind::PwName, b"alice", now + 61_000), Found::Miss);
    // Forgetting alice takes her entries and the group naming her.
    t.forget("alice");
    assert_eq!(v.lookup(Kind::PwName, b"alice", now), Found::Miss);
    assert_eq!(
        v.lookup(Kind::PwUid, &1000u32.to_ne_bytes(), now),
        Found::Miss
    );
    assert_eq!(v.lookup(Kind::GrName, b"staff", now), Found::Miss);
    // ... and initgroups lists holding a forgotten group.
    assert!(matches!(
        v.lookup(Kind::InitGroups, b"bob", now),
        Found::Hit(_)
    ));
    t.publish(
        Kind::GrGid,
        &500u32.to_ne_bytes(),
        &Response::Group(GroupEntry {
            name: "staff".into(),
            passwd: "x".into(),
            gid: 500,
            members: vec![],
        }),
    );
    t.forget("staff");
    assert_eq!(v.lookup(Kind::InitGroups, b"bob", now), Found::Miss);
    t.publish(Kind::PwName, b"carol", &user("carol", 1002));
    t.remove(Kind::PwName, b"carol");
    assert_eq!(v.lookup(Kind::PwName, b"carol", now), Found::Miss);
    t.publish(Kind::PwName, b"carol", &user("carol", 1002));
    t.clear();
    assert_eq!(v.lookup(Kind::PwName, b"carol", now), Found::Miss);
    assert_eq!(t.entries(), 0);
}

#[test]
fn a_full_table_recycles_and_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = open(dir.path(), 64 * 1024);
    let now = table::now_ms();
    for i in 0..5000u32 {
        let name = format!("user{i}");
        t.publish(Kind::PwName, name.as_bytes(), &user(&name, 10_000 + i));
        // Replacing in place too.
        t.publish(Kind::PwName, name.as_bytes(), &user(&name, 10_000 + i));
    }
    let v = view(&t);
    assert!(t.entries() > 50 && t.entries() < 5000);
    let last = "user4999";
    assert_eq!(
        v.lookup(Kind::PwName, last.as_bytes(), now),
        Found::Hit(user(last, 14_999))
    );
    assert_eq!(v.lookup(Kind::PwName, b"user0", now), Found::Miss);
    let mut hits = 0;
    for i in 0..5000u32 {
        let name = format!("user{i}");
        match v.lookup(Kind::PwName, name.as_bytes(), now) {
            Found::Hit(answer) => {
                assert_eq!(answer, user(&name, 10_000 + i));
                hits += 1;
            }
            Found::Miss => {}
        }
    }
    assert_eq!(hits, t.entries());
}

#[test]
fn a_restart_retires_the_old_file_and_readers_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nss.cache");
    let mut first = open(dir.path(), 1 << 20);
    first.publish(Kind::PwName, b"alice", &user("alice", 1000));
    let old = view(&first);
    assert!(old.valid());
    let second = open(dir.path(), 1 << 20);
    assert!(!old.valid(), "the old file is retired");
    assert_ne!(
        std::fs::metadata(&path).unwrap().ino(),
        first.ino,
        "a new inode"
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    drop(first);
    let mut second = second;
    second.retire();
    assert!(!path.exists());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        assert!(Mapped::open(path.as_os_str().as_encoded_bytes()).is_none());
    }
}

#[test]
fn corrupted_bytes_never_read_out_of_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = open(dir.path(), 64 * 1024);
    for i in 0..200u32 {
        let name = format!("u{i}");
        t.publish(Kind::PwName, name.as_bytes(), &user(&name, 2000 + i));
    }
    let mut image = vec![0u64; t.len / 8];
    // SAFETY: `len` bytes of the mapping into `len / 8` u64s (len is 64 KiB here).
    unsafe { std::ptr::copy_nonoverlapping(t.base, image.as_mut_ptr().cast(), t.len) };
    let now = table::now_ms();
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut rand = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let bytes = t.len;
    for round in 0..400 {
        let mut copy = image.clone();
        // SAFETY: `copy` holds `len / 8` u64s: `bytes` bytes, as len is 64 KiB.
        let raw: &mut [u8] =
            unsafe { std::slice::from_raw_parts_mut(copy.as_mut_ptr().cast(), bytes) };
        for _ in 0..(1 + round % 64) {
            let at = (rand() as usize) % bytes;
            // Aim at the header and index now and then.
            let at = if round % 3 == 0 { at % 4096 } else { at };
            raw[at] = rand() as u8;
        }
        // SAFETY: `raw` is `bytes` live bytes, 8-aligned (a Vec<u64>), alive with `v`.
        if let Some(v) = unsafe { proxid_proto::table::View::new(raw.as_ptr(), bytes) } {
            for i in 0..200u32 {
                let name = format!("u{i}");
                if let Found::Hit(answer) = v.lookup(Kind::PwName, name.as_bytes(), now) {
                    // A hit passed the checksum: it is what was published.
                    assert!(matches!(answer, Response::Passwd(_)));
                }
            }
        }
    }
}
