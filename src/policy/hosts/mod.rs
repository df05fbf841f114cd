//! Host lists with the meaning of Hadoop 3.3's `MachineList`: `*`, IP addresses
//! (IPv4 and IPv6), IPv4 CIDR blocks and host names.
//!
//! Choices, each matching Hadoop 3.3.4 unless marked *differs*:
//! - Items are split on commas or newlines and trimmed; empty items and duplicates
//!   are dropped (`" 1.2.3.4 , 5.6.7.8, "` is two items).
//! - `*` is the wildcard only when it is the single item. In a core-site.xml list
//!   (`*,1.2.3.4`) a `*` among other items is an unresolvable host name and is dropped,
//!   as Hadoop does; in proxid.conf it is a configuration error (*differs*: the
//!   mistake is ours to report, not to narrow silently).
//! - An item containing `/` is an IPv4 CIDR block `a.b.c.d/n`, `n` from 0 to 32,
//!   inclusive of the network and broadcast addresses (so /31 and /32 work), host
//!   bits masked off (`10.222.1.5/16` is `10.222.0.0/16`). A malformed block or an
//!   IPv6 block is an error for the whole rule set, as in Hadoop.
//! - IPv4 literals are four decimal parts; leading zeros are decimal (`01.2.3.4` is
//!   `1.2.3.4`, as Java parses it and real Hadoop allows it, case P50 — never octal,
//!   as `inet_aton` would). IPv6 literals are RFC 4291 text.
//! - Anything else that looks numeric is refused, never handed to `getaddrinfo`
//!   (whose `inet_aton` reads `0x7f.1` as 127.0.0.1, `0x0a.010.0.1` as 10.8.0.1,
//!   `2130706433` as 127.0.0.1): a name whose last label is all digits or `0x`
//!   followed by hex digits (the WHATWG URL rule) — `1.2.3`, `16909060`, `127.1`,
//!   `0x7f.1`, `0x0a010203`, `1.2.3.4.`. In a request or in proxid.conf that is an
//!   error; in a core-site.xml list the item is dropped, as Hadoop drops a host it
//!   cannot resolve.
//! - A request host may carry an IPv6 zone (`fe80::1%1`, `fe80::1%eth0`, what Java's
//!   `getHostAddress()` gives for a link-local client): the zone is ignored for
//!   matching, as Hadoop's `InetAddress` comparison ignores it. In host lists a zone
//!   is refused (proxid.conf) or dropped (core-site.xml).
//! - Addresses compare as addresses, not strings: `0:0:0:0:0:0:0:1` is `::1`, and an
//!   IPv4-mapped IPv6 address `::ffff:1.2.3.4` is `1.2.3.4` (on both sides).
//! - Host names are resolved forward once, when the rule set is built; every address
//!   of the name counts (*differs*: Java keeps only the first, an accident of resolver
//!   order). A name that does not resolve is dropped, as Hadoop does, and remembered
//!   so a denial can say so. No reverse DNS, ever.
//! - An IPv6 request checked against an IPv4 CIDR block is a clean "no" (*differs*:
//!   Hadoop throws IllegalArgumentException there).
//! - A request host given as a name is resolved forward on each check and its first
//!   IPv4 address (else its first address) is used, as `InetAddress.getByName` does.
//!   Callers should pass the peer's IP address.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use crate::core_site::java_trim;

/// Longest host item or request host accepted, in bytes (DNS names stop at 253).
const MAX_HOST_BYTES: usize = 255;

/// Forward name resolution, injectable so tests need no DNS.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Vec<IpAddr>;

/// Forward resolution through the system resolver (`getaddrinfo`), every address.
pub(crate) fn system_lookup(name: &str) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    if let Ok(addrs) = (name, 0u16).to_socket_addrs() {
        for a in addrs {
            let ip = normalize(a.ip());
            if !out.contains(&ip) {
                out.push(ip);
            }
        }
    }
    out
}

/// IPv4-mapped IPv6 addresses become the IPv4 address they carry.
pub(crate) fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Splits a Hadoop list value: commas or newlines separate items, each item is
/// trimmed as Java's `String.trim` does (every char up to U+0020), empty items and
/// duplicates are dropped, order kept. A space inside an item is part of it.
pub(crate) fn split_list(value: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for raw in value.split([',', '\n']) {
        let item = java_trim(raw);
        if !item.is_empty() && !items.iter().any(|i| i == item) {
            items.push(item.to_string());
        }
    }
    items
}

/// Parses a dotted-quad IPv4 literal the way Java does: exactly four decimal parts,
/// leading zeros allowed and read as decimal, each at most 255.
fn parse_ipv4_decimal(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse::<u8>().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// What one host item or request host is, before any resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostSpec {
    Addr(IpAddr),
    Name(String),
}

/// Classifies a host string: an IP literal, a host name, or nonsense (with why).
pub(crate) fn parse_host(text: &str) -> Result<HostSpec, String> {
    if text.is_empty() {
        return Err("empty host".into());
    }
    if text.len() > MAX_HOST_BYTES {
        return Err(format!(
            "host is {} bytes, longer than {MAX_HOST_BYTES}",
            text.len()
        ));
    }
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    if unbracketed.contains(':') {
        return unbracketed
            .parse::<Ipv6Addr>()
            .map(|v6| HostSpec::Addr(normalize(IpAddr::V6(v6))))
            .map_err(|_| format!("{text:?} is not an IPv6 address"));
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_ipv4_decimal(text)
            .map(|v4| HostSpec::Addr(IpAddr::V4(v4)))
            .ok_or_else(|| {
                format!("{text:?} is not an IPv4 address (four decimal parts, each 0-255)")
            });
    }
    let name_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    if text.bytes().all(name_char) && !text.starts_with(['.', '-']) {
        if ends_in_a_number(text) {
            return Err(format!(
                "{text:?} is a numeric address in a form other than four decimal parts \
                 (hex, octal or fewer parts); write it as a.b.c.d"
            ));
        }
        return Ok(HostSpec::Name(text.to_string()));
    }
    Err(format!("{text:?} is neither an IP address nor a host name"))
}

/// A request host: as [`parse_host`], and an IPv6 address may carry a zone
/// (`fe80::1%1`, `fe80::1%eth0`), which is checked for shape and then ignored.
pub(crate) fn parse_request_host(text: &str) -> Result<HostSpec, String> {
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let Some((addr, zone)) = inner.split_once('%') else {
        return parse_host(text);
    };
    let zone_ok = !addr.contains(['[', ']'])
        && !zone.is_empty()
        && zone.len() < 16 // IFNAMSIZ
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    match parse_host(addr) {
        Ok(HostSpec::Addr(IpAddr::V6(v6))) if zone_ok => Ok(HostSpec::Addr(IpAddr::V6(v6))),
        _ => Err(format!(
            "{text:?} is not an IPv6 address with a zone (fe80::1%1, fe80::1%eth0)"
        )),
    }
}

/// The WHATWG URL Standard's "ends in a number": the last label (a trailing dot
/// aside) is all decimal digits, or `0x`/`0X` and hex digits. Such a string is
/// what `inet_aton` would take as an address, so it can never be a host name.
fn ends_in_a_number(text: &str) -> bool {
    let text = text.strip_suffix('.').unwrap_or(text);
    let last = text.rsplit('.').next().unwrap_or(text);
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An IPv4 block, inclusive of its network and broadcast addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    network: u32,
    mask: u32,
}

impl Cidr {
    /// `a.b.c.d/n`, as commons-net `SubnetUtils` accepts it: 1-3 digits per part,
    /// 1-2 digits of prefix, prefix at most 32.
    fn parse(text: &str) -> Result<Cidr, String> {
        let bad = |why: &str| format!("invalid CIDR block {text:?}: {why}");
        let (addr, prefix) = text.split_once('/').ok_or_else(|| bad("no '/'"))?;
        if addr.contains(':') {
            return Err(bad(
                "IPv6 CIDR blocks are not supported (Hadoop's MachineList refuses them too); \
                 list IPv6 addresses one by one",
            ));
        }
        let addr = parse_ipv4_decimal(addr).ok_or_else(|| bad("expected a.b.c.d before '/'"))?;
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("expected a prefix length 0-32 after '/'"));
        }
        let bits: u32 = prefix.parse().map_err(|_| bad("bad prefix length"))?;
        if bits > 32 {
            return Err(bad("prefix length above 32"));
        }
        let mask = if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        };
        Ok(Cidr {
            network: u32::from(addr) & mask,
            mask,
        })
    }

    fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask == self.network
    }
}

/// Where a host list came from, which decides how strictly it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// proxid.conf: anything Hadoop would silently drop is an error instead.
    Strict,
    /// core-site.xml: exactly what Hadoop does with the same text.
    Hadoop,
}

/// A parsed host list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MachineList {
    all: bool,
    addrs: HashSet<IpAddr>,
    cidrs: Vec<Cidr>,
    /// Items dropped because they did not resolve (or, from core-site.xml, could
    /// not be a host at all), for the denial reason.
    pub(crate) dropped: Vec<String>,
}

impl MachineList {
    /// Builds a host list from already split items. Errors name the bad item.
    pub(crate) fn new(
        items: &[String],
        strictness: Strictness,
        lookup: Lookup<'_>,
    ) -> Result<MachineList, String> {
        let mut list = MachineList::default();
        if matches!(items, [only] if only == "*") {
            list.all = true;
            return Ok(list);
        }
        for item in items {
            if item.contains('/') {
                list.cidrs.push(Cidr::parse(item)?);
                continue;
            }
            if item == "*" && strictness == Strictness::Strict {
                return Err(
                    "\"*\" must be the only host when used; it is not a wildcard among others"
                        .into(),
                );
            }
            match parse_host(item) {
                Ok(HostSpec::Addr(ip)) => {
                    list.addrs.insert(ip);
                }
                Ok(HostSpec::Name(name)) => {
                    let found = lookup(&name);
                    if found.is_empty() {
                        list.dropped.push(name);
                    }
                    list.addrs.extend(found.into_iter().map(normalize));
                }
                Err(why) if strictness == Strictness::Strict => return Err(why),
                Err(_) => list.dropped.push(item.clone()),
            }
        }
        Ok(list)
    }

    /// True when the list is the wildcard and no address is needed.
    pub(crate) fn is_all(&self) -> bool {
        self.all
    }

    /// Does the list include this address?
    pub(crate) fn includes(&self, ip: IpAddr) -> bool {
        if self.all {
            return true;
        }
        let ip = normalize(ip);
        if self.addrs.contains(&ip) {
            return true;
        }
        match ip {
            IpAddr::V4(v4) => self.cidrs.iter().any(|c| c.contains(v4)),
            IpAddr::V6(_) => false,
        }
    }
}

/// The address a request host stands for: itself when it is a literal, else the
/// first IPv4 address of the name (else its first address), as Java picks it.
pub(crate) fn request_address(spec: &HostSpec, lookup: Lookup<'_>) -> Option<IpAddr> {
    match spec {
        HostSpec::Addr(ip) => Some(*ip),
        HostSpec::Name(name) => {
            let found = lookup(name);
            found
                .iter()
                .find(|ip| ip.is_ipv4())
                .or_else(|| found.first())
                .copied()
                .map(normalize)
        }
    }
}

#[cfg(test)]
mod tests;
