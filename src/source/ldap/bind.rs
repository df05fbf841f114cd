//! Checking a user's password: the DN is found with the service account (pooled
//! connection, the ordinary user search and its rules), then a simple bind as that DN
//! on a fresh connection of its own, encrypted unless `allow_insecure_bind`, asking for
//! the password-policy response control (draft-behera-ldap-password-policy, which
//! OpenLDAP's ppolicy and others send). The connection is dropped afterwards: a bound
//! user connection is never pooled or reused.
//!
//! An empty password never reaches a bind: RFC 4513 §5.1.2 makes "DN + empty password"
//! an unauthenticated bind, which some servers (Active Directory) answer with success.
//! After a successful bind, a Who am I? (RFC 4532) must name someone, so a server that
//! treats the bind as anonymous anyway is caught.

use ldap3::controls::RawControl;
use ldap3::Ldap;

use super::pool::unavailable;
use super::query::{self, UserKey};
use super::{search, Inner, SOURCE};
use crate::clock::millis;
use crate::error::{Error, Result};
use crate::identity::PasswordCheck;

/// The password-policy request/response control.
const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// What the password-policy response control reports in its `error` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyError {
    PasswordExpired,
    AccountLocked,
    ChangeAfterReset,
    Other(u8),
}

/// Reads the `error` of a PasswordPolicyResponseValue:
/// `SEQUENCE { warning [0] ... OPTIONAL, error [1] ENUMERATED OPTIONAL }`.
/// Anything malformed reads as "no error reported".
pub(crate) fn policy_error(value: &[u8]) -> Option<PolicyError> {
    let (tag, body, _) = ber_item(value)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = body;
    while !rest.is_empty() {
        let (tag, content, after) = ber_item(rest)?;
        if tag == 0x81 {
            let code = *content.last()?;
            if content.len() != 1 {
                return Some(PolicyError::Other(code));
            }
            return Some(match code {
                0 => PolicyError::PasswordExpired,
                1 => PolicyError::AccountLocked,
                2 => PolicyError::ChangeAfterReset,
                n => PolicyError::Other(n),
            });
        }
        rest = after;
    }
    None
}

/// One BER item: (tag byte, contents, what follows). Short and long definite lengths.
fn ber_item(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *data.first()?;
    let first = *data.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in data.get(2..2 + n)? {
            len = (len << 8) | usize::from(*b);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, data.get(header..end)?, data.get(end..)?))
}

/// The policy error among the response controls, if any.
fn control_error(ctrls: &[ldap3::controls::Control]) -> Option<PolicyError> {
    ctrls
        .iter()
        .find(|c| c.1.ctype == PPOLICY_OID)
        .and_then(|c| c.1.val.as_deref())
        .and_then(policy_error)
}

/// Active Directory reports lockout and expiry in the text of result 49
/// ("... data 775, ..."), not in a control.
fn ad_reason(text: &str) -> Option<PasswordCheck> {
    if text.contains("data 775") {
        Some(PasswordCheck::Locked)
    } else if ["data 532", "data 773"].iter().any(|d| text.contains(d)) {
        Some(PasswordCheck::Expired)
    } else {
        None
    }
}

impl Inner {
    /// Checks `password` for the user `name` (already validated by the caller).
    pub(crate) async fn check_password(&self, name: &str, password: &str) -> Result<PasswordCheck> {
        if password.is_empty() {
            return Ok(PasswordCheck::WrongPassword);
        }
        let key = UserKey::Name(name.to_owned());
        let filter = self.user_filter(&key);
        let entries = self
            .with_connection(|ldap| {
                let attrs = self.user_attrs.clone();
                let (base, filter) = (&self.cfg.user_base, &filter);
                async move { search(ldap, base, filter, attrs).await }
            })
            .await?;
        let Some(user) = query::pick_user(&self.cfg, &key, entries)? else {
            return Ok(PasswordCheck::UserUnknown);
        };
        let timeout = self.cfg.operation_timeout;
        let ldap = self.pool.open_for_user_bind().await?;
        match tokio::time::timeout(timeout, bind_as(ldap, &user.dn, password)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                source_name: SOURCE.into(),
                after_ms: millis(timeout),
            }),
        }
    }
}

/// The bind and its verification, on a connection used for nothing else.
async fn bind_as(mut ldap: Ldap, dn: &str, password: &str) -> Result<PasswordCheck> {
    let ppolicy = RawControl {
        ctype: PPOLICY_OID.into(),
        crit: false,
        val: None,
    };
    let result = ldap
        .with_controls(ppolicy)
        .simple_bind(dn, password)
        .await
        .map_err(|e| unavailable(format!("bind: {e}")))?;
    let policy = control_error(&result.ctrls);
    let outcome = match result.rc {
        0 => match policy {
            Some(PolicyError::PasswordExpired | PolicyError::ChangeAfterReset) => {
                PasswordCheck::Expired
            }
            Some(PolicyError::AccountLocked) => PasswordCheck::Locked,
            _ => verified(&mut ldap).await?,
        },
        // Busy / unavailable: the server cannot say now.
        51 | 52 => {
            return Err(unavailable(format!(
                "bind: the server answered {}: {}",
                result.rc, result.text
            )))
        }
        _ => match policy {
            Some(PolicyError::AccountLocked) => PasswordCheck::Locked,
            Some(PolicyError::PasswordExpired | PolicyError::ChangeAfterReset) => {
                PasswordCheck::Expired
            }
            _ => ad_reason(&result.text).unwrap_or(PasswordCheck::WrongPassword),
        },
    };
    let _ = ldap.unbind().await;
    Ok(outcome)
}

/// After a successful bind: the server must say we are someone. A server that does
/// not implement Who am I? (an error result) is taken at its bind's word.
async fn verified(ldap: &mut Ldap) -> Result<PasswordCheck> {
    let answer = ldap
        .extended(ldap3::exop::WhoAmI)
        .await
        .map_err(|e| unavailable(format!("who am I: {e}")))?;
    if answer.1.rc != 0 {
        return Ok(PasswordCheck::Ok);
    }
    let authzid = answer.0.val.unwrap_or_default();
    Ok(if authzid.is_empty() {
        PasswordCheck::WrongPassword
    } else {
        PasswordCheck::Ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_errors_table() {
        let cases: &[(&[u8], Option<PolicyError>)] = &[
            (
                &[0x30, 0x03, 0x81, 0x01, 0x00],
                Some(PolicyError::PasswordExpired),
            ),
            (
                &[0x30, 0x03, 0x81, 0x01, 0x01],
                Some(PolicyError::AccountLocked),
            ),
            (
                &[0x30, 0x03, 0x81, 0x01, 0x02],
                Some(PolicyError::ChangeAfterReset),
            ),
            (&[0x30, 0x03, 0x81, 0x01, 0x08], Some(PolicyError::Other(8))),
            // a warning (timeBeforeExpiration 300) then the error
            (
                &[
                    0x30, 0x09, 0xa0, 0x04, 0x80, 0x02, 0x01, 0x2c, 0x81, 0x01, 0x01,
                ],
                Some(PolicyError::AccountLocked),
            ),
            // a warning only
            (&[0x30, 0x06, 0xa0, 0x04, 0x81, 0x02, 0x00, 0x03], None),
            (&[0x30, 0x00], None),
            (&[], None),
            (&[0x30], None),
            (&[0x30, 0x05, 0x81, 0x01], None),
            (&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x81], None),
            (&[0x04, 0x03, 0x81, 0x01, 0x01], None),
        ];
        for (bytes, want) in cases {
            assert_eq!(policy_error(bytes), *want, "{bytes:02x?}");
        }
    }

    #[test]
    fn active_directory_texts() {
        let t = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data ";
        assert_eq!(
            ad_reason(&format!("{t}775, v4563")),
            Some(PasswordCheck::Locked)
        );
        assert_eq!(
            ad_reason(&format!("{t}532, v4563")),
            Some(PasswordCheck::Expired)
        );
        assert_eq!(ad_reason(&format!("{t}52e, v4563")), None);
    }
}
