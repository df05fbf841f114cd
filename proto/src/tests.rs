use super::*;

fn requests() -> Vec<Request> {
    vec![
        Request::GetPwNam(b"alice".to_vec()),
        Request::GetPwNam(b"\xff)(*\\\n".to_vec()),
        Request::GetPwUid(20001),
        Request::GetGrNam(b"staff".to_vec()),
        Request::GetGrGid(u32::MAX),
        Request::InitGroups(b"bob".to_vec()),
        Request::ListPasswd {
            start: 0,
            count: 100,
        },
        Request::ListGroup { start: 7, count: 1 },
        Request::Status,
        Request::Invalidate(None),
        Request::Invalidate(Some(b"alice".to_vec())),
        Request::Reload,
        Request::Authenticate {
            user: b"alice".to_vec(),
            password: b"secret".to_vec(),
            service: b"sshd".to_vec(),
            rhost: b"10.0.0.1".to_vec(),
            ruser: vec![],
        },
        Request::Account {
            user: b"alice".to_vec(),
            service: b"su".to_vec(),
            rhost: vec![],
            ruser: b"bob".to_vec(),
        },
        Request::Impersonate {
            proxy_uid: 1000,
            user: b"alice".to_vec(),
            host: b"h".to_vec(),
            service: b"livy".to_vec(),
            ruser: b"livy".to_vec(),
        },
        Request::Resolve {
            config_digest: vec![7; CONFIG_DIGEST_LEN],
            name: b"alice".to_vec(),
        },
        Request::Resolve {
            config_digest: vec![],
            name: b"\xff\n)(*".to_vec(),
        },
    ]
}

fn passwd(name: &str) -> Passwd {
    Passwd {
        name: name.into(),
        passwd: "x".into(),
        uid: 20001,
        gid: 10001,
        gecos: "Alice Ä".into(),
        dir: "/home/alice".into(),
        shell: "/bin/bash".into(),
    }
}

fn group(members: usize) -> GroupEntry {
    GroupEntry {
        name: "staff".into(),
        passwd: "x".into(),
        gid: 10001,
        members: (0..members).map(|i| format!("u{i}")).collect(),
    }
}

fn responses() -> Vec<Response> {
    vec![
        Response::Passwd(passwd("alice")),
        Response::Group(group(0)),
        Response::Group(group(10_000)),
        Response::Gids(vec![]),
        Response::Gids(vec![1, 2, u32::MAX]),
        Response::PasswdList(vec![passwd("a"), passwd("b")]),
        Response::PasswdList(vec![]),
        Response::GroupList(vec![group(2), group(0)]),
        Response::NotFound,
        Response::Unavailable("ldap down".into()),
        Response::Denied("root only".into()),
        Response::Error("unsupported".into()),
        Response::Status(Status {
            version: "0.1.0".into(),
            uptime_secs: 5,
            directory_reachable: true,
            cache_entries: 3,
            cache_hits: 10,
            cache_misses: 2,
            requests: 12,
            detail: None,
        }),
        Response::Status(Status {
            detail: Some(StatusDetail {
                config_path: "/etc/proxid.conf".into(),
                source: "ldap".into(),
                socket: "/run/proxid/nss.sock".into(),
                connections: 1,
            }),
            ..Status::default()
        }),
        Response::Done("cache emptied".into()),
        Response::Verdict {
            code: 7,
            message: "no".into(),
        },
        Response::Identity(Identity {
            name: "alice".into(),
            uid: 20001,
            gid: 10001,
            groups: vec![
                IdentityGroup {
                    name: "staff".into(),
                    gid: 10001,
                },
                IdentityGroup {
                    name: "jupyter \u{202e}".into(),
                    gid: u32::MAX,
                },
            ],
            home: "/home/alice".into(),
            shell: "/bin/bash".into(),
            source: "ldap".into(),
            hidden_gids: vec![0, 5],
        }),
        Response::Identity(Identity {
            name: String::new(),
            uid: 0,
            gid: 0,
            groups: vec![],
            home: String::new(),
            shell: String::new(),
            source: String::new(),
            hidden_gids: vec![],
        }),
        Response::Failed {
            kind: "not_found".into(),
            message: "user \"x\" not found".into(),
        },
        Response::OtherConfig,
    ]
}

fn payload(frame: &[u8]) -> &[u8] {
    let (payload, len) = split_frame(frame, MAX_FRAME).unwrap().unwrap();
    assert_eq!(len, frame.len());
    payload
}

#[test]
fn requests_round_trip() {
    for request in requests() {
        let frame = request.encode();
        assert_eq!(
            Request::decode_payload(payload(&frame)).unwrap(),
            request,
            "{request:?}"
        );
    }
}

#[test]
fn responses_round_trip() {
    for response in responses() {
        let frame = response.encode();
        assert_eq!(Response::decode_payload(payload(&frame)).unwrap(), response);
    }
}

#[test]
fn only_invalidate_and_reload_are_privileged() {
    for request in requests() {
        let expected = matches!(request, Request::Invalidate(_) | Request::Reload);
        assert_eq!(request.privileged(), expected, "{request:?}");
    }
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let frames: Vec<Vec<u8>> = requests()
        .iter()
        .map(Request::encode)
        .chain(responses().iter().map(Response::encode))
        .collect();
    for frame in frames {
        let body = &frame[HEADER_LEN..];
        // Every cut of small frames; a few hundred cuts of the 10,000-member group.
        let step = (frame.len() / 500).max(1);
        for cut in (0..body.len()).step_by(step) {
            assert!(Request::decode_payload(&body[..cut]).is_err());
            assert!(Response::decode_payload(&body[..cut]).is_err());
        }
        for cut in (0..frame.len()).step_by(step) {
            assert_eq!(split_frame(&frame[..cut], MAX_FRAME), Ok(None));
        }
    }
}

#[test]
fn headers_are_checked() {
    let mut frame = Request::Status.encode();
    assert_eq!(
        split_frame(b"GET / HTTP/1.0", MAX_REQUEST),
        Err(DecodeError::BadMagic)
    );
    assert_eq!(split_frame(b"G", MAX_REQUEST), Err(DecodeError::BadMagic));
    frame[3] = 9;
    assert_eq!(
        split_frame(&frame, MAX_REQUEST),
        Err(DecodeError::BadVersion(9))
    );
    let huge = [b'P', b'X', b'D', VERSION, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(
        split_frame(&huge, MAX_REQUEST),
        Err(DecodeError::TooLarge(u32::MAX as usize))
    );
}

#[test]
fn hostile_counts_and_lengths_do_not_allocate() {
    // A group claiming 4 billion members in a few bytes.
    let mut body = kind::R_GROUP.to_be_bytes().to_vec();
    for _ in 0..2 {
        body.extend_from_slice(&0u32.to_be_bytes());
    }
    body.extend_from_slice(&1u32.to_be_bytes());
    body.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(Response::decode_payload(&body), Err(DecodeError::Truncated));
    // A name claiming 4 GB.
    let mut body = kind::GETPWNAM.to_be_bytes().to_vec();
    body.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(Request::decode_payload(&body), Err(DecodeError::Truncated));
    // Unknown kinds and trailing bytes.
    assert_eq!(
        Request::decode_payload(&999u16.to_be_bytes()),
        Err(DecodeError::UnknownKind(999))
    );
    let mut body = kind::STATUS.to_be_bytes().to_vec();
    body.push(0);
    assert!(matches!(
        Request::decode_payload(&body),
        Err(DecodeError::Malformed(_))
    ));
    // An identity claiming 4 billion groups.
    let mut body = kind::R_IDENTITY.to_be_bytes().to_vec();
    body.extend_from_slice(&0u32.to_be_bytes());
    body.extend_from_slice(&[0; 8]);
    body.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(Response::decode_payload(&body), Err(DecodeError::Truncated));
    // Non-UTF-8 text in an answer.
    let mut body = kind::R_ERROR.to_be_bytes().to_vec();
    body.extend_from_slice(&1u32.to_be_bytes());
    body.push(0xff);
    assert!(matches!(
        Response::decode_payload(&body),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn pseudo_random_garbage_never_panics() {
    // xorshift: deterministic, no dependency.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let len = (next() % 64) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if len >= 2 && next() % 2 == 0 {
            // Often a real kind, so decoding goes past the first field.
            let kinds = [
                1u16, 2, 3, 5, 9, 11, 32, 256, 257, 258, 259, 260, 265, 268, 269,
            ];
            let k = kinds[(next() as usize) % kinds.len()];
            bytes[..2].copy_from_slice(&k.to_be_bytes());
        }
        let _ = Request::decode_payload(&bytes);
        let _ = Response::decode_payload(&bytes);
        let _ = split_frame(&bytes, MAX_REQUEST);
    }
}

#[test]
fn client_reports_a_missing_daemon_at_once() {
    let dir = std::env::temp_dir().join(format!("proxid-proto-{}", std::process::id()));
    let path = dir.join("absent.sock");
    #[allow(clippy::disallowed_methods)] // measures the client's real timeout
    let started = std::time::Instant::now();
    let err = client::call(
        path.as_os_str().as_encoded_bytes(),
        &Request::Status,
        client::NSS_TIMEOUT,
    )
    .unwrap_err();
    assert!(matches!(err, client::ClientError::NotRunning(_)), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(
        client::call(&[b'a'; 200], &Request::Status, client::NSS_TIMEOUT),
        Err(client::ClientError::BadPath)
    );
}

#[test]
fn client_talks_to_a_server_and_bounds_a_hung_one() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    let dir = std::env::temp_dir().join(format!("proxid-proto-srv-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("s.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        // First connection: answered. Second: read and never answered.
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 64];
        let n = s.read(&mut buf).unwrap();
        let (payload, _) = split_frame(&buf[..n], MAX_REQUEST).unwrap().unwrap();
        assert_eq!(Request::decode_payload(payload).unwrap(), Request::Status);
        s.write_all(&Response::NotFound.encode()).unwrap();
        let (hung, _) = listener.accept().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(800));
        drop(hung);
    });
    let p = path.as_os_str().as_encoded_bytes();
    assert_eq!(
        client::call(p, &Request::Status, client::NSS_TIMEOUT),
        Ok(Response::NotFound)
    );
    #[allow(clippy::disallowed_methods)] // measures the client's real timeout
    let started = std::time::Instant::now();
    assert_eq!(
        client::call(p, &Request::Status, std::time::Duration::from_millis(300)),
        Err(client::ClientError::Timeout)
    );
    assert!(started.elapsed() < std::time::Duration::from_millis(700));
    server.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_session_carries_several_requests_and_bounds_each() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    let dir = std::env::temp_dir().join(format!("proxid-proto-ses-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("s.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        // Two requests answered on one connection, then silence.
        let (mut s, _) = listener.accept().unwrap();
        for _ in 0..2 {
            let mut header = [0u8; HEADER_LEN];
            s.read_exact(&mut header).unwrap();
            let len = decode_header(&header, MAX_REQUEST).unwrap();
            let mut payload = vec![0u8; len];
            s.read_exact(&mut payload).unwrap();
            assert!(matches!(
                Request::decode_payload(&payload).unwrap(),
                Request::Resolve { .. }
            ));
            s.write_all(&Response::OtherConfig.encode()).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(800));
        drop(s);
    });
    let p = path.as_os_str().as_encoded_bytes();
    let session = client::Session::connect(p, std::time::Duration::from_millis(100)).unwrap();
    let ask = Request::Resolve {
        config_digest: vec![0; CONFIG_DIGEST_LEN],
        name: b"alice".to_vec(),
    };
    for _ in 0..2 {
        assert_eq!(
            session.call(&ask, client::NSS_TIMEOUT),
            Ok(Response::OtherConfig)
        );
    }
    #[allow(clippy::disallowed_methods)] // measures the client's real timeout
    let started = std::time::Instant::now();
    assert_eq!(
        session.call(&ask, std::time::Duration::from_millis(200)),
        Err(client::ClientError::Timeout)
    );
    assert!(started.elapsed() < std::time::Duration::from_millis(700));
    server.join().unwrap();
    let missing = dir.join("absent.sock");
    assert!(matches!(
        client::Session::connect(
            missing.as_os_str().as_encoded_bytes(),
            std::time::Duration::from_millis(100)
        ),
        Err(client::ClientError::NotRunning(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_fuzz_seeds_are_frames_that_decode() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/wire_protocol");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return; // a published crate has no fuzz/ beside it
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let (payload, used) = split_frame(&bytes, MAX_FRAME).unwrap().unwrap();
        assert_eq!(used, bytes.len(), "{path:?}");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("request-") {
            assert!(Request::decode_payload(payload).is_ok(), "{name}");
        } else {
            assert!(Response::decode_payload(payload).is_ok(), "{name}");
        }
    }
}

#[test]
fn a_group_read_in_place_equals_the_decoded_one() {
    let g = GroupEntry {
        name: "staff".into(),
        passwd: "x".into(),
        gid: 7,
        members: vec!["alice".into(), "bob".into()],
    };
    let frame = Response::Group(g.clone()).encode();
    let payload = &frame[HEADER_LEN..];
    let r = GroupRef::decode(payload).unwrap();
    assert_eq!(
        (r.name, r.passwd, r.gid, r.members.clone()),
        ("staff", "x", 7, vec!["alice", "bob"])
    );
    // Truncated, trailing bytes, another kind: refused as decode_payload refuses.
    for cut in 0..payload.len() {
        assert!(GroupRef::decode(&payload[..cut]).is_none());
    }
    let mut longer = payload.to_vec();
    longer.push(0);
    assert!(GroupRef::decode(&longer).is_none());
    let other = Response::Gids(vec![1]).encode();
    assert!(GroupRef::decode(&other[HEADER_LEN..]).is_none());
}
