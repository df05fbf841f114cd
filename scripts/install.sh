#!/usr/bin/env bash
# Installs the C library where C builds find it, and the command line with its man
# pages and shell completions:
#   $LIBDIR/libproxid.so.<version>, with libproxid.so.<abi> (the SONAME) and
#   libproxid.so symlinks; $LIBDIR/libproxid.a; $INCLUDEDIR/proxid.h;
#   $LIBDIR/pkgconfig/proxid.pc;
#   $BINDIR/proxid; $MANDIR/man1/proxid.1 and proxid-<command>.1;
#   $DATADIR/bash-completion/completions/proxid, $DATADIR/zsh/<dir>/_proxid
#   (vendor-completions for PREFIX=/usr, as Debian's zsh looks there, else
#   site-functions), $DATADIR/fish/vendor_completions.d/proxid.fish.
#
#   PREFIX=/usr/local scripts/install.sh            # the default PREFIX
#   PREFIX=/usr DESTDIR=/tmp/stage scripts/install.sh   # staged, for packaging
#
# LIBDIR (default $PREFIX/lib), INCLUDEDIR ($PREFIX/include), BINDIR ($PREFIX/bin),
# DATADIR ($PREFIX/share) and MANDIR ($DATADIR/man) may be set too.
# Everything is built with `cargo build --release --lib --bin proxid` (which writes the
# man pages and completions into target/release/man and target/release/completions)
# unless PROXID_LIB_DIR names a directory that already holds libproxid.so and
# libproxid.a; the command line is then taken from PROXID_BIN_DIR (default
# PROXID_LIB_DIR), and left out, with a note, when that holds no `proxid`. With
# PROXID_REQUIRE_ALL=1 (the Debian package) every piece must be there.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
BINDIR=${BINDIR:-$PREFIX/bin}
DATADIR=${DATADIR:-$PREFIX/share}
MANDIR=${MANDIR:-$DATADIR/man}
if [ "$PREFIX" = /usr ]; then zsh_dir=vendor-completions; else zsh_dir=site-functions; fi
DESTDIR=${DESTDIR:-}

version=$(sed -n 's/^#define PROXID_VERSION "\(.*\)"$/\1/p' include/proxid.h)
abi=$(sed -n 's/^#define PROXID_ABI_VERSION \([0-9][0-9]*\)$/\1/p' include/proxid.h)
if [ -z "$version" ] || [ -z "$abi" ]; then
    echo "install.sh: no PROXID_VERSION / PROXID_ABI_VERSION in include/proxid.h" >&2
    exit 1
fi

if [ -z "${PROXID_LIB_DIR:-}" ]; then
    cargo build --release --lib --bin proxid
    PROXID_LIB_DIR=${CARGO_TARGET_DIR:-target}/release
fi
PROXID_BIN_DIR=${PROXID_BIN_DIR:-$PROXID_LIB_DIR}
for f in libproxid.so libproxid.a; do
    [ -f "$PROXID_LIB_DIR/$f" ] || { echo "install.sh: $PROXID_LIB_DIR/$f not found" >&2; exit 1; }
done

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

if [ ! -x "$PROXID_BIN_DIR/proxid" ]; then
    if [ "${PROXID_REQUIRE_ALL:-}" = 1 ]; then
        echo "install.sh: no $PROXID_BIN_DIR/proxid (build it first)" >&2
        exit 1
    fi
    echo "install.sh: no $PROXID_BIN_DIR/proxid: command line, man pages and completions not installed (set PROXID_BIN_DIR)"
    exit 0
fi
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
