#!/usr/bin/env bash
# The full test suite: installs what the tests need (Debian packages) when missing,
# then runs formatting, lint and every test. Run as root or with sudo available.
set -euo pipefail
# proxid refuses policy files group or others may write (issue 11.13); the tests
# write theirs with the default mode, so keep that mode the usual 0644.
umask 022
cd "$(dirname "$0")/.."

# Debian packages the tests start or compare against. slapd and nslcd are only run
# by the tests themselves, in temp dirs on free ports; their system services are
# kept from starting and the machine's /etc/nsswitch.conf is checked to stay as it was.
# man-db, zsh and fish render the man pages and parse the completion scripts (tests/cli.rs);
# dpkg-dev, file and lintian build and check the Debian package (tests/package_deb.rs);
# g++ builds libFuzzer for the fuzz smoke runs (scripts/fuzz.sh).
PACKAGES=(slapd ldap-utils nslcd libnss-ldapd gosa-schema valgrind openssl gcc make
          pkg-config binutils junit5 python3-pip util-linux
          man-db zsh fish dpkg-dev file lintian
          pamtester libpam0g-dev sudo python3-venv g++)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Any JDK will do (the machine may bring its own); Debian's when there is none.
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
if ((${#missing[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "test-all: installing ${missing[*]}"
    nsswitch_before=$(sha256sum /etc/nsswitch.conf 2>/dev/null || true)
    # Packages may add their own service files to /etc/pam.d (sudo does), never change
    # the ones already there.
    pamd_before=$(cd /etc/pam.d 2>/dev/null && sha256sum -- * 2>/dev/null || true)
    # Keep the packages' own services (system slapd, nslcd) from starting.
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    # libnss-ldapd's postinst would add "ldap" to /etc/nsswitch.conf; answer its
    # questions with nothing so the machine's NSS stays untouched.
    $SUDO debconf-set-selections <<'DEBCONF'
libnss-ldapd libnss-ldapd/nsswitch multiselect
libnss-ldapd libnss-ldapd/clean_nsswitch boolean false
nslcd nslcd/ldap-uris string
nslcd nslcd/ldap-base string
slapd slapd/no_configuration boolean true
DEBCONF
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
    [ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
    nsswitch_after=$(sha256sum /etc/nsswitch.conf 2>/dev/null || true)
    pamd_changed=""
    [ -z "$pamd_before" ] || pamd_changed=$(cd /etc/pam.d 2>/dev/null && printf '%s\n' "$pamd_before" | sed '/^$/d' | sha256sum --quiet -c - 2>&1 || true)
    if [ -n "$pamd_changed" ]; then
        echo "test-all: installing packages changed /etc/pam.d: $pamd_changed; refusing to go on" >&2
        exit 2
    fi
    if [ "$nsswitch_before" != "$nsswitch_after" ]; then
        echo "test-all: installing packages changed /etc/nsswitch.conf; refusing to go on" >&2
        exit 2
    fi
fi

# pamela (the PAM binding JupyterHub uses) and JupyterHub itself, for
# tests/pam_python.rs, in a virtualenv of their own (PyPI), once.
PAM_VENV=${PROXID_PAM_VENV:-$HOME/.cache/proxid/pam-venv}
if [ ! -x "$PAM_VENV/bin/jupyterhub" ]; then
    python3 -m venv "$PAM_VENV"
    "$PAM_VENV/bin/pip" install -q pamela jupyterhub
fi
export PROXID_PAM_VENV="$PAM_VENV"

cargo fmt --all -- --check
cargo clippy --all-targets --all-features -- -D warnings
cargo test --all-features
# Fuzz smoke runs (issue 16.1): 30 s per target. The first build instruments every
# dependency (about 5 minutes on 2 cores; kept in target/fuzz for later runs).
bash scripts/fuzz.sh 30
