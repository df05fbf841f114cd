use super::*;

/// TestMachineList's fake resolver: host1, host4, host5 and `localhost`.
fn fake(name: &str) -> Vec<IpAddr> {
    let ips: &[&str] = match name {
        "host1" => &["1.2.3.1"],
        "host4" => &["1.2.3.4"],
        "host5" => &["1.2.3.5"],
        "localhost" => &["::1", "127.0.0.1"],
        "dual" => &["2001:db8::7", "10.9.9.9"],
        _ => &[],
    };
    ips.iter().map(|s| s.parse().unwrap()).collect()
}

fn list(value: &str, strictness: Strictness) -> Result<MachineList, String> {
    MachineList::new(&split_list(value), strictness, &fake)
}

#[test]
fn list_splitting_table() {
    let cases: &[(&str, &[&str])] = &[
        ("a,b", &["a", "b"]),
        (" a , b ,", &["a", "b"]),
        ("a\nb", &["a", "b"]),
        ("a \n b\t, c", &["a", "b", "c"]),
        ("a,,b,a", &["a", "b"]),
        ("alice bob", &["alice bob"]),
        ("", &[]),
        (" , \n ,", &[]),
        (" * ", &["*"]),
        ("a\r\n,b", &["a", "b"]),
    ];
    for (value, want) in cases {
        assert_eq!(split_list(value), *want, "{value:?}");
    }
}

#[test]
fn machine_list_table() {
    // (list, query, included?) — the H rows of TestMachineList, and more.
    let cases: &[(&str, &str, bool)] = &[
        ("*", "10.119.103.112", true),
        ("*", "::1", true),
        (" * ", "1.2.3.4", true),
        ("*,*", "1.2.3.4", true),
        (
            "10.119.103.110,10.119.103.112,10.119.103.114",
            "10.119.103.112",
            true,
        ),
        (
            "10.119.103.110,10.119.103.112,10.119.103.114",
            "10.119.103.111",
            false,
        ),
        (
            " 10.119.103.110 , 10.119.103.112,10.119.103.114 ,10.119.103.110, ",
            "10.119.103.112",
            true,
        ),
        (
            " 10.119.103.110 , 10.119.103.112,10.119.103.114 ,10.119.103.110, ",
            "10.119.103.111",
            false,
        ),
        ("host1,host4", "1.2.3.4", true),
        ("host1,host4", "1.2.3.5", false),
        ("10.222.0.0/16,10.241.23.0/24", "10.221.255.255", false),
        ("10.222.0.0/16,10.241.23.0/24", "10.222.0.0", true),
        ("10.222.0.0/16,10.241.23.0/24", "10.222.0.255", true),
        ("10.222.0.0/16,10.241.23.0/24", "10.222.255.254", true),
        ("10.222.0.0/16,10.241.23.0/24", "10.222.255.255", true),
        ("10.222.0.0/16,10.241.23.0/24", "10.223.0.0", false),
        ("10.222.0.0/16,10.241.23.0/24", "10.241.23.0", true),
        ("10.222.0.0/16,10.241.23.0/24", "10.241.23.255", true),
        ("10.222.0.0/16,10.241.23.0/24", "10.119.103.111", false),
        ("10.241.23.0/24", "10.241.22.255", false),
        ("10.241.23.0/24", "10.241.24.0", false),
        ("1.2.3.4/32", "1.2.3.4", true),
        ("1.2.3.4/32", "1.2.3.5", false),
        ("1.2.3.4/31", "1.2.3.5", true),
        ("1.2.3.4/31", "1.2.3.6", false),
        ("0.0.0.0/0", "8.8.8.8", true),
        ("0.0.0.0/0", "::1", false),
        ("10.222.1.5/16", "10.222.9.9", true),
        ("10.0.0.0/8", "::ffff:10.1.2.3", true),
        ("1.2.3.4", "::ffff:1.2.3.4", true),
        ("::ffff:1.2.3.4", "1.2.3.4", true),
        ("::1", "0:0:0:0:0:0:0:1", true),
        ("::1", "[::1]", true),
        ("1.2.3.4", "01.2.3.4", true),
        ("010.1.1.1", "10.1.1.1", true),
        ("localhost", "127.0.0.1", true),
        ("localhost", "::1", true),
        ("dual", "10.9.9.9", true),
        ("dual", "2001:db8::7", true),
        ("1.2.3.4\n5.6.7.8", "5.6.7.8", true),
        ("no-such-host.invalid", "1.2.3.4", false),
        ("", "1.2.3.4", false),
    ];
    for (value, query, want) in cases {
        let list = list(value, Strictness::Hadoop).unwrap();
        let ip = match parse_host(query).unwrap() {
            HostSpec::Addr(ip) => ip,
            other => panic!("{other:?}"),
        };
        assert_eq!(list.includes(ip), *want, "{value:?} includes {query}?");
    }
}

#[test]
fn star_among_hosts_is_dropped_from_core_site_and_refused_in_proxid_conf() {
    let hadoop = list("*,1.2.3.4", Strictness::Hadoop).unwrap();
    assert!(!hadoop.is_all());
    assert!(hadoop.includes("1.2.3.4".parse().unwrap()));
    assert!(!hadoop.includes("1.2.3.5".parse().unwrap()));
    assert_eq!(hadoop.dropped, vec!["*"]);
    let err = list("*,1.2.3.4", Strictness::Strict).unwrap_err();
    assert!(err.contains("only host"), "{err}");
}

#[test]
fn stored_collection_drops_trailing_empty_item() {
    // H14: seven items, the trailing empty one dropped.
    let items = split_list(
        "host1,10.222.0.0/16,10.119.103.110,10.119.103.112,10.119.103.114,10.241.23.0/24,host4,",
    );
    assert_eq!(items.len(), 7);
}

#[test]
fn bad_entries_table() {
    // (item, error in both modes?) — CIDR errors are load errors even for Hadoop.
    let cases: &[(&str, bool)] = &[
        ("10.241/24", true),
        ("10.0.0.0/33", true),
        ("2001:db8::/32", true),
        ("10.0.0.0/", true),
        ("/8", true),
        ("10.0.0.0/8/8", true),
        ("10.0.0.0 /8", true),
        ("256.0.0.0/8", true),
        ("10.0.0.0/008", true),
        ("1.2.3", false),
        ("16909060", false),
        ("fe80::1%eth0", false),
        ("has space", false),
        ("-leading", false),
        ("a)(b", false),
    ];
    for (item, in_both) in cases {
        let strict = MachineList::new(&[item.to_string()], Strictness::Strict, &fake);
        assert!(strict.is_err(), "{item:?} must be refused in proxid.conf");
        let hadoop = MachineList::new(&[item.to_string()], Strictness::Hadoop, &fake);
        assert_eq!(hadoop.is_err(), *in_both, "{item:?} from core-site.xml");
        if let Ok(l) = hadoop {
            assert_eq!(l.dropped, vec![item.to_string()]);
        }
    }
}

#[test]
fn request_hosts_table() {
    let cases: &[(&str, Option<&str>)] = &[
        ("1.2.3.4", Some("1.2.3.4")),
        ("::ffff:1.2.3.4", Some("1.2.3.4")),
        ("[::1]", Some("::1")),
        ("localhost", Some("127.0.0.1")),
        ("dual", Some("10.9.9.9")),
        ("no-such-host.invalid", None),
    ];
    for (host, want) in cases {
        let spec = parse_host(host).unwrap();
        let got = request_address(&spec, &fake);
        assert_eq!(got, want.map(|w| w.parse().unwrap()), "{host}");
    }
    let long = "a".repeat(MAX_HOST_BYTES + 1);
    for bad in ["", "*", "a b", "1.2.3", "::g", "a\0b", long.as_str()] {
        assert!(parse_host(bad).is_err(), "{bad:?}");
    }
}

/// Issue 11.7: numeric spellings `inet_aton` would read are errors in requests
/// and proxid.conf, dropped from core-site.xml lists, and never looked up.
#[test]
fn sec_11_7_hex_and_octal_ipv4_refused() {
    let looked_up = std::cell::RefCell::new(Vec::<String>::new());
    let spy = |name: &str| {
        looked_up.borrow_mut().push(name.to_string());
        fake(name)
    };
    for bad in [
        "0x7f.1",
        "0x0a.010.0.1",
        "0x0a010203",
        "0X0A010203",
        "127.1",
        "2130706433",
        "1.2.3",
        "1.2.3.4.",
        "10.0.0.0x1",
        "host.0x10",
        "localhost.42",
        "0x",
        "017700000001",
    ] {
        let err = parse_request_host(bad).expect_err(bad);
        assert!(
            err.contains(bad) || err.contains("not an IPv4"),
            "{bad}: {err}"
        );
        assert!(parse_host(bad).is_err(), "{bad}");
        let strict = MachineList::new(&[bad.to_string()], Strictness::Strict, &spy);
        assert!(strict.is_err(), "{bad} in proxid.conf");
        let hadoop = MachineList::new(&[bad.to_string()], Strictness::Hadoop, &spy)
            .expect("core-site.xml drops it");
        assert_eq!(hadoop.dropped, vec![bad.to_string()]);
        assert!(!hadoop.includes("127.0.0.1".parse().unwrap()));
    }
    assert!(looked_up.borrow().is_empty(), "{:?}", looked_up.borrow());
    // Names that merely contain digits or hex are still names.
    for name in [
        "0x7f.example",
        "host1",
        "a1.b2",
        "10.0.0.1.example",
        "ab.0xg",
    ] {
        assert_eq!(parse_host(name), Ok(HostSpec::Name(name.into())), "{name}");
    }
}

/// Issue 11.18: a zone on a request's IPv6 address is accepted and ignored.
#[test]
fn sec_11_18_scoped_ipv6_request_host() {
    let ll: IpAddr = "fe80::1".parse().unwrap();
    for host in [
        "fe80::1%1",
        "fe80::1%eth0",
        "[fe80::1%eth0]",
        "fe80::1%enp0s31f6",
    ] {
        let spec = parse_request_host(host).expect(host);
        assert_eq!(spec, HostSpec::Addr(ll), "{host}");
        let list = MachineList::new(&["fe80::1".into()], Strictness::Strict, &fake).unwrap();
        assert!(list.includes(ll));
    }
    for bad in [
        "fe80::1%",
        "fe80::1%a b",
        "fe80::1%1%2",
        "1.2.3.4%1",
        "host%1",
        "fe80::g%1",
        "fe80::1%abcdefghijklmnopq",
        "fe80::1%eth0/64",
        "%1",
        "[fe80::1%1",
        "[fe80::1]%1",
    ] {
        assert!(parse_request_host(bad).is_err(), "{bad}");
    }
    // Host lists keep refusing zones.
    assert!(MachineList::new(&["fe80::1%1".into()], Strictness::Strict, &fake).is_err());
}

#[test]
fn system_lookup_resolves_localhost_from_files() {
    assert!(system_lookup("localhost").contains(&"127.0.0.1".parse().unwrap()));
}
