#!/usr/bin/env bash
# Installs the C library where C builds find it:
#   $LIBDIR/libproxid.so.<version>, with libproxid.so.<abi> (the SONAME) and
#   libproxid.so symlinks; $LIBDIR/libproxid.a; $INCLUDEDIR/proxid.h;
#   $LIBDIR/pkgconfig/proxid.pc.
# And the host's NSS provider: the daemon as $SBINDIR/proxidd, its systemd unit as
# $SYSTEMDUNITDIR/proxidd.service, and the glibc NSS module as
# $NSSLIBDIR/libnss_proxid.so.2 (the multiarch library directory). nsswitch.conf is
# never edited: the two lines to add are printed. The PAM module as
# $PAMDIR/pam_proxid.so (default /lib/<multiarch>/security; /etc/pam.d is never edited).
#
#   PREFIX=/usr/local scripts/install.sh            # the default PREFIX
#   PREFIX=/usr DESTDIR=/tmp/stage scripts/install.sh   # staged, for packaging
#
# LIBDIR (default $PREFIX/lib), INCLUDEDIR (default $PREFIX/include), SBINDIR (default
# $PREFIX/sbin), NSSLIBDIR (default $PREFIX/lib/<multiarch>) and SYSTEMDUNITDIR
# (default $PREFIX/lib/systemd/system) may be set too. Everything is built with
# `cargo build --release` unless PROXID_LIB_DIR names a directory that already holds
# libproxid.so and libproxid.a (then proxidd and libnss_proxid.so are installed when
# that directory holds them too).
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
DESTDIR=${DESTDIR:-}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
[ -n "$multiarch" ] || multiarch="$(uname -m)-linux-gnu"
NSSLIBDIR=${NSSLIBDIR:-$PREFIX/lib/$multiarch}
SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}

version=$(sed -n 's/^#define PROXID_VERSION "\(.*\)"$/\1/p' include/proxid.h)
abi=$(sed -n 's/^#define PROXID_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/proxid.h)
if [ -z "$version" ] || [ -z "$abi" ]; then
    echo "install.sh: no PROXID_VERSION / PROXID_ABI_VERSION in include/proxid.h" >&2
    exit 1
fi

if [ -z "${PROXID_LIB_DIR:-}" ]; then
    # The whole workspace: libproxid, proxidd and libnss_proxid.so.
    cargo build --release
    PROXID_LIB_DIR=${CARGO_TARGET_DIR:-target}/release
fi
for f in libproxid.so libproxid.a; do
    [ -f "$PROXID_LIB_DIR/$f" ] || { echo "install.sh: $PROXID_LIB_DIR/$f not found" >&2; exit 1; }
done

install -d "$DESTDIR$LIBDIR/pkgconfig" "$DESTDIR$INCLUDEDIR"
install -m 755 "$PROXID_LIB_DIR/libproxid.so" "$DESTDIR$LIBDIR/libproxid.so.$version"
ln -sfn "libproxid.so.$version" "$DESTDIR$LIBDIR/libproxid.so.$abi"
ln -sfn "libproxid.so.$abi" "$DESTDIR$LIBDIR/libproxid.so"
install -m 644 "$PROXID_LIB_DIR/libproxid.a" "$DESTDIR$LIBDIR/libproxid.a"
install -m 644 include/proxid.h "$DESTDIR$INCLUDEDIR/proxid.h"
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@LIBDIR@|$LIBDIR|g" \
    -e "s|@INCLUDEDIR@|$INCLUDEDIR|g" -e "s|@VERSION@|$version|g" \
    scripts/proxid.pc.in > "$DESTDIR$LIBDIR/pkgconfig/proxid.pc"
chmod 644 "$DESTDIR$LIBDIR/pkgconfig/proxid.pc"
echo "installed libproxid $version (ABI $abi) into $DESTDIR$PREFIX"

if [ -f "$PROXID_LIB_DIR/proxidd" ] && [ -f "$PROXID_LIB_DIR/libnss_proxid.so" ]; then
    install -d "$DESTDIR$SBINDIR" "$DESTDIR$NSSLIBDIR" "$DESTDIR$SYSTEMDUNITDIR"
    install -m 755 "$PROXID_LIB_DIR/proxidd" "$DESTDIR$SBINDIR/proxidd"
    install -m 644 "$PROXID_LIB_DIR/libnss_proxid.so" "$DESTDIR$NSSLIBDIR/libnss_proxid.so.2"
    sed -e "s|@SBINDIR@|$SBINDIR|g" dist/proxidd.service > "$DESTDIR$SYSTEMDUNITDIR/proxidd.service"
    chmod 644 "$DESTDIR$SYSTEMDUNITDIR/proxidd.service"
    echo "installed proxidd into $DESTDIR$SBINDIR, libnss_proxid.so.2 into $DESTDIR$NSSLIBDIR,"
    echo "proxidd.service into $DESTDIR$SYSTEMDUNITDIR"
    echo "To serve the host's users and groups: set [resolution] mode = \"server\" in"
    echo "/etc/proxid.conf, run \`systemctl daemon-reload && systemctl enable --now proxidd\`"
    case "$NSSLIBDIR" in
        /lib/*|/usr/lib/*) ;;
        *) echo "and \`ldconfig\` (so glibc finds $NSSLIBDIR/libnss_proxid.so.2)," ;;
    esac
    echo "then add proxid to these two lines of /etc/nsswitch.conf (not edited here):"
    echo "passwd: files proxid"
    echo "group: files proxid"
else
    echo "install.sh: no proxidd / libnss_proxid.so in $PROXID_LIB_DIR; NSS daemon and module not installed"
fi

# The PAM module goes where libpam looks, whatever PREFIX says (PAMDIR may be set).
PAMDIR=${PAMDIR:-/lib/$multiarch/security}
if [ -f "$PROXID_LIB_DIR/libpam_proxid.so" ]; then
    install -d "$DESTDIR$PAMDIR"
    install -m 644 "$PROXID_LIB_DIR/libpam_proxid.so" "$DESTDIR$PAMDIR/pam_proxid.so"
    echo "installed pam_proxid.so into $DESTDIR$PAMDIR; no file under /etc/pam.d was"
    echo "changed (README: \"PAM module\" has the lines for a JupyterHub host and for launchers)"
else
    echo "install.sh: no libpam_proxid.so in $PROXID_LIB_DIR; PAM module not installed"
fi
