#!/bin/sh
# Installs SSSD (Debian's sssd-ldap + libnss-sss) for the NSS benchmark (benches/nss.rs)
# without letting it change the machine: no service is started (policy-rc.d), and
# /etc/nsswitch.conf, /etc/pam.d and everything else the packages' scripts edit in
# /etc are backed up first and put back byte for byte afterwards (checked with
# sha256sum). The benchmark runs sssd privately, in a mount namespace with its own
# sssd.conf, database and memcache directory; nothing here configures it.
#
#     sudo scripts/bench-setup.sh          # install (once)
#
# Not part of scripts/test-all.sh on purpose: the test suite must not edit the host.
set -eu

if [ "$(id -u)" != 0 ]; then
    echo "bench-setup: run as root" >&2
    exit 1
fi
if [ -x /usr/sbin/sssd ] && ls /usr/lib/*/libnss_sss.so.2 >/dev/null 2>&1; then
    echo "bench-setup: sssd and libnss-sss already installed"
    exit 0
fi

backup=$(mktemp -d /var/tmp/bench-setup.XXXXXX)
stamp="$backup/stamp"
touch "$stamp"
sleep 1
# Everything under /etc, with owners and modes, and its checksums.
tar -C / -cpf "$backup/etc.tar" etc
(cd / && find etc -type f -print0 | sort -z | xargs -0 sha256sum) >"$backup/etc.sha256"
# The files that matter most, checked separately and loudly.
cp -a /etc/nsswitch.conf "$backup/nsswitch.conf"
before_nss=$(sha256sum </etc/nsswitch.conf)
before_pam=$(cd /etc/pam.d && find . -type f -print0 | sort -z | xargs -0 sha256sum)

made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
fi
restore_policy() { [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d; }
trap restore_policy EXIT

DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    sssd-ldap libnss-sss sssd-common

# What the packages' scripts changed in /etc (new files are theirs and stay, unless
# they are PAM or NSS configuration).
echo "bench-setup: files under /etc changed by the install:"
find /etc -newer "$stamp" -type f | sed 's/^/  /'

# Put back every file that existed before, byte for byte, owner and mode included.
changed=$(cd / && sha256sum --quiet -c "$backup/etc.sha256" 2>/dev/null | sed 's/: .*//' || true)
for f in $changed; do
    tar -C / -xpf "$backup/etc.tar" "$f"
    echo "  restored /$f"
done
# PAM service files the packages added (sssd-shadowutils, pam-auth-update profiles)
# are removed again: the host's /etc/pam.d stays as it was.
(cd /etc/pam.d && find . -type f -print) | while read -r f; do
    if ! tar -tf "$backup/etc.tar" "etc/pam.d/${f#./}" >/dev/null 2>&1; then
        rm -f "/etc/pam.d/${f#./}"
        echo "  removed /etc/pam.d/${f#./} (added by the packages)"
    fi
done

after_nss=$(sha256sum </etc/nsswitch.conf)
after_pam=$(cd /etc/pam.d && find . -type f -print0 | sort -z | xargs -0 sha256sum)
if [ "$before_nss" != "$after_nss" ] || [ "$before_pam" != "$after_pam" ]; then
    echo "bench-setup: /etc/nsswitch.conf or /etc/pam.d differ from the backup in $backup" >&2
    exit 1
fi
if ! (cd / && sha256sum --quiet -c "$backup/etc.sha256"); then
    echo "bench-setup: some /etc files differ from the backup in $backup" >&2
    exit 1
fi
# The packages may have started nothing (policy-rc.d), but make sure.
if pgrep -x sssd >/dev/null 2>&1; then
    echo "bench-setup: an sssd is running; the benchmark starts its own" >&2
fi
echo "bench-setup: sssd installed; /etc/nsswitch.conf and /etc/pam.d unchanged (sha256 checked; backup in $backup)"
