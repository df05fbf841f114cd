#!/usr/bin/env bash
# Installs proxid: the C library where C builds find it, the command line with its man
# pages and shell completions, and the host integration (daemon, NSS and PAM modules):
#   $LIBDIR/libproxid.so.<version>, with libproxid.so.<abi> (the SONAME) and
#   libproxid.so symlinks; $LIBDIR/libproxid.a; $INCLUDEDIR/proxid.h;
#   $LIBDIR/pkgconfig/proxid.pc;
#   $BINDIR/proxid; $MANDIR/man1/proxid.1 and proxid-<command>.1;
#   $DATADIR/bash-completion/completions/proxid, $DATADIR/zsh/<dir>/_proxid
#   (vendor-completions for PREFIX=/usr, as Debian's zsh looks there, else
#   site-functions), $DATADIR/fish/vendor_completions.d/proxid.fish;
#   $SBINDIR/proxidd with $MANDIR/man8/proxidd.8, its systemd unit as $SYSTEMDUNITDIR/proxidd.service, the glibc
#   NSS module as $NSSLIBDIR/libnss_proxid.so.2 (the multiarch library directory), and
#   the PAM module as $PAMDIR/pam_proxid.so (default /lib/<multiarch>/security).
# /etc/nsswitch.conf and /etc/pam.d are never edited: the lines to add are printed.
#
#   PREFIX=/usr/local scripts/install.sh            # the default PREFIX
#   PREFIX=/usr DESTDIR=/tmp/stage scripts/install.sh   # staged, for packaging
#
# LIBDIR (default $PREFIX/lib), INCLUDEDIR ($PREFIX/include), BINDIR ($PREFIX/bin),
# SBINDIR ($PREFIX/sbin), DATADIR ($PREFIX/share), MANDIR ($DATADIR/man), NSSLIBDIR
# ($PREFIX/lib/<multiarch>), SYSTEMDUNITDIR ($PREFIX/lib/systemd/system) and PAMDIR
# may be set too. Everything is built with `cargo build --release` (the whole
# workspace; build.rs writes the man pages and completions into target/release/man and
# target/release/completions) unless PROXID_LIB_DIR names a directory that already
# holds libproxid.so and libproxid.a; the command line is then taken from
# PROXID_BIN_DIR (default PROXID_LIB_DIR). Pieces other than the library are left out,
# with a note, when that directory does not hold them; with PROXID_REQUIRE_ALL=1 (the
# Debian package) every piece must be there.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
BINDIR=${BINDIR:-$PREFIX/bin}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
DATADIR=${DATADIR:-$PREFIX/share}
MANDIR=${MANDIR:-$DATADIR/man}
if [ "$PREFIX" = /usr ]; then zsh_dir=vendor-completions; else zsh_dir=site-functions; fi
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
[ -n "$multiarch" ] || multiarch="$(uname -m)-linux-gnu"
NSSLIBDIR=${NSSLIBDIR:-$PREFIX/lib/$multiarch}
SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}
# The PAM module goes where libpam looks, whatever PREFIX says.
PAMDIR=${PAMDIR:-/lib/$multiarch/security}
DESTDIR=${DESTDIR:-}

version=$(sed -n 's/^#define PROXID_VERSION "\(.*\)"$/\1/p' include/proxid.h)
abi=$(sed -n 's/^#define PROXID_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/proxid.h)
if [ -z "$version" ] || [ -z "$abi" ]; then
    echo "install.sh: no PROXID_VERSION / PROXID_ABI_VERSION in include/proxid.h" >&2
    exit 1
fi

if [ -z "${PROXID_LIB_DIR:-}" ]; then
    cargo build --release
    PROXID_LIB_DIR=${CARGO_TARGET_DIR:-target}/release
fi
PROXID_BIN_DIR=${PROXID_BIN_DIR:-$PROXID_LIB_DIR}
for f in libproxid.so libproxid.a; do
    [ -f "$PROXID_LIB_DIR/$f" ] || { echo "install.sh: $PROXID_LIB_DIR/$f not found" >&2; exit 1; }
done

# missing WHAT: a piece that was not built: a note, or an error for the package.
missing() {
    if [ "${PROXID_REQUIRE_ALL:-}" = 1 ]; then
        echo "install.sh: $1 not found (build it first)" >&2
        exit 1
    fi
    echo "install.sh: $1 not found: not installed"
}

install -d "$DESTDIR$LIBDIR/pkgconfig" "$DESTDIR$INCLUDEDIR"
install -m 644 "$PROXID_LIB_DIR/libproxid.so" "$DESTDIR$LIBDIR/libproxid.so.$version"
ln -sfn "libproxid.so.$version" "$DESTDIR$LIBDIR/libproxid.so.$abi"
ln -sfn "libproxid.so.$abi" "$DESTDIR$LIBDIR/libproxid.so"
install -m 644 "$PROXID_LIB_DIR/libproxid.a" "$DESTDIR$LIBDIR/libproxid.a"
install -m 644 include/proxid.h "$DESTDIR$INCLUDEDIR/proxid.h"
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@LIBDIR@|$LIBDIR|g" \
    -e "s|@INCLUDEDIR@|$INCLUDEDIR|g" -e "s|@VERSION@|$version|g" \
    scripts/proxid.pc.in > "$DESTDIR$LIBDIR/pkgconfig/proxid.pc"
chmod 644 "$DESTDIR$LIBDIR/pkgconfig/proxid.pc"
echo "installed libproxid $version (ABI $abi) into $DESTDIR$PREFIX"

# The command line, its man pages and completions.
if [ -x "$PROXID_BIN_DIR/proxid" ]; then
    for d in man completions; do
        [ -d "$PROXID_BIN_DIR/$d" ] || { echo "install.sh: $PROXID_BIN_DIR/$d not found (build.rs writes it)" >&2; exit 1; }
    done
    install -d "$DESTDIR$BINDIR" "$DESTDIR$MANDIR/man1" \
        "$DESTDIR$DATADIR/bash-completion/completions" "$DESTDIR$DATADIR/zsh/$zsh_dir" \
        "$DESTDIR$DATADIR/fish/vendor_completions.d"
    install -m 755 "$PROXID_BIN_DIR/proxid" "$DESTDIR$BINDIR/proxid"
    install -m 644 "$PROXID_BIN_DIR"/man/*.1 "$DESTDIR$MANDIR/man1/"
    install -m 644 "$PROXID_BIN_DIR/completions/proxid.bash" \
        "$DESTDIR$DATADIR/bash-completion/completions/proxid"
    install -m 644 "$PROXID_BIN_DIR/completions/_proxid" "$DESTDIR$DATADIR/zsh/$zsh_dir/_proxid"
    install -m 644 "$PROXID_BIN_DIR/completions/proxid.fish" \
        "$DESTDIR$DATADIR/fish/vendor_completions.d/proxid.fish"
    echo "installed proxid $version with its man pages and completions into $DESTDIR$PREFIX"
else
    missing "$PROXID_BIN_DIR/proxid (command line, man pages, completions)"
fi

# The daemon, its unit and the NSS module.
if [ -f "$PROXID_LIB_DIR/proxidd" ] && [ -f "$PROXID_LIB_DIR/libnss_proxid.so" ]; then
    install -d "$DESTDIR$SBINDIR" "$DESTDIR$NSSLIBDIR" "$DESTDIR$SYSTEMDUNITDIR"
    install -m 755 "$PROXID_LIB_DIR/proxidd" "$DESTDIR$SBINDIR/proxidd"
    install -D -m 644 dist/proxidd.8 "$DESTDIR$MANDIR/man8/proxidd.8"
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
    missing "proxidd / libnss_proxid.so in $PROXID_LIB_DIR (NSS daemon and module)"
fi

# The PAM module.
if [ -f "$PROXID_LIB_DIR/libpam_proxid.so" ]; then
    install -d "$DESTDIR$PAMDIR"
    install -m 644 "$PROXID_LIB_DIR/libpam_proxid.so" "$DESTDIR$PAMDIR/pam_proxid.so"
    echo "installed pam_proxid.so into $DESTDIR$PAMDIR; no file under /etc/pam.d was"
    echo "changed (README: \"PAM module\" has the lines for a JupyterHub host and for launchers)"
else
    missing "libpam_proxid.so in $PROXID_LIB_DIR (PAM module)"
fi
