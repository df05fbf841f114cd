//! TLS trust for directory connections: rustls (ring) verifying the server against
//! `ca_file` or the system store, with two additions OpenSSL-based clients (nslcd,
//! SSSD, ldapsearch) have taught users to expect:
//! - **pinning**: a server whose certificate is byte for byte one of the certificates
//!   in `ca_file` is accepted even when it is a CA certificate (`openssl req -x509`
//!   sets `CA:TRUE`, which webpki refuses as a server certificate); its host name and
//!   dates are still checked, and the handshake signature is still verified with its key;
//! - **IP literals**: each server gets its own configuration that verifies the name
//!   taken from its URI (`ldaps://[::1]` against the IP SAN `::1`), whatever name
//!   ldap3 hands to rustls.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::pool::Server;

/// What the client trusts: the roots, and the certificates a server may present as
/// themselves (those of `ca_file`).
#[derive(Debug)]
pub(crate) struct Trust {
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
    pinned: Arc<Vec<CertificateDer<'static>>>,
}

impl Trust {
    /// Reads `ca_file`, or else the system store. Loading no certificate at all is an
    /// error, never a silent "trust nothing" that fails later with a vague message.
    pub(crate) fn load(ca_file: Option<&Path>) -> Result<Trust, String> {
        let mut roots = RootCertStore::empty();
        let mut pinned = Vec::new();
        match ca_file {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
                for cert in certs {
                    let cert = cert.map_err(|e| format!("ca_file {}: {e}", path.display()))?;
                    roots
                        .add(cert.clone())
                        .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
                    pinned.push(cert);
                }
                if roots.is_empty() {
                    return Err(format!(
                        "ca_file {} holds no PEM certificate",
                        path.display()
                    ));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _ignored) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
                    return Err(format!(
                        "no ca_file is set and the system certificate store yielded no usable \
                         certificate{}{}",
                        if why.is_empty() { "" } else { ": " },
                        why.join("; ")
                    ));
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(roots.into(), provider.clone())
            .build()
            .map_err(|e| format!("TLS setup: {e}"))?;
        Ok(Trust {
            provider,
            verifier,
            pinned: Arc::new(pinned),
        })
    }

    /// The client configuration for one server: verifies the name in its URI.
    pub(crate) fn client_config(&self, server: &Server) -> Result<Arc<ClientConfig>, String> {
        let name = server_name(server)?;
        let verifier = Verifier {
            webpki: self.verifier.clone(),
            pinned: self.pinned.clone(),
            provider: self.provider.clone(),
            // SNI carries host names only (RFC 6066), never an address.
            sni: matches!(name, ServerName::DnsName(_)),
            name,
        };
        let sni = verifier.sni;
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.enable_sni = sni;
        Ok(Arc::new(config))
    }
}

/// The name a server's certificate must carry: its IP address or host name.
fn server_name(server: &Server) -> Result<ServerName<'static>, String> {
    if let Ok(ip) = server.host.parse::<std::net::IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(server.host.clone())
        .map_err(|_| format!("{}: {:?} is not a valid host name", server.uri, server.host))
}

/// The name ldap3 is given for the TLS handshake. ldap3 turns the URI's host into a
/// rustls name itself and cannot parse a bracketed IPv6 literal; our verifier checks
/// the server's real name, so any valid name does here.
pub(crate) fn ldap3_uri(server: &Server) -> String {
    if server.host.contains(':') {
        let scheme = if server.tls { "ldaps" } else { "ldap" };
        format!("{scheme}://ipv6-literal.invalid:{}", server.port)
    } else {
        server.uri.clone()
    }
}

#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Arc<Vec<CertificateDer<'static>>>,
    provider: Arc<CryptoProvider>,
    name: ServerName<'static>,
    sni: bool,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _name_from_ldap3: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            &self.name,
            ocsp_response,
            now,
        );
        match verdict {
            Err(_)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                verify_pinned(end_entity, &self.name, now)
            }
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// A certificate the administrator put in `ca_file` and the server presents as its
/// own: trusted as such, if it names the server and is within its dates.
fn verify_pinned(
    cert: &CertificateDer<'_>,
    name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    use rustls::CertificateError;
    let parsed = rustls::server::ParsedCertificate::try_from(cert)?;
    rustls::client::verify_server_name(&parsed, name)?;
    let (_, x509) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = x509.validity();
    if secs < validity.not_before.timestamp() {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet,
        ));
    }
    if secs > validity.not_after.timestamp() {
        return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
    }
    Ok(ServerCertVerified::assertion())
}

/// A handshake failure in plain words, with what to do about it; the library's own
/// text follows in parentheses.
pub(crate) fn explain(server: &Server, error: &str) -> String {
    let host = &server.host;
    let advice = if error.contains("CaUsedAsEndEntity") {
        format!(
            "the server's certificate is a CA certificate (basicConstraints CA:TRUE, which \
             `openssl req -x509` sets by default), not a server certificate, and it is not in \
             ca_file. Either make a CA and a server certificate for {host} signed by it (then \
             ca_file = the CA), or pin this very certificate by putting it in ca_file"
        )
    } else if error.contains("UnknownIssuer") {
        "the server's certificate is not signed by a CA this client trusts: set ca_file to \
         the CA that signed it (or, for a self-signed certificate, to that certificate)"
            .to_string()
    } else if error.contains("NotValidForName") || error.contains("not valid for name") {
        format!(
            "the server's certificate does not name {host}: use a host name (or IP address) \
             in uris that the certificate's subjectAltName lists, or reissue the certificate"
        )
    } else if error.contains("Expired") || error.contains("expired") {
        "the server's certificate has expired: renew it".to_string()
    } else if error.contains("NotValidYet") || error.contains("not valid yet") {
        "the server's certificate is not valid yet: check the clocks of both hosts".to_string()
    } else {
        return error.to_string();
    };
    format!("TLS: {advice} ({error})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_literals_reach_ldap3_as_a_valid_name() {
        let v6 = Server::parse("ldaps://[::1]:6360").unwrap();
        assert_eq!(ldap3_uri(&v6), "ldaps://ipv6-literal.invalid:6360");
        assert!(matches!(server_name(&v6), Ok(ServerName::IpAddress(_))));
        let named = Server::parse("ldap://ldap.example.org").unwrap();
        assert_eq!(ldap3_uri(&named), "ldap://ldap.example.org:389");
        assert!(matches!(server_name(&named), Ok(ServerName::DnsName(_))));
    }

    #[test]
    fn handshake_failures_are_explained() {
        let s = Server::parse("ldaps://ldap.example.org").unwrap();
        let cases = [
            (
                "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
                "pin this very certificate",
            ),
            ("invalid peer certificate: UnknownIssuer", "set ca_file"),
            (
                "certificate not valid for name \"x\"; certificate is only valid for y",
                "does not name ldap.example.org",
            ),
            ("invalid peer certificate: Expired", "expired"),
        ];
        for (raw, words) in cases {
            let text = explain(&s, raw);
            assert!(text.contains(words) && text.contains(raw), "{text}");
        }
        assert_eq!(explain(&s, "connection reset"), "connection reset");
    }
}
