//! The probe's TLS step done by hand (rustls over the raw socket, StartTLS spoken in
//! BER), so the certificate chain the server sent can be shown and checked.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use rustls::pki_types::ServerName;
use rustls::ClientConfig;

use super::super::pool::Server;
use super::{bad, ms, now, ok, Finding, Level, EXPIRY_WARN_DAYS};
use crate::clock::{Clock, SystemClock};

/// The TLS handshake (after StartTLS when asked) over `stream`; returns a summary and
/// the server's certificate chain, leaf first.
pub(super) fn handshake(
    mut stream: TcpStream,
    server: &Server,
    config: Arc<ClientConfig>,
    starttls: bool,
    timeout: Duration,
) -> Result<(String, Vec<Vec<u8>>), String> {
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    if starttls {
        start_tls(&mut stream)?;
    }
    let name = ServerName::try_from(server.host.clone()).map_err(|e| e.to_string())?;
    let mut conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let started = now();
    while conn.is_handshaking() {
        conn.complete_io(&mut stream).map_err(|e| {
            if e.kind() == std::io::ErrorKind::WouldBlock
                || e.kind() == std::io::ErrorKind::TimedOut
            {
                format!("no answer within {}", ms(timeout))
            } else {
                e.to_string()
            }
        })?;
    }
    let took = started.elapsed();
    let version = conn
        .protocol_version()
        .map_or("?".into(), |v| format!("{v:?}"));
    let suite = conn
        .negotiated_cipher_suite()
        .map_or("?".into(), |s| format!("{:?}", s.suite()));
    let chain = conn
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.as_ref().to_vec()).collect())
        .unwrap_or_default();
    let how = if starttls { "StartTLS" } else { "TLS" };
    Ok((
        format!(
            "{how} handshake in {} ({version}, {suite}), certificate verified",
            ms(took)
        ),
        chain,
    ))
}

/// Sends the StartTLS extended request (RFC 4511 4.14) and reads its answer.
fn start_tls(stream: &mut TcpStream) -> Result<(), String> {
    const OID: &[u8] = b"1.3.6.1.4.1.1466.20037";
    let mut request = vec![0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16];
    request.extend_from_slice(OID);
    stream
        .write_all(&request)
        .map_err(|e| format!("StartTLS: {e}"))?;
    let message = read_ber(stream).map_err(|e| format!("StartTLS: {e}"))?;
    // SEQUENCE { messageID INTEGER, [APPLICATION 24] { resultCode ENUMERATED, ... } }
    let rc = (|| {
        let (_, id_len) = ber_header(&message)?;
        let (tag, op) = (message.get(2 + id_len)?, 3 + id_len);
        if *tag != 0x78 {
            return None;
        }
        let (skip, _) = ber_header(message.get(op - 1..)?)?;
        let code = message.get(op - 1 + skip..)?;
        (code.first() == Some(&0x0a) && code.get(1) == Some(&1)).then(|| code.get(2).copied())?
    })();
    match rc {
        Some(0) => Ok(()),
        Some(rc) => Err(format!("the server refused StartTLS (result code {rc})")),
        None => Err("the server's answer to StartTLS is not an extended response".into()),
    }
}

/// `(header length, content length)` of the BER element starting at `data[0]`.
fn ber_header(data: &[u8]) -> Option<(usize, usize)> {
    let first = *data.get(1)?;
    if first < 0x80 {
        return Some((2, first as usize));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 {
        return None;
    }
    let len = data
        .get(2..2 + n)?
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    Some((2 + n, len))
}

/// One whole BER message (at most 64 kB): the SEQUENCE's content without its header.
fn read_ber(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head)?;
    let mut header = head.to_vec();
    if head[1] >= 0x80 {
        let n = (head[1] & 0x7f) as usize;
        let mut more = vec![0; n.min(4)];
        stream.read_exact(&mut more)?;
        header.extend(more);
    }
    let (_, len) = ber_header(&header).ok_or(std::io::ErrorKind::InvalidData)?;
    if len > 65536 {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    let mut body = vec![0; len];
    stream.read_exact(&mut body)?;
    Ok(body)
}

/// The chain's subjects, the leaf's names and its days to expiry.
pub(super) fn certificates(server: &Server, chain: &[Vec<u8>]) -> Finding {
    let now = SystemClock::default()
        .wall()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut parts = Vec::new();
    let mut soonest: Option<(i64, String)> = None;
    for (i, der) in chain.iter().enumerate() {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            parts.push(format!("#{i}: not parseable"));
            continue;
        };
        let subject = cert.subject().to_string();
        let days = (cert.validity().not_after.timestamp() - now).div_euclid(86400);
        let mut line = format!("#{i} {subject:?}, expires in {days} days");
        if i == 0 {
            let names: Vec<String> = cert
                .subject_alternative_name()
                .ok()
                .flatten()
                .map(|san| san.value.general_names.iter().map(general_name).collect())
                .unwrap_or_default();
            line += &format!(", names [{}]", names.join(", "));
        }
        parts.push(line);
        if soonest.as_ref().is_none_or(|(d, _)| days < *d) {
            soonest = Some((days, subject));
        }
    }
    let detail = format!("{}: chain {}", server.uri, parts.join("; "));
    match soonest {
        Some((days, subject)) if days < EXPIRY_WARN_DAYS => bad(
            "certificate",
            Level::Warn,
            format!("{detail} ({subject:?} expires in {days} days, under {EXPIRY_WARN_DAYS})"),
            "renew the server's certificate before it expires",
        ),
        Some(_) => ok("certificate", detail),
        None => bad(
            "certificate",
            Level::Warn,
            format!("{}: the server sent no certificate", server.uri),
            "configure a certificate on the LDAP server",
        ),
    }
}

/// A subject alternative name as openssl shows it: `DNS:host`, `IP:10.0.0.1`.
fn general_name(name: &x509_parser::extensions::GeneralName<'_>) -> String {
    use x509_parser::extensions::GeneralName;
    match name {
        GeneralName::DNSName(n) => format!("DNS:{n}"),
        GeneralName::IPAddress(b) => match (<[u8; 4]>::try_from(*b), <[u8; 16]>::try_from(*b)) {
            (Ok(v4), _) => format!("IP:{}", std::net::Ipv4Addr::from(v4)),
            (_, Ok(v6)) => format!("IP:{}", std::net::Ipv6Addr::from(v6)),
            _ => "IP:?".into(),
        },
        GeneralName::RFC822Name(n) => format!("email:{n}"),
        GeneralName::URI(n) => format!("URI:{n}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ber_lengths() {
        assert_eq!(ber_header(&[0x30, 0x0c]), Some((2, 12)));
        assert_eq!(ber_header(&[0x30, 0x82, 0x01, 0x00]), Some((4, 256)));
        assert_eq!(ber_header(&[0x30, 0x80]), None);
        assert_eq!(ber_header(&[0x30]), None);
    }
}
