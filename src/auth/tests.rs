use super::*;
use crate::clock::{Clock, TestClock};

#[test]
fn throttle_after_five_failures_within_a_minute() {
    let t = Throttle::default();
    let start = TestClock::default().now();
    for i in 0..5 {
        assert_eq!(t.delay(1000, "alice", start), Duration::ZERO, "attempt {i}");
        t.record(1000, "alice", true, start + Duration::from_secs(i));
    }
    let now = start + Duration::from_secs(5);
    assert_eq!(t.delay(1000, "alice", now), Throttle::DELAY);
    // Other users from the same peer, and the same user from another peer: free.
    assert_eq!(t.delay(1000, "bob", now), Duration::ZERO);
    assert_eq!(t.delay(1001, "alice", now), Duration::ZERO);
    // A minute after the first failures they no longer count.
    assert_eq!(
        t.delay(1000, "alice", start + Duration::from_secs(61)),
        Duration::ZERO
    );
    // A success forgets.
    t.record(1000, "alice", true, now);
    t.record(1000, "alice", false, now);
    assert_eq!(t.delay(1000, "alice", now), Duration::ZERO);
}

#[test]
fn passwd_names() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwd");
    std::fs::write(
        &file,
        "root:x:0:0:root:/root:/bin/bash\nlivy:x:990:990::/var/lib/livy:/bin/false\n\
         bad\n:x:5:5::/:/\nweird:x:notanumber:1::/:/\n",
    )
    .unwrap();
    assert_eq!(passwd_name(&file, 0).as_deref(), Some("root"));
    assert_eq!(passwd_name(&file, 990).as_deref(), Some("livy"));
    assert_eq!(passwd_name(&file, 5), None);
    assert_eq!(passwd_name(&file, 7), None);
    assert_eq!(passwd_name(&dir.path().join("missing"), 0), None);
}

#[test]
fn audit_line_fields() {
    let req = PamRequest {
        user: b"al\nice".to_vec(),
        service: "jupyterhub".into(),
        rhost: None,
        ruser: Some("jupyter".into()),
        peer_uid: 990,
    };
    let answer = PamAnswer::new(PamCode::AuthErr, "wrong_password");
    let line = pam_audit_line(PamEvent::Auth, &req, &answer, SystemTime::UNIX_EPOCH);
    assert!(!line.contains('\n'));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event"], "auth");
    assert_eq!(v["user"], "al\nice");
    assert_eq!(v["result"], "auth_err");
    assert_eq!(v["peer_uid"], 990);
    assert_eq!(v["rhost"], serde_json::Value::Null);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["time", "event", "user", "service", "rhost", "ruser", "peer_uid", "result", "reason"]
    );
}
