#!/usr/bin/env bash
# Installs proxid where C builds, shells and the system find it:
#   $LIBDIR/libproxid.so.<version>, with libproxid.so.<abi> (the SONAME) and
#   libproxid.so symlinks; $LIBDIR/libproxid.a; $INCLUDEDIR/proxid.h;
#   $LIBDIR/pkgconfig/proxid.pc; $BINDIR/proxid (the command line).
#
#   PREFIX=/usr/local scripts/install.sh            # the default PREFIX
#   PREFIX=/usr DESTDIR=/tmp/stage scripts/install.sh   # staged, for packaging
#
# LIBDIR (default $PREFIX/lib), INCLUDEDIR ($PREFIX/include) and BINDIR ($PREFIX/bin)
# may be set too. Everything is built with `cargo build --release` unless
# PROXID_LIB_DIR names a build directory that already holds libproxid.so and
# libproxid.a. Pieces other than the library (the CLI, and the host integration as it
# is added) are installed when that directory holds them; with PROXID_REQUIRE_ALL=1
# (the Debian package) a missing piece is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
BINDIR=${BINDIR:-$PREFIX/bin}
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
for f in libproxid.so libproxid.a; do
    [ -f "$PROXID_LIB_DIR/$f" ] || { echo "install.sh: $PROXID_LIB_DIR/$f not found" >&2; exit 1; }
done

# optional MODE SOURCE DEST: installs SOURCE when it was built (required with
# PROXID_REQUIRE_ALL=1), creating DEST's directory.
optional() {
    local mode=$1 src=$2 dest=$3
    if [ ! -e "$src" ]; then
        if [ "${PROXID_REQUIRE_ALL:-}" = 1 ]; then
            echo "install.sh: $src not found (build it first)" >&2
            exit 1
        fi
        return 0
    fi
    install -d "$(dirname "$DESTDIR$dest")"
    install -m "$mode" "$src" "$DESTDIR$dest"
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

# One line per piece beyond the C library.
optional 755 "$PROXID_LIB_DIR/proxid" "$BINDIR/proxid"

echo "installed proxid $version (ABI $abi) into $DESTDIR$PREFIX"
